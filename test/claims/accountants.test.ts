/**
 * The DP accountants against the libraries' own numbers: test/claims/dp-oracle.json was written by
 * test/claims/make-dp-oracle.py running Opacus's RDPAccountant / PRVAccountant and dp_accounting's
 * RdpAccountant (repos, commits and functions are in its `source`).
 */
import { describe, expect, it } from 'vitest';
import oracle from './dp-oracle.json' with { type: 'json' };
import { epsilonFromRdp, rdpEpsilon, rdpOfHistory, rdpOneStep } from '../../src/claims/dp/rdp.ts';
import { prvEpsilon } from '../../src/claims/dp/prv.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('RDP of the Poisson-subsampled Gaussian', () => {
  it('matches both libraries order by order (integer and fractional orders)', () => {
    for (const c of oracle.perOrderRdp) {
      expect(rel(rdpOneStep(c.sampleRate, c.noiseMultiplier, c.alpha, 'opacus'), c.opacus)).toBeLessThan(1e-9);
      expect(rel(rdpOneStep(c.sampleRate, c.noiseMultiplier, c.alpha, 'dp-accounting'), c.dpAccounting)).toBeLessThan(1e-9);
    }
  });

  it.each(oracle.cases.map((c) => [c.name, c] as const))('ε of %s matches Opacus and dp_accounting to 1e-6 relative', (_, c) => {
    const o = rdpEpsilon(c.history, c.delta, { library: 'opacus' });
    expect(rel(o.epsilon, c.opacusRdp.epsilon)).toBeLessThan(1e-6);
    expect(o.alpha).toBe(c.opacusRdp.alpha);
    const d = rdpEpsilon(c.history, c.delta, { library: 'dp-accounting' });
    expect(rel(d.epsilon, c.dpAccountingRdp.epsilon)).toBeLessThan(1e-6);
    expect(d.alpha).toBe(c.dpAccountingRdp.alpha);
  });

  it("reproduces Opacus's doctest (orders 2..32: ε = 0.336 at α = 23)", () => {
    const d = oracle.opacusDoctest;
    const r = epsilonFromRdp(d.orders, rdpOfHistory(d.history, d.orders), d.delta);
    expect(rel(r.epsilon, d.epsilon)).toBeLessThan(1e-9);
    expect(r.alpha).toBe(23);
  });

  it("gives TF Privacy's historical 3.01 with the basic conversion (README 'Select Parameters')", () => {
    const h = [{ noiseMultiplier: 1.1, sampleRate: 256 / 60000, steps: Math.ceil(60 / (256 / 60000)) }];
    expect(rdpEpsilon(h, 1e-5, { conversion: 'basic' }).epsilon.toFixed(2)).toBe('3.01');
  });

  it('has the special cases of the mechanism', () => {
    expect(rdpOneStep(0, 1, 2)).toBe(0);
    expect(rdpOneStep(0.1, 0, 2)).toBe(Infinity);
    expect(rdpOneStep(1, 2, 3)).toBeCloseTo(3 / 8, 15);
  });
});

describe('PRV accountant', () => {
  // Six settings; the others need 0.6–2M grid points (2–5 s each) and were checked once the same way
  // (all nine within 2e-6 of Opacus).
  const cases = oracle.cases.filter((c) => !/halved|grid/.test(c.name));
  it.each(cases.map((c) => [c.name, c] as const))('ε of %s is within ε_err of Opacus (in fact within 1e-5)', (_, c) => {
    const p = prvEpsilon(c.history, c.delta);
    expect(Math.abs(p.epsilon - c.opacusPrv.epsilon)).toBeLessThan(1e-5);
    expect(Math.abs(p.estimate - c.opacusPrv.estimate)).toBeLessThan(1e-5);
    expect(p.epsilon).toBeLessThan(rdpEpsilon(c.history, c.delta).epsilon); // tighter than RDP
  });
});
