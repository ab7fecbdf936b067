import { describe, expect, it } from 'vitest';
import { advantage, auc, clopperPearson, ks2samp, membershipMetrics, tprAtFpr } from '../../src/metrics/index.ts';
import { oracle, relErr } from './oracle.ts';

describe('metrics oracle (scikit-learn / SciPy reference values)', () => {
  it('has cases', () => {
    expect(oracle.membership.length).toBeGreaterThan(0);
    expect(oracle.clopperPearson.length).toBeGreaterThan(0);
  });

  describe.each(oracle.membership)('$name', (c) => {
    const { positives: pos, negatives: neg, expected } = c;

    it('AUC to 1e-9', () => {
      expect(Math.abs(auc(pos, neg) - expected.auc)).toBeLessThanOrEqual(1e-9);
    });

    it('TPR at each FPR to 1e-9', () => {
      for (const [x, want] of Object.entries(expected.tprAtFpr)) {
        expect(Math.abs(tprAtFpr(pos, neg, Number(x)) - want), `FPR ${x}`).toBeLessThanOrEqual(1e-9);
      }
    });

    it('advantage to 1e-9', () => {
      expect(Math.abs(advantage(pos, neg) - expected.advantage)).toBeLessThanOrEqual(1e-9);
    });

    it('KS statistic to 1e-9, p-value to 1e-6 relative', () => {
      const r = ks2samp(pos, neg);
      expect(Math.abs(r.statistic - expected.ks.statistic)).toBeLessThanOrEqual(1e-9);
      expect(relErr(r.pvalue, expected.ks.pvalue)).toBeLessThanOrEqual(1e-6);
    });

    it('membershipMetrics point values agree with the oracle', () => {
      const m = membershipMetrics(pos, neg, { seed: 7, iterations: 50 });
      expect(m.n).toEqual({ positive: pos.length, negative: neg.length });
      expect(Math.abs(m.auc.value - expected.auc)).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(m.advantage.value - expected.advantage)).toBeLessThanOrEqual(1e-9);
      for (const [x, want] of Object.entries(expected.tprAtFpr)) {
        expect(Math.abs((m.tprAtFpr[x]?.value ?? NaN) - want), `FPR ${x}`).toBeLessThanOrEqual(1e-9);
      }
      expect(relErr(m.ks.pvalue, expected.ks.pvalue)).toBeLessThanOrEqual(1e-6);
    });
  });

  it.each(oracle.clopperPearson)('Clopper–Pearson k=$k n=$n level=$level to 1e-9', (c) => {
    const r = clopperPearson(c.k, c.n, c.level);
    expect(Math.abs(r.lo - c.lo)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(r.hi - c.hi)).toBeLessThanOrEqual(1e-9);
  });
});
