import { describe, expect, it } from 'vitest';
import { advantage, auc, rocCurve, tprAtFpr } from '../../src/metrics/index.ts';
import { maxFpCount, summarizeCounts } from '../../src/metrics/roc.ts';
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

describe('summarizeCounts (the bootstrap’s inner pass)', () => {
  // The pass as first written, one division per point: the shortcuts must not change a bit.
  function plain(posCount: Int32Array, negCount: Int32Array, nPos: number, nNeg: number, maxFp: Int32Array) {
    let tp = 0;
    let fp = 0;
    let twiceU = 0;
    let adv = 0;
    const tpr = new Float64Array(maxFp.length);
    for (let g = 0; g < posCount.length; g++) {
      const cp = posCount[g]!;
      const cn = negCount[g]!;
      if (cp === 0 && cn === 0) continue;
      twiceU += cp * (2 * (nNeg - fp - cn) + cn);
      tp += cp;
      fp += cn;
      const d = tp / nPos - fp / nNeg;
      if (d > adv) adv = d;
      for (let j = 0; j < maxFp.length; j++) if (fp <= maxFp[j]!) tpr[j] = tp / nPos;
    }
    return { auc: twiceU / (2 * nPos * nNeg), advantage: adv, tpr };
  }

  it('equals the plain per-point pass bit for bit: empty groups, ties, n⁺ = n⁻, no positives', () => {
    let s = 12345;
    const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 3000; trial++) {
      const groups = 1 + Math.floor(r() * (trial % 7 === 0 ? 2000 : 60));
      const dense = r();
      const posCount = new Int32Array(groups);
      const negCount = new Int32Array(groups);
      for (let g = 0; g < groups; g++) {
        if (r() < dense) posCount[g] = Math.floor(r() * 3);
        if (r() < dense) negCount[g] = Math.floor(r() * 3);
      }
      // n⁺ = n⁻ with the same counts: many points share TPR − FPR exactly
      if (trial % 13 === 0) negCount.set(posCount);
      const nPos = posCount.reduce((a, b) => a + b, 0);
      const nNeg = negCount.reduce((a, b) => a + b, 0);
      const maxFp = Int32Array.from([0.001, 0.01, 0.1, 0.5, r()].slice(0, 1 + (trial % 5)), (x) => maxFpCount(x, nNeg));
      const want = plain(posCount, negCount, nPos, nNeg, maxFp);
      const got = summarizeCounts(posCount, negCount, nPos, nNeg, maxFp);
      expect(Object.is(got.auc, want.auc) && Object.is(got.advantage, want.advantage) && got.tpr.every((x, i) => Object.is(x, want.tpr[i]))).toBe(true);
    }
  });
});
