import { describe, expect, it } from 'vitest';
import type { ExtractionObservation, MembershipObservation } from '../../attacks/types.ts';
import { extractionComparisons, membershipComparisons } from '../../src/audit/compare.ts';
import { defaultGates } from '../../src/audit/gates.ts';

const split = (prefix: string, n: number, f: (i: number) => number) => ({
  ids: Array.from({ length: n }, (_, i) => `${prefix}${i}`),
  subjects: Array.from({ length: n }, (_, i) => `${prefix}-person-${Math.floor(i / 2)}`),
  scores: Array.from({ length: n }, (_, i) => f(i)),
});
const noise = (seed: number) => (i: number) => Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453 % 1;
const obs = (model: MembershipObservation['model'], forgetShift: number, seed = 1): MembershipObservation => ({
  family: 'membership',
  model,
  splits: { forget: split('f', 80, (i) => noise(seed)(i) + forgetShift), holdout: split('h', 120, noise(seed + 1)) },
});
const stats = { seed: 1, iterations: 300 };
const loss = { id: 'loss', family: 'membership' as const, status: 'ok' as const };

describe('membership comparisons', () => {
  it('after = retrained: ΔAUC and PrivLeak are exactly 0, and equivalence passes', () => {
    const retrained = obs('retrained', 0);
    const after = { ...retrained, model: 'after' as const };
    const cs = membershipComparisons('loss', [obs('before', 3), after, retrained]);
    for (const kind of ['privleak', 'equivalence'] as const) expect(cs.find((c) => c.kind === kind)!.estimate).toEqual({ value: 0, lo: 0, hi: 0 });
    expect(cs.find((c) => c.kind === 'equivalence')).toMatchObject({ level: 0.9, from: 'retrained', to: 'after', people: { positive: 40, negative: 60 } });
    const delta = cs.find((c) => c.kind === 'auc-delta' && c.to === 'after')!;
    expect(delta.estimate.hi!).toBeLessThan(0); // deletion lowered the AUC
    expect(delta.level).toBe(0.95);
  });

  it('after = before: under-forgetting, the equivalence gate fails', () => {
    const before = obs('before', 3);
    const cs = membershipComparisons('loss', [before, { ...before, model: 'after' }, obs('retrained', 0)]);
    expect(cs.find((c) => c.kind === 'privleak')!.estimate.lo!).toBeGreaterThan(0.1);
    expect(cs.find((c) => c.kind === 'auc-delta' && c.to === 'after')!.estimate).toEqual({ value: 0, lo: 0, hi: 0 });
    const gates = defaultGates({ gateModel: 'after', attacks: [loss], findings: [], extraction: [], comparisons: cs });
    expect(gates.find((g) => g.id === 'after.equivalence.loss')).toMatchObject({ status: 'fail', level: 'error' });
    expect(gates.find((g) => g.id === 'after.privleak.loss')).toMatchObject({ status: 'fail', level: 'warn' });
  });

  it('over-forgetting: the deleted people now look less like members than after retraining', () => {
    const cs = membershipComparisons('loss', [obs('after', -3), obs('retrained', 0)]);
    expect(cs.find((c) => c.kind === 'equivalence')!.estimate.hi!).toBeLessThan(-0.05);
  });

  it('identical scores under other names give identical intervals (no seed from a name)', () => {
    const a = membershipComparisons('loss', [obs('before', 1), obs('after', 0), obs('retrained', 0.2, 2)]);
    const b = membershipComparisons('zlib', [obs('before', 1), obs('after', 0), obs('retrained', 0.2, 2)]);
    expect(b.map((c) => c.estimate)).toEqual(a.map((c) => c.estimate));
  });
});

describe('extraction comparisons', () => {
  it('rate delta on the same prompts, by subject', () => {
    const trials = (hits: (i: number) => boolean): ExtractionObservation['trials'] =>
      Array.from({ length: 40 }, (_, i) => ({ split: 'forget', recordId: `r${i}`, subject: `s${i % 10}`, target: 'email', hit: hits(i), near: hits(i), similarity: 0 }));
    const before: ExtractionObservation = { family: 'extraction', model: 'before', trials: trials((i) => i % 2 === 0), skipped: {} };
    const after: ExtractionObservation = { family: 'extraction', model: 'after', trials: trials(() => false), skipped: {} };
    const [c] = extractionComparisons('pii-extraction', [before, after], stats);
    // people are the unit: 10 people, half leaked before (every even subject), none after
    expect(c).toMatchObject({ kind: 'rate-delta', from: 'before', to: 'after', split: 'forget' });
    expect(c!.estimate.value).toBeCloseTo(-0.5, 12);
    expect(c!.estimate.hi!).toBeLessThan(0);
    expect(c!.people).toEqual({ prompted: 10 });
  });
});
