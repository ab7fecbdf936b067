import { describe, expect, it } from 'vitest';
import { unsafeUniformIntDistribution } from 'pure-rand';
import {
  advantage,
  auc,
  bootstrapMembership,
  membershipMetrics,
  quantile,
  seededRng,
  tprAtFpr,
} from '../../src/metrics/index.ts';
import { oracle } from './oracle.ts';

const normalCase = oracle.membership.find((c) => c.name.startsWith('gauss-shift1.0')) ?? oracle.membership[0]!;

describe('quantile (numpy linear)', () => {
  it('matches numpy.quantile', () => {
    const s = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.3].sort((a, b) => a - b);
    expect(quantile(s, 0.025)).toBe(1.075);
    expect(quantile(s, 0.975)).toBe(8.444999999999999);
    expect(quantile(s, 0.5)).toBe(3.0);
    expect(quantile(s, 0.1)).toBe(1.3);
    const r = Array.from({ length: 1000 }, (_, i) => i / 7);
    expect(quantile(r, 0.025)).toBe(3.567857142857143);
    expect(quantile(r, 0.975)).toBe(139.14642857142857);
    expect(quantile([5], 0.3)).toBe(5);
    expect(quantile(s, 0)).toBe(1);
    expect(quantile(s, 1)).toBe(9);
  });
});

describe('bootstrapMembership', () => {
  const { positives: pos, negatives: neg } = normalCase;

  it('is deterministic for a seed and changes with the seed', () => {
    const a = bootstrapMembership(pos, neg, { seed: 42, iterations: 200 });
    const b = bootstrapMembership(pos, neg, { seed: 42, iterations: 200 });
    const c = bootstrapMembership(pos, neg, { seed: 43, iterations: 200 });
    expect(b).toEqual(a);
    expect(Object.is(a.auc.lo, b.auc.lo) && Object.is(a.auc.hi, b.auc.hi)).toBe(true);
    expect(c.auc).not.toEqual(a.auc);
  });

  it('equals a naive bootstrap (resample arrays, recompute from scratch) with the same draws', () => {
    const c = oracle.membership.find((m) => m.name === 'ties-grid') ?? normalCase;
    const iterations = 40;
    const fast = bootstrapMembership(c.positives, c.negatives, { seed: 11, iterations, level: 0.9 });
    const rng = seededRng(11);
    const draw = (xs: number[]): number[] => xs.map(() => xs[unsafeUniformIntDistribution(0, xs.length - 1, rng)]!);
    const aucs: number[] = [];
    const advs: number[] = [];
    const tprs: Record<string, number[]> = { '0.001': [], '0.01': [], '0.1': [] };
    for (let i = 0; i < iterations; i++) {
      const p = draw(c.positives);
      const n = draw(c.negatives);
      aucs.push(auc(p, n));
      advs.push(advantage(p, n));
      for (const k of Object.keys(tprs)) tprs[k]!.push(tprAtFpr(p, n, Number(k)));
    }
    const ci = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { lo: quantile(s, 0.05), hi: quantile(s, 0.95) };
    };
    expect(fast.auc.lo).toBeCloseTo(ci(aucs).lo, 12);
    expect(fast.auc.hi).toBeCloseTo(ci(aucs).hi, 12);
    expect(fast.advantage).toEqual(ci(advs));
    for (const k of Object.keys(tprs)) expect(fast.tprAtFpr[k]).toEqual(ci(tprs[k]!));
  });

  it('uses the high bits of large seeds', () => {
    expect(seededRng(5).getState()).not.toEqual(seededRng(5 + 2 ** 32).getState());
  });

  it('gives intervals that contain the point estimates for a clear normal shift', () => {
    const m = membershipMetrics(pos, neg, { seed: 1, iterations: 500 });
    for (const e of [m.auc, m.advantage, m.tprAtFpr['0.1']!]) {
      expect(e.lo).toBeLessThanOrEqual(e.value);
      expect(e.hi).toBeGreaterThanOrEqual(e.value);
      expect(e.lo).toBeLessThan(e.hi);
    }
    expect(m.auc.lo).toBeGreaterThan(0.5);
  });

  it('keys TPR@FPR by the FPR, with the default caps', () => {
    const r = bootstrapMembership(pos, neg, { seed: 3, iterations: 20 });
    expect(Object.keys(r.tprAtFpr)).toEqual(['0.001', '0.01', '0.1']);
    expect(r.iterations).toBe(20);
    expect(r.level).toBe(0.95);
    const custom = bootstrapMembership(pos, neg, { seed: 3, iterations: 20, fprs: [0.05] });
    expect(Object.keys(custom.tprAtFpr)).toEqual(['0.05']);
  });

  it('a wider level gives a wider interval', () => {
    const narrow = bootstrapMembership(pos, neg, { seed: 9, iterations: 300, level: 0.5 });
    const wide = bootstrapMembership(pos, neg, { seed: 9, iterations: 300, level: 0.99 });
    expect(wide.auc.lo).toBeLessThanOrEqual(narrow.auc.lo);
    expect(wide.auc.hi).toBeGreaterThanOrEqual(narrow.auc.hi);
  });

  it('rejects bad options', () => {
    expect(() => bootstrapMembership(pos, neg, { seed: 1.5 })).toThrow(Error);
    expect(() => bootstrapMembership(pos, neg, { seed: 1, iterations: 0 })).toThrow(Error);
    expect(() => bootstrapMembership(pos, neg, { seed: 1, level: 1 })).toThrow(Error);
  });
});

describe('membershipMetrics', () => {
  it('has the documented shape', () => {
    const m = membershipMetrics([0, 4, 6, 7], [1, 2, 3, 5], { seed: 0, iterations: 100 });
    expect(m.n).toEqual({ positive: 4, negative: 4 });
    expect(m.auc.value).toBe(11 / 16);
    expect(Object.keys(m.tprAtFpr)).toEqual(['0.001', '0.01', '0.1']);
    for (const e of [m.auc, m.advantage, ...Object.values(m.tprAtFpr)]) {
      expect(Object.keys(e).sort()).toEqual(['hi', 'lo', 'value']);
    }
    expect(Object.keys(m.ks).sort()).toEqual(['pvalue', 'statistic']);
  });

  it('throws a plain Error on an empty side or a NaN score', () => {
    expect(() => membershipMetrics([], [1], { seed: 1 })).toThrow(Error);
    expect(() => membershipMetrics([1], [], { seed: 1 })).toThrow(Error);
    expect(() => membershipMetrics([1, NaN], [0], { seed: 1 })).toThrow(/not a number/);
    expect(() => membershipMetrics([1], [0, NaN], { seed: 1 })).toThrow(/not a number/);
  });
});
