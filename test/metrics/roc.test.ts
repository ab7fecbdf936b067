import { describe, expect, it } from 'vitest';
import { advantage, auc, rocCurve, tprAtFpr } from '../../src/metrics/index.ts';
import { oracle } from './oracle.ts';

describe('rocCurve', () => {
  it('matches sklearn roc_curve(drop_intermediate=False) on a small tied example', () => {
    // sklearn: y=[1,1,0,1,0,0], s=[0.9,0.8,0.8,0.4,0.4,0.1]
    const r = rocCurve([0.9, 0.8, 0.4], [0.8, 0.4, 0.1]);
    expect(r.thresholds).toEqual([Infinity, 0.9, 0.8, 0.4, 0.1]);
    expect(r.tpr).toEqual([0, 1 / 3, 2 / 3, 1, 1]);
    expect(r.fpr).toEqual([0, 0, 1 / 3, 2 / 3, 1]);
  });

  it('groups 0 and -0 as one threshold, like numpy', () => {
    const r = rocCurve([0, 1], [-0, -1]);
    expect(r.thresholds.length).toBe(4);
  });

  it('ends at (1, 1) and is monotone', () => {
    const c = oracle.membership[0]!;
    const r = rocCurve(c.positives, c.negatives);
    expect(r.fpr.at(-1)).toBe(1);
    expect(r.tpr.at(-1)).toBe(1);
    for (let i = 1; i < r.fpr.length; i++) {
      expect(r.fpr[i]!).toBeGreaterThanOrEqual(r.fpr[i - 1]!);
      expect(r.tpr[i]!).toBeGreaterThanOrEqual(r.tpr[i - 1]!);
      expect(r.thresholds[i]!).toBeLessThan(r.thresholds[i - 1]!);
    }
  });
});

describe('auc', () => {
  it('jax-vs-sklearn example: in=[0,4,6,7], out=[1,2,3,5] gives 11/16', () => {
    expect(auc([0, 4, 6, 7], [1, 2, 3, 5])).toBe(11 / 16);
  });

  it('counts ties as one half', () => {
    expect(auc([1], [1])).toBe(0.5);
    expect(auc([1, 2], [1, 1])).toBe(0.75);
  });

  it.each(oracle.membership)('is antisymmetric on $name: auc(pos,neg) = 1 − auc(neg,pos)', (c) => {
    expect(auc(c.positives, c.negatives) + auc(c.negatives, c.positives)).toBeCloseTo(1, 12);
  });

  it('equals the O(n²) pair count on the tied oracle case', () => {
    const c = oracle.membership.find((m) => m.name === 'ties-grid') ?? oracle.membership[0]!;
    let u = 0;
    for (const p of c.positives) for (const q of c.negatives) u += p > q ? 1 : p === q ? 0.5 : 0;
    expect(auc(c.positives, c.negatives)).toBeCloseTo(u / (c.positives.length * c.negatives.length), 12);
  });

  it('accepts typed arrays', () => {
    expect(auc(Float64Array.of(0, 4, 6, 7), Float32Array.of(1, 2, 3, 5))).toBe(11 / 16);
  });
});

describe('tprAtFpr and advantage', () => {
  it('tprAtFpr takes the best point with FPR <= x, including the (0,0) start', () => {
    const pos = [0.9, 0.8, 0.4];
    const neg = [0.8, 0.4, 0.1];
    expect(tprAtFpr(pos, neg, 0)).toBeCloseTo(1 / 3, 15);
    expect(tprAtFpr(pos, neg, 1 / 3)).toBeCloseTo(2 / 3, 15);
    expect(tprAtFpr(pos, neg, 0.5)).toBeCloseTo(2 / 3, 15);
    expect(tprAtFpr(pos, neg, 1)).toBe(1);
    expect(tprAtFpr([0], [1], 0)).toBe(0);
  });

  it('advantage is max(TPR − FPR), never negative', () => {
    expect(advantage([0.9, 0.8, 0.4], [0.8, 0.4, 0.1])).toBeCloseTo(1 / 3, 15);
    expect(advantage([0, 1], [2, 3])).toBe(0);
    expect(advantage([2, 3], [0, 1])).toBe(1);
  });
});

describe('input validation', () => {
  it('throws a plain Error on empty input or NaN', () => {
    expect(() => auc([], [1])).toThrow(Error);
    expect(() => auc([1], [])).toThrow(Error);
    expect(() => auc([1, NaN], [0])).toThrow(/not a number/);
    expect(() => rocCurve([1], [NaN])).toThrow(Error);
    expect(() => tprAtFpr([1], [0], 1.5)).toThrow(Error);
  });
});
