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
  it('after = retrained: PrivLeak is exactly 0 and the gate passes', () => {
    const retrained = obs('retrained', 0);
    const after = { ...retrained, model: 'after' as const };
    const cs = membershipComparisons('loss', [obs('before', 3), after, retrained], stats);
    const privleak = cs.find((c) => c.kind === 'privleak')!;
    expect(privleak.estimate).toEqual({ value: 0, lo: 0, hi: 0 });
    expect(privleak.flag).toBe('none');
    const gates = defaultGates({ gateModel: 'after', attacks: [loss], findings: [], extraction: [], comparisons: cs });
    expect(gates.find((g) => g.id === 'after.privleak.loss')).toMatchObject({ status: 'pass' });
    const delta = cs.find((c) => c.kind === 'auc-delta' && c.to === 'after')!;
    expect(delta.estimate.hi).toBeLessThan(0); // deletion lowered the AUC
  });

  it('after = before: under-forgetting, the gate fails', () => {
    const before = obs('before', 3);
    const cs = membershipComparisons('loss', [before, { ...before, model: 'after' }, obs('retrained', 0)], stats);
    const privleak = cs.find((c) => c.kind === 'privleak')!;
    expect(privleak.estimate.lo).toBeGreaterThan(0);
    expect(privleak.flag).toBe('under-forgetting');
    expect(cs.find((c) => c.kind === 'auc-delta' && c.to === 'after')!.estimate).toEqual({ value: 0, lo: 0, hi: 0 });
    const gates = defaultGates({ gateModel: 'after', attacks: [loss], findings: [], extraction: [], comparisons: cs });
    expect(gates.find((g) => g.id === 'after.privleak.loss')!.status).toBe('fail');
  });

  it('over-forgetting: the deleted people now look less like members than people never seen', () => {
    const cs = membershipComparisons('loss', [obs('after', -3), obs('retrained', 0)], stats);
    expect(cs.find((c) => c.kind === 'privleak')!.flag).toBe('over-forgetting');
  });
});

describe('extraction comparisons', () => {
  it('rate delta on the same prompts, by subject', () => {
    const trials = (hits: (i: number) => boolean): ExtractionObservation['trials'] =>
      Array.from({ length: 40 }, (_, i) => ({ split: 'forget', recordId: `r${i}`, subject: `s${i % 10}`, target: 'email', hit: hits(i), near: hits(i), similarity: 0 }));
    const before: ExtractionObservation = { family: 'extraction', model: 'before', trials: trials((i) => i % 2 === 0), skipped: {} };
    const after: ExtractionObservation = { family: 'extraction', model: 'after', trials: trials(() => false), skipped: {} };
    const [c] = extractionComparisons('pii-extraction', [before, after], stats);
    expect(c).toMatchObject({ kind: 'rate-delta', from: 'before', to: 'after', split: 'forget' });
    expect(c!.estimate.value).toBeCloseTo(-0.5, 12);
    expect(c!.estimate.hi).toBeLessThan(0);
  });
});
