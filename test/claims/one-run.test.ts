/**
 * The one-run audit bound (Steinke, Nasr, Jagielski, NeurIPS 2023) against values computed
 * independently with scipy (test/claims/make-one-run-oracle.py) and the worked numbers of
 * ../shared/research/dp-claims.md §5.4.
 */
import { describe, expect, it } from 'vitest';
import oracle from './one-run-oracle.json' with { type: 'json' };
import { oneRunAudit, oneRunEpsilon, oneRunPValue } from '../../src/claims/dp/one-run.ts';
import { seededRng } from '../../src/metrics/bootstrap.ts';
import { unsafeUniformIntDistribution } from 'pure-rand';

describe('one-run ε lower bound', () => {
  it.each(oracle.cases.map((c) => [`m=${c.m} r=${c.r} v=${c.v} δ=${c.delta}`, c] as const))('%s matches scipy to 1e-6', (_, c) => {
    expect(oneRunEpsilon(c.m, c.r, c.v, c.delta)).toBeCloseTo(c.epsilon, 6);
    expect(oneRunEpsilon(c.m, c.r, c.v, c.delta)).toBeLessThanOrEqual(c.epsilon + 1e-9); // conservative side
    expect(Math.abs(oneRunPValue(c.m, c.r, c.v, 1, c.delta) - c.pValueAt1)).toBeLessThan(1e-9 + 1e-6 * c.pValueAt1);
  });

  it("gives the research note's worked numbers (§5.4 table, 3 decimals)", () => {
    const table: [number, number, number, number, number][] = [
      [1000, 100, 100, 0, 3.493], [1000, 100, 100, 1e-5, 3.465], [1000, 100, 90, 1e-5, 1.626], [1000, 500, 400, 1e-5, 1.198],
      [1000, 1000, 600, 1e-5, 0.297], [1000, 50, 50, 1e-5, 2.756], [1000, 200, 200, 1e-5, 4.167], [1000, 10, 10, 1e-5, 1.015], [100, 10, 10, 0, 1.052],
    ];
    for (const [m, r, v, d, e] of table) expect(Math.abs(oneRunEpsilon(m, r, v, d) - e)).toBeLessThan(1e-3);
  });

  it('is monotone in correct guesses and never exceeds the perfect attack with the same guesses', () => {
    for (const r of [20, 100, 300]) {
      let prev = -1;
      const ceiling = oneRunEpsilon(1000, r, r, 1e-5);
      for (let v = 0; v <= r; v += Math.max(1, Math.floor(r / 25))) {
        const e = oneRunEpsilon(1000, r, v, 1e-5);
        expect(e).toBeGreaterThanOrEqual(prev);
        expect(e).toBeLessThanOrEqual(ceiling);
        prev = e;
      }
    }
    // More canaries cost through the δ term: the bound cannot grow with m at fixed r, v.
    expect(oneRunEpsilon(10000, 100, 100, 1e-5)).toBeLessThanOrEqual(oneRunEpsilon(1000, 100, 100, 1e-5));
    // Chance-level guessing shows nothing.
    expect(oneRunEpsilon(1000, 500, 250, 1e-5)).toBe(0);
  });
});

describe('oneRunAudit (threshold chosen on a seeded half)', () => {
  const canaries = (m: number, separation: number, seed: number) => {
    const rng = seededRng(seed);
    const inc = Array.from({ length: m }, () => unsafeUniformIntDistribution(0, 1, rng));
    const scores = inc.map((b, i) => b * separation + ((i * 7919) % 1000) / 1000);
    return { inc, scores };
  };

  it('a perfect separation reaches the ceiling; no signal gives ~0; same seed, same answer', () => {
    const p = canaries(400, 10, 1);
    const a = oneRunAudit(p.scores, p.inc, { seed: 3, delta: 1e-5, claimedEpsilon: 1 });
    expect(a.m).toBe(200);
    expect(a.correct).toBe(a.guesses);
    expect(a.lowerBound).toBeLessThanOrEqual(a.ceiling);
    expect(a.lowerBound).toBeGreaterThan(3);
    expect(a.pValueAtClaim!).toBeLessThan(0.05);
    expect(oneRunAudit(p.scores, p.inc, { seed: 3, delta: 1e-5 })).toEqual(oneRunAudit(p.scores, p.inc, { seed: 3, delta: 1e-5 }));
    const n = canaries(400, 0, 2);
    const b = oneRunAudit(n.scores, n.inc, { seed: 3, delta: 1e-5 });
    expect(b.lowerBound).toBeLessThan(0.5);
    expect(b.lowerBound).toBeLessThanOrEqual(b.ceiling);
  });
});
