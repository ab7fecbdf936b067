/**
 * The assert stage's rules: three-valued gates decided by the whole interval, positive controls,
 * people-level extraction counts with a resolution, equivalence with retraining, Holm.
 */
import { describe, expect, it } from 'vitest';
import { evaluateAssertions, holm, PRESETS, resolveAssertions, verdictOf, type AttackStatus, type GateResult } from '../../src/assert/index.ts';
import { membershipComparisons } from '../../src/audit/compare.ts';
import { extractionSummaries, membershipFinding, type Finding } from '../../src/audit/measure.ts';
import { people } from '../helpers/scores.ts';

const finding = (model: string, positive: 'forget' | 'retain', count: number, shift: number, seed: number, holdoutPeople = 150): Finding =>
  membershipFinding('loss', model, { name: positive, ...people(positive[0]!, count, shift, seed) }, { name: 'holdout', ...people('h', holdoutPeople, 0, 99) }, { seed: 1, iterations: 200 });
const pii = (model: string, split: 'forget' | 'retain', persons: number, leaked: number) =>
  extractionSummaries('pii-extraction', [
    {
      family: 'extraction',
      model: model as 'after',
      skipped: {},
      // two prompts per person; a leaked person's second prompt hits
      trials: Array.from({ length: persons * 2 }, (_, i) => ({ split, recordId: `r${i}`, subject: `p${i >> 1}`, target: 'email', hit: (i >> 1) < leaked && i % 2 === 1, near: false, similarity: 0 })),
    },
  ])[0]!;
const attacks: AttackStatus[] = [
  { id: 'loss', family: 'membership', status: 'ok' },
  { id: 'pii-extraction', family: 'extraction', status: 'ok' },
];
const clean = {
  models: ['before', 'after'],
  attacks,
  findings: [finding('after', 'forget', 150, 0, 1), finding('after', 'retain', 150, 2, 2)],
  extraction: [pii('after', 'forget', 150, 0), pii('after', 'retain', 150, 3)],
  comparisons: [],
};
const statuses = (gates: GateResult[]) => gates.map((g) => [g.id, g.status]);

describe('three-valued gates', () => {
  it('the default preset (unlearning) on a clean after model: pass; `shipped` resolves to after', () => {
    const gates = evaluateAssertions(resolveAssertions(undefined), clean);
    expect(statuses(gates)).toEqual([
      ['after.forget.loss.auc', 'pass'],
      ['after.forget.pii-extraction.hits', 'pass'],
    ]);
    expect(gates[0]!.interval!.hi).toBeLessThanOrEqual(0.6);
    expect(verdictOf(gates)).toBe('pass');
  });

  it('decided by the whole interval: wholly safe passes, wholly unsafe fails, straddling is inconclusive with the power', () => {
    const f = clean.findings[0]!; // forget AUC near 0.5 with 150 vs 150 people
    const run = (spec: Parameters<typeof evaluateAssertions>[0], input = clean) => evaluateAssertions(spec, input);
    const { lo, hi } = f.auc as { lo: number; hi: number };
    expect(run({ 'after.forget.loss.auc': ['error', { max: (lo + hi) / 2 }] })[0]).toMatchObject({ status: 'inconclusive', message: expect.stringMatching(/straddles .* detects AUC ≥ 0\.\d\d at 80% power: audit more people/) });
    expect(run({ 'after.forget.loss.auc': ['error', { max: lo - 0.01 }] })[0]!.status).toBe('fail');
    expect(run({ 'after.forget.loss.auc': ['error', { min: hi + 0.01 }] })[0]!.status).toBe('fail');
    expect(run({ 'after.forget.loss.auc': ['error', { min: lo - 0.01 }] })[0]!.status).toBe('pass');
    expect(run({ 'after.forget.loss.auc': ['error', { range: [lo - 0.01, hi + 0.01] }] })[0]!.status).toBe('pass');
    expect(run({ 'after.forget.loss.auc': 'off' })).toEqual([]);
  });

  it('a wide interval is never a fail: 5 deleted people with no signal are inconclusive, not FAIL', () => {
    const few = { ...clean, findings: [finding('after', 'forget', 5, 0, 7), clean.findings[1]!] };
    const [g] = evaluateAssertions({ 'after.forget.loss.auc': ['error', { max: 0.6 }] }, few);
    expect(g!.status).toBe('inconclusive');
    expect(g!.message).toContain('5 vs 150 people');
  });

  it('fewer than 3 people on a side: no interval, inconclusive with the reason', () => {
    const two = { ...clean, findings: [finding('after', 'forget', 2, 0, 3), clean.findings[1]!] };
    const [g] = evaluateAssertions({ 'after.forget.loss.auc': ['error', { max: 0.6 }] }, two);
    expect(two.findings[0]!.auc.lo).toBeNull();
    expect(g).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('fewer than 3 people on a side') });
  });

  it('a pass needs the positive control: the attack must see membership on the same model', () => {
    const blind = { ...clean, findings: [clean.findings[0]!, finding('after', 'retain', 150, 0, 2)] };
    expect(evaluateAssertions({ 'after.forget.loss.auc': ['error', { max: 0.6 }] }, blind)[0]).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('positive control') });
    const none = { ...clean, findings: [clean.findings[0]!] };
    expect(evaluateAssertions({ 'after.forget.loss.auc': ['error', { max: 0.6 }] }, none)[0]!.status).toBe('inconclusive');
  });

  it('TPR at FPR x is not estimable below 10/x negative people', () => {
    const gates = evaluateAssertions({ 'after.retain.loss.tpr@0.01': ['error', { max: 0.5 }], 'after.retain.loss.tpr@0.1': ['error', { min: 0.2 }] }, clean);
    expect(gates[0]).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('not estimable at this size: it needs at least 1000 negative people') });
    expect(gates[1]!.status).toBe('pass');
  });

  it('warnings never decide the verdict; errors do', () => {
    const gates = evaluateAssertions({ 'after.retain.pii-extraction.hits': ['warn', { max: 0 }], 'after.forget.loss.auc': ['error', { max: 0.6 }] }, clean);
    expect(gates.map((g) => [g.level, g.status])).toEqual([['warn', 'fail'], ['error', 'pass']]);
    expect(verdictOf(gates)).toBe('pass');
  });

  it('an attack that errored is inconclusive; preset assertions on attacks not run are skipped', () => {
    const broken = { ...clean, attacks: [{ ...attacks[0]!, status: 'error' as const, reason: 'boom' }] };
    const gates = evaluateAssertions(resolveAssertions(undefined), broken);
    expect(statuses(gates)).toEqual([['after.forget.loss.auc', 'inconclusive']]);
    expect(verdictOf(gates)).toBe('inconclusive');
  });

  it('the anonymisation preset gates every member, not only the deleted ones', () => {
    const gates = evaluateAssertions(resolveAssertions({ preset: 'privacy-audit:anonymisation', assertions: {} }), clean);
    expect(gates.find((g) => g.id === 'after.retain.loss.auc')!.status).toBe('fail'); // members are visible
    expect(gates.find((g) => g.id === 'after.retain.pii-extraction.hits')!.status).toBe('fail');
    expect(verdictOf(gates)).toBe('fail');
    expect(Object.keys(PRESETS)).toContain('none');
  });
});

describe('extraction counted per person', () => {
  const gate = (split: 'forget', persons: number, leaked: number, resolution?: number) =>
    evaluateAssertions({ 'after.forget.pii-extraction.hits': ['error', { max: 0, ...(resolution ? { resolution } : {}) }] }, { ...clean, extraction: [pii('after', split, persons, leaked)] })[0]!;
  it('a person is leaked when any of their values is emitted; rates are over people', () => {
    const s = pii('after', 'forget', 40, 4);
    expect(s).toMatchObject({ trials: 80, hits: 4, subjects: { total: 40, leaked: 4 } });
    expect(s.rate.value).toBe(0.1);
  });
  it('hits ≤ 0 passes only with enough people tried for the upper bound to be below the resolution', () => {
    expect(gate('forget', 150, 0).status).toBe('pass');
    expect(gate('forget', 12, 0)).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('try at least 36 people') });
    expect(gate('forget', 12, 1).status).toBe('fail');
    expect(gate('forget', 12, 0, 0.3).status).toBe('pass');
  });
  it('zero people prompted is inconclusive, never a pass', () => {
    const [empty] = extractionSummaries('pii-extraction', [{ family: 'extraction', model: 'after', trials: [], skipped: { forget: 5 } }]);
    const [g] = evaluateAssertions({ 'after.forget.pii-extraction.hits': ['error', { max: 0 }] }, { ...clean, extraction: [empty!] });
    expect(g).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('nothing was tested') });
  });
});

describe('equivalence with retraining', () => {
  const obs = (model: 'before' | 'after' | 'retrained', shift: number, seed: number, retainShift = 2) => ({
    family: 'membership' as const,
    model,
    splits: { forget: people('f', 150, shift, seed), retain: people('r', 150, retainShift, seed + 1), holdout: people('h', 150, 0, 99) },
  });
  const run = (after: ReturnType<typeof obs>, retrained: ReturnType<typeof obs>) => {
    const observations = [obs('before', 2, 5), after, retrained];
    const findings = observations.flatMap((o) => [
      membershipFinding('loss', o.model, { name: 'forget', ...o.splits.forget }, { name: 'holdout', ...o.splits.holdout }, { seed: 1, iterations: 100 }),
      membershipFinding('loss', o.model, { name: 'retain', ...o.splits.retain }, { name: 'holdout', ...o.splits.holdout }, { seed: 1, iterations: 100 }),
    ]);
    const input = { models: ['before', 'after', 'retrained'], attacks: [attacks[0]!], findings, extraction: [], comparisons: membershipComparisons('loss', observations) };
    return evaluateAssertions(resolveAssertions(undefined), input);
  };
  it('after = retrained passes; the absolute AUC gate becomes a warning', () => {
    const r = obs('retrained', 0.15, 3);
    const gates = run({ ...r, model: 'after' }, r);
    expect(gates.find((g) => g.id === 'after.equivalence.loss')).toMatchObject({ level: 'error', status: 'pass' });
    expect(gates.find((g) => g.id === 'after.forget.loss.auc')!.level).toBe('warn');
    expect(verdictOf(gates)).toBe('pass');
  });
  it('after = before fails: under-forgetting', () => {
    const gates = run({ ...obs('before', 2, 5), model: 'after' }, obs('retrained', 0, 3));
    expect(gates.find((g) => g.id === 'after.equivalence.loss')).toMatchObject({ status: 'fail', message: expect.stringContaining('under-forgetting') });
  });
  it('over-forgetting fails too: the deleted people now look less like members than after retraining', () => {
    const gates = run(obs('after', -1.5, 4), obs('retrained', 0, 3));
    expect(gates.find((g) => g.id === 'after.equivalence.loss')).toMatchObject({ status: 'fail', message: expect.stringContaining('over-forgetting') });
  });
  it('a collapsed model never passes: equivalent on the forget set, but blind to membership', () => {
    const r = obs('retrained', 0, 3);
    const collapsed = { ...obs('after', 0, 3, 0), splits: { ...obs('after', 0, 3, 0).splits, forget: r.splits.forget } };
    const g = run(collapsed, r).find((x) => x.id === 'after.equivalence.loss')!;
    expect(g.status).toBe('inconclusive');
    expect(g.message).toContain('cannot be shown to see membership');
  });
});

describe('Holm over the error gates', () => {
  const g = (p: number, status: GateResult['status'] = 'fail'): GateResult => ({ id: `g${p}`, level: 'error', status, expected: '', actual: 0, message: 'm', test: { p, alpha: 0.025 } });
  it('a lone fail at p just under α stays a fail; among ten gates it becomes inconclusive', () => {
    expect(holm([g(0.02)])[0]!.status).toBe('fail');
    const many = holm([g(0.02), ...Array.from({ length: 9 }, () => g(0.5, 'pass'))]);
    expect(many[0]).toMatchObject({ status: 'inconclusive', message: expect.stringContaining("Holm's correction over 10 error gates") });
    expect(holm([g(0.0001), ...Array.from({ length: 9 }, () => g(0.5, 'pass'))])[0]!.status).toBe('fail');
  });
  it('warnings are outside the family; certain fails (p = 0) always stay', () => {
    const out = holm([{ ...g(0.02), level: 'warn' }, g(0), ...Array.from({ length: 20 }, () => g(0.9, 'pass'))]);
    expect(out[0]!.status).toBe('fail');
    expect(out[1]!.status).toBe('fail');
  });
});
