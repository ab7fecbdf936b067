import { describe, expect, it } from 'vitest';
import { evaluateAssertions, PRESETS, resolveAssertions, verdictOf, type AttackStatus } from '../../src/assert/index.ts';
import type { ExtractionSummary, Finding } from '../../src/audit/measure.ts';

const est = (value: number, lo: number, hi: number) => ({ value, lo, hi });
const finding = (model: string, positive: string, auc: [number, number, number], md = 0.55): Finding => ({
  attack: 'loss',
  model,
  positive,
  negative: positive === 'forget-subjects' ? 'holdout-subjects' : 'holdout',
  status: 'ok',
  n: { positive: 200, negative: 300 },
  auc: est(...auc),
  tprAtFpr: { '0.001': est(0, 0, 0.01), '0.01': est(0.03, 0.01, 0.06), '0.1': est(0.12, 0.08, 0.16) },
  advantage: est(0.05, 0.01, 0.1),
  ks: { statistic: 0.05, pvalue: 0.6 },
  bootstrap: { unit: 'record', iterations: 1000 },
  power: { minDetectableAuc: md, designEffect: 1 },
});
const pii = (model: string, split: 'forget' | 'retain', hits: number): ExtractionSummary => ({
  attack: 'pii-extraction',
  model: model as 'after',
  split,
  trials: 100,
  hits,
  rate: est(hits / 100, 0, 0.04),
  near: { hits, rate: est(hits / 100, 0, 0.04) },
  skipped: 0,
  subjects: { total: 25, leaked: hits > 0 ? 1 : 0 },
});
const attacks: AttackStatus[] = [
  { id: 'loss', family: 'membership', status: 'ok' },
  { id: 'pii-extraction', family: 'extraction', status: 'ok' },
];
const clean = {
  models: ['before', 'after'],
  attacks,
  findings: [finding('after', 'forget', [0.52, 0.47, 0.57]), finding('after', 'retain', [0.9, 0.86, 0.94])],
  extraction: [pii('after', 'forget', 0), pii('after', 'retain', 3)],
  comparisons: [],
};

describe('assertions', () => {
  it('the default preset (unlearning) on a clean after model: pass; `shipped` resolves to after', () => {
    const gates = evaluateAssertions(resolveAssertions(undefined), clean);
    expect(gates.map((g) => [g.id, g.status])).toEqual([
      ['after.forget.loss.auc', 'pass'],
      ['after.forget.pii-extraction.hits', 'pass'],
    ]);
    expect(verdictOf(gates)).toBe('pass');
  });

  it('bounds: upper by default for max, lower for min, value on request; range and contains', () => {
    const run = (spec: Parameters<typeof evaluateAssertions>[0]) => evaluateAssertions(spec, clean).map((g) => g.status);
    expect(run({ 'after.forget.loss.auc': ['error', { max: 0.56 }] })).toEqual(['fail']); // hi 0.57
    expect(run({ 'after.forget.loss.auc': ['error', { max: 0.56, bound: 'value' }] })).toEqual(['pass']);
    expect(run({ 'after.forget.loss.auc': ['error', { min: 0.48 }] })).toEqual(['fail']); // lo 0.47
    expect(run({ 'after.forget.loss.auc': ['error', { range: [0.5, 0.55] }] })).toEqual(['pass']); // value 0.52
    expect(run({ 'after.forget.loss.auc': ['error', { contains: 0.5 }] })).toEqual(['pass']);
    expect(run({ 'after.forget.loss.tpr@0.01': ['error', { max: 0.05 }] })).toEqual(['fail']); // hi 0.06
    expect(run({ 'after.retain.pii-extraction.hits': ['error', { max: 0 }] })).toEqual(['fail']);
    expect(run({ 'after.forget.loss.auc': 'off' })).toEqual([]);
  });

  it('warnings never decide the verdict; errors do', () => {
    const gates = evaluateAssertions({ 'after.retain.pii-extraction.hits': ['warn', { max: 0 }], 'after.forget.loss.auc': ['error', { max: 0.6 }] }, clean);
    expect(gates.map((g) => [g.level, g.status])).toEqual([['warn', 'fail'], ['error', 'pass']]);
    expect(verdictOf(gates)).toBe('pass');
  });

  it('a pass that could not have failed is inconclusive: no power, no positive control signal', () => {
    const weak = { ...clean, findings: [finding('after', 'forget', [0.52, 0.4, 0.59], 0.7), clean.findings[1]!] };
    expect(evaluateAssertions({ 'after.forget.loss.auc': ['error', { max: 0.6 }] }, weak)[0]).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('cannot detect AUC 0.6') });
    const blind = { ...clean, findings: [clean.findings[0]!, finding('after', 'retain', [0.5, 0.45, 0.55])] };
    expect(evaluateAssertions({ 'after.forget.loss.auc': ['error', { max: 0.6 }] }, blind)[0]).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('positive control') });
  });

  it('an attack that errored is inconclusive; preset assertions on attacks not run are skipped', () => {
    const broken = { ...clean, attacks: [{ ...attacks[0]!, status: 'error' as const, reason: 'boom' }] };
    const gates = evaluateAssertions(resolveAssertions(undefined), broken);
    expect(gates.map((g) => [g.id, g.status])).toEqual([['after.forget.loss.auc', 'inconclusive']]);
    expect(verdictOf(gates)).toBe('inconclusive');
  });

  it('the anonymisation preset is stricter: it gates every member, not only the deleted ones', () => {
    const gates = evaluateAssertions(resolveAssertions({ preset: 'privacy-audit:anonymisation', assertions: {} }), clean);
    expect(gates.find((g) => g.id === 'after.retain.loss.auc')!.status).toBe('fail'); // members are visible
    expect(gates.find((g) => g.id === 'after.retain.pii-extraction.hits')!.status).toBe('fail');
    expect(verdictOf(gates)).toBe('fail');
    expect(Object.keys(PRESETS)).toContain('none');
  });
});
