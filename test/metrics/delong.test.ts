/**
 * Clustered DeLong (Obuchowski 1997) against an independent O(M·N) numpy implementation of the
 * formulas (values below were computed with numpy from the same scores), and the interval's
 * promises: inside (0, 1), never zero-width, none below MIN_PEOPLE, consistent with its p-value.
 */
import { describe, expect, it } from 'vitest';
import { aucInference, aucInterval, aucPValue, clusteredDelong, MIN_PEOPLE, pairedDelta, separationBound } from '../../src/metrics/delong.ts';

const ORACLE = {"pos": [0.53, -0.09, 0.35, -0.13, 1.15, -0.68, -0.81, 1.4, 0.36, 1.47, -0.57, -0.95, -1.5, 0.11, -0.2, -0.31, -0.65], "pc": ["p0", "p0", "p0", "p1", "p1", "p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4", "p4", "p5", "p5", "p5"], "neg": [-2.57, -2.4, -4.05, -2.99, -1.79, 0.08, -1.79, -1.01, 0.77, 0.99, 0.95, -1.15, 2.22, 1.48, 0.5], "nc": ["n0", "n0", "n0", "n0", "n1", "n1", "n1", "n1", "n2", "n2", "n2", "n3", "n4", "n4", "p0"], "auc": 0.6039215686274509, "var": 0.036942697454221976, "var_plain": 0.013565936178392926};

describe('clustered DeLong variance', () => {
  it('matches numpy on clustered scores, a person on both sides included', () => {
    const r = clusteredDelong([{ pos: ORACLE.pos, neg: ORACLE.neg }], { pos: ORACLE.pc, neg: ORACLE.nc });
    expect(r.aucs[0]).toBeCloseTo(ORACLE.auc, 12);
    expect(r.cov[0]![0]).toBeCloseTo(ORACLE.var, 12);
    expect(r.people).toEqual({ positive: 6, negative: 6 });
  });
  it('without clusters is DeLong 1988 (ddof 1 variances of the structural components)', () => {
    const r = clusteredDelong([{ pos: ORACLE.pos, neg: ORACLE.neg }]);
    expect(r.cov[0]![0]).toBeCloseTo(ORACLE.var_plain, 12);
    expect(r.people).toEqual({ positive: ORACLE.pos.length, negative: ORACLE.neg.length });
  });
  it('a model compared with itself has Δ = 0 exactly, on every resample of people', () => {
    const m = { pos: ORACLE.pos, neg: ORACLE.neg };
    const r = clusteredDelong([m, m], { pos: ORACLE.pc, neg: ORACLE.nc });
    expect(r.cov[0]![1]).toBeCloseTo(r.cov[0]![0]!, 14);
    const d = pairedDelta(r, 'difference');
    expect(d.value).toBe(0);
    expect(d.se).toBe(0);
  });
});

describe('AUC interval on the logit scale with a t quantile', () => {
  it('stays inside (0, 1), contains the estimate, and agrees with its p-value', () => {
    const r = clusteredDelong([{ pos: ORACLE.pos, neg: ORACLE.neg }], { pos: ORACLE.pc, neg: ORACLE.nc });
    const inf = aucInference(r.aucs[0]!, r.cov[0]![0]!, r.people);
    const ci = aucInterval(inf, 0.95)!;
    expect(ci.lo).toBeGreaterThan(0);
    expect(ci.hi).toBeLessThan(1);
    expect(ci.lo).toBeLessThan(inf.auc);
    expect(ci.hi).toBeGreaterThan(inf.auc);
    // the interval's lower end is where the one-sided p-value crosses 2.5%
    expect(aucPValue(inf, ci.lo, 'above')).toBeCloseTo(0.025, 10);
    expect(aucPValue(inf, ci.hi, 'below')).toBeCloseTo(0.025, 10);
  });
  it('perfect separation gives the bound the people support, not [1, 1]', () => {
    for (const [k, expected] of [[5, 0.643], [12, 0.832], [30, 0.933]] as const) {
      const pos = Array.from({ length: k }, (_, i) => 1000 + i);
      const neg = Array.from({ length: k }, (_, i) => i);
      const r = clusteredDelong([{ pos, neg }]);
      const ci = aucInterval(aucInference(r.aucs[0]!, r.cov[0]![0]!, r.people))!;
      expect(ci.hi).toBe(1);
      expect(ci.lo).toBeCloseTo(expected, 3);
      expect(ci.lo).toBe(separationBound(k, k, 1.959963984540054));
    }
  });
  it('every score tied: AUC 0.5 with a real interval', () => {
    const r = clusteredDelong([{ pos: [1, 1, 1, 1], neg: [1, 1, 1, 1] }]);
    const ci = aucInterval(aucInference(r.aucs[0]!, r.cov[0]![0]!, r.people))!;
    expect(ci.hi - ci.lo).toBeGreaterThan(0.3);
  });
  it(`no interval with fewer than ${MIN_PEOPLE} people on a side`, () => {
    const r = clusteredDelong([{ pos: [3, 2, 1], neg: [0, 0.5, 4] }], { pos: ['a', 'a', 'b'], neg: ['c', 'd', 'e'] });
    const inf = aucInference(r.aucs[0]!, r.cov[0]![0]!, r.people);
    expect(inf.estimable).toBe(false);
    expect(aucInterval(inf)).toBeNull();
    expect(Number.isNaN(aucPValue(inf, 0.6, 'above'))).toBe(true);
  });
});
