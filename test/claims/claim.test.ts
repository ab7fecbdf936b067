/** The claim check's rules (src/claims/dp/claim.ts), in process: arithmetic, verdict wording, inputs. */
import { describe, expect, it } from 'vitest';
import { checkDpClaim, historyFromParameters, readTrainingRecord, roundingOf, type ResolvedDpClaim } from '../../src/claims/dp/claim.ts';
import { dpClaimSchema } from '../../src/config/schema.ts';
import { put, tmpDir } from '../config/helpers.ts';

// A cheap history for the PRV accountant (53k grid points): dp-oracle.json's 'q=0.2 sigma=3 100 steps' at δ = 1e-6.
const mnist = [{ noiseMultiplier: 3, sampleRate: 0.2, steps: 100 }];
const claim = (epsilon: number, extra: Partial<ResolvedDpClaim> = {}): ResolvedDpClaim => ({ epsilon, delta: 1e-6, accountant: 'prv', library: 'opacus', unit: 'example', history: mnist, parametersFrom: 'config', ...extra });
const noFindings = { findings: [], seed: 1, model: 'before' };

describe('claims.dp.parameters', () => {
  it('follows at the PRV value (as printed, 2 decimals), fails below PRV’s lower end, is undecided in its error band', () => {
    // PRV: 3.3609 (lower) … 3.3812 (upper); RDP 3.6397.
    expect(checkDpClaim(claim(3.38), noFindings).summary.parameters).toBe('follows');
    expect(checkDpClaim(claim(3.64), noFindings).summary.parameters).toBe('follows');
    expect(checkDpClaim(claim(3.37), noFindings).summary.parameters).toBe('undecided');
    const bad = checkDpClaim(claim(3.3), noFindings);
    expect(bad.summary.parameters).toBe('does-not-follow');
    expect(bad.gates[0]).toMatchObject({ id: 'claims.dp.parameters', status: 'fail', level: 'error' });
    expect(bad.gates[0]!.message).toMatch(/claimed ε = 3\.3, recomputed ε = 3\.361/);
  });

  it('reads a claim’s rounding from how it is written', () => {
    expect(roundingOf(2.39)).toBeCloseTo(0.005, 12);
    expect(roundingOf(8)).toBe(0.5);
    expect(roundingOf(1.5e-7)).toBeCloseTo(0.5e-8, 18);
  });
});

describe('claims.dp.refuted', () => {
  const included = Array.from({ length: 400 }, (_, i) => (i * 37) % 7 < 3);
  it('refutes a small claim when included canaries score far higher; says "consistent, not proven" otherwise', () => {
    const scores = included.map((b, i) => (b ? 10 : 0) + (i % 13) / 13);
    const c = { ...claim(1, { canaries: { manifestDigest: 'sha256:x', included, candidates: 100 } }) };
    const r = checkDpClaim(c, { ...noFindings, canaryScores: { model: 'before', scores, scoring: 'test' } });
    expect(r.summary.verdict).toBe('refuted');
    const g = r.gates.find((x) => x.id === 'claims.dp.refuted')!;
    expect(g).toMatchObject({ status: 'fail', level: 'error' });
    expect(g.message).toMatch(/^claim refuted \(95% confidence\): ε ≥ \d\.\d{3} > claimed 1/);
    const big = checkDpClaim({ ...c, epsilon: 8 }, { ...noFindings, canaryScores: { model: 'before', scores, scoring: 'test' } });
    expect(big.summary.verdict).toBe('consistent-not-proven');
    expect(big.gates.find((x) => x.id === 'claims.dp.refuted')!.message).toMatch(/^consistent with the claim, not proven: .* — below the claim: at this size the audit could not have refuted it/);
  });

  it('without canaries: not audited as DP (a warning, inconclusive)', () => {
    const g = checkDpClaim(claim(3), noFindings).gates.find((x) => x.id === 'claims.dp.refuted')!;
    expect(g).toMatchObject({ status: 'inconclusive', level: 'warn' });
    expect(g.message).toMatch(/^not audited as DP: no canaries/);
  });
});

describe('claim inputs', () => {
  it('TF Privacy’s step count for epochs', () => {
    expect(historyFromParameters({ noiseMultiplier: 1, datasetSize: 50000, batchSize: 512, epochs: 10 }).history[0]!.steps).toBe(977);
  });

  it('the schema wants the parameters one way, and consistent', () => {
    const one = dpClaimSchema.safeParse({ epsilon: 3, delta: 1e-5, record: 'a.json', noiseMultiplier: 1 });
    expect(one.success).toBe(false);
    expect(one.error!.issues[0]!.message).toMatch(/give the training parameters one way/);
    const q = dpClaimSchema.safeParse({ epsilon: 3, delta: 1e-5, noiseMultiplier: 1, sampleRate: 0.5, batchSize: 10, datasetSize: 100, steps: 3 });
    expect(q.error!.issues[0]).toMatchObject({ path: ['sampleRate'], message: 'contradicts batchSize / datasetSize = 0.1' });
  });

  it('an Opacus accountant state_dict as JSON, and its mistakes named', async () => {
    const dir = await tmpDir();
    const ok = await put(dir, 'a.json', JSON.stringify({ history: [[1.1, 0.004, 100], { noiseMultiplier: 2, sampleRate: 0.01, steps: 5 }], mechanism: 'prv' }));
    expect((await readTrainingRecord(ok)).history).toEqual([{ noiseMultiplier: 1.1, sampleRate: 0.004, steps: 100 }, { noiseMultiplier: 2, sampleRate: 0.01, steps: 5 }]);
    const bad = await put(dir, 'b.json', JSON.stringify({ history: [[1.1, 0.004, 2.5]] }));
    await expect(readTrainingRecord(bad)).rejects.toMatchObject({ where: { file: bad, record: 1, field: 'history[0]' } });
    const none = await put(dir, 'c.json', '{"steps": []}');
    await expect(readTrainingRecord(none)).rejects.toMatchObject({ where: { file: none, field: 'history' } });
  });
});
