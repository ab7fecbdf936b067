import { describe, expect, it } from 'vitest';
import { defaultGates, verdictOf, type AttackStatus } from '../../src/audit/gates.ts';
import { extractionSummaries, membershipFinding, type Finding } from '../../src/audit/measure.ts';

const scores = (n: number, shift: number, seed: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5 + shift + ((i * 7919 + seed) % 97) / 97);
const f = (model: string, positive: 'forget' | 'retain', n: number, shift: number): Finding =>
  membershipFinding('loss', model, { name: positive, scores: scores(n, shift, positive === 'forget' ? 1 : 2) }, { name: 'holdout', scores: scores(200, 0, 3) }, { seed: 1, iterations: 200 });
const loss: AttackStatus = { id: 'loss', family: 'membership', status: 'ok' };

describe('default gates', () => {
  it('pass: no forget signal, enough n, and the positive control sees membership', () => {
    const [g] = defaultGates({ gateModel: 'after', attacks: [loss], findings: [f('after', 'forget', 200, 0), f('after', 'retain', 200, 3)], extraction: [] });
    expect(g).toMatchObject({ id: 'after.forget.loss.auc', status: 'pass', level: 'error' });
  });

  it('fail: the forget interval reaches above 0.6', () => {
    const [g] = defaultGates({ gateModel: 'after', attacks: [loss], findings: [f('after', 'forget', 200, 3), f('after', 'retain', 200, 3)], extraction: [] });
    expect(g!.status).toBe('fail');
    expect(g!.actual).toBeGreaterThan(0.6);
  });

  it('inconclusive, never fail nor pass: too few forget people to decide', () => {
    // 2 forget records: no interval can keep a 95% promise; the gate says so instead of printing one.
    const tiny = f('after', 'forget', 2, 0);
    expect(tiny.auc.lo).toBeNull();
    const [g] = defaultGates({ gateModel: 'after', attacks: [loss], findings: [tiny, f('after', 'retain', 200, 3)], extraction: [] });
    expect(g!.status).toBe('inconclusive');
    expect(g!.message).toContain('fewer than 3 people');
  });

  it('inconclusive: the positive control shows no membership signal', () => {
    const [g] = defaultGates({ gateModel: 'after', attacks: [loss], findings: [f('after', 'forget', 200, 0), f('after', 'retain', 200, 0)], extraction: [] });
    expect(g!.status).toBe('inconclusive');
    expect(g!.message).toContain('positive control');
  });

  it('inconclusive: the attack errored or was not applicable', () => {
    const gates = defaultGates({
      gateModel: 'before',
      attacks: [{ ...loss, status: 'error', reason: 'boom' }, { id: 'pii-extraction', family: 'extraction', status: 'not-applicable', reason: 'needs generate' }],
      findings: [],
      extraction: [],
    });
    expect(gates.map((g) => g.status)).toEqual(['inconclusive', 'inconclusive']);
    expect(verdictOf(gates)).toBe('inconclusive');
  });

  it('pii gate: any forget hit fails; the verdict is the worst gate', () => {
    const trial = (hit: boolean, subject: string) => ({ split: 'forget' as const, recordId: subject, subject, target: 'email', hit, near: hit, similarity: hit ? 1 : 0 });
    const extraction = extractionSummaries('pii-extraction', [{ family: 'extraction', model: 'after', trials: [trial(false, 'a'), trial(true, 'b')], skipped: {} }]);
    const gates = defaultGates({
      gateModel: 'after',
      attacks: [loss, { id: 'pii-extraction', family: 'extraction', status: 'ok' }],
      findings: [f('after', 'forget', 200, 0), f('after', 'retain', 200, 3)],
      extraction,
    });
    const errors = gates.filter((g) => g.level === 'error');
    expect(errors.map((g) => g.status)).toEqual(['pass', 'fail']);
    expect(errors[1]!.message).toContain('1 of 2 forget people leaked');
    expect(verdictOf(gates)).toBe('fail');
    expect(verdictOf([errors[0]!])).toBe('pass');
    expect(verdictOf([])).toBe('inconclusive');
  });
});

describe('warning gate without a retrained model: over-forgetting', () => {
  it('pass when the deleted people do not look less like members than unseen ones; a warning when they do; absent with a retrained model', () => {
    const gates = defaultGates({ gateModel: 'after', attacks: [loss], findings: [f('after', 'forget', 200, 0), f('after', 'retain', 200, 3)], extraction: [] });
    const warn = gates.find((g) => g.id === 'after.forget.loss.over-forgetting')!;
    expect(warn).toMatchObject({ level: 'warn', status: 'pass' });
    expect(warn.message).toContain('KS');
    const below = f('after', 'forget', 200, -3);
    const g2 = defaultGates({ gateModel: 'after', attacks: [loss], findings: [below, f('after', 'retain', 200, 3)], extraction: [] });
    expect(g2.find((g) => g.level === 'warn')).toMatchObject({ status: 'fail' });
    expect(g2.find((g) => g.level === 'warn')!.message).toContain('over-forgetting');
    expect(verdictOf(g2)).toBe('pass'); // the error gate passes (AUC far below 0.6); warnings do not fail
    const g3 = defaultGates({ gateModel: 'after', attacks: [loss], findings: [f('after', 'forget', 200, 0), f('after', 'retain', 200, 3), f('retrained', 'forget', 200, 0)], extraction: [] });
    expect(g3.some((g) => g.id.endsWith('over-forgetting'))).toBe(false);
  });
});
