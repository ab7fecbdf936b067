/** `privacy-audit evaluate --scores`: bring-your-own scores give the same findings as an attack would. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { membershipFinding } from '../../src/audit/measure.ts';
import { auc } from '../../src/metrics/index.ts';
import { cli } from '../helpers/cli.ts';
import { REPO } from '../helpers/paths.ts';
import { people } from '../helpers/scores.ts';

const oracle = JSON.parse(readFileSync(path.join(REPO, '../shared/oracles/metrics.json'), 'utf8')) as {
  membership: { name: string; positives: number[]; negatives: number[]; expected: { auc: number; tprAtFpr: Record<string, number>; advantage: number; ks: { statistic: number; pvalue: number } } }[];
};
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'pa-eval-'));

describe('evaluate --scores', () => {
  const c = oracle.membership[0]!;
  const rows = [
    ...c.positives.map((s, i) => ({ id: `p${i}`, score: s, member: true })),
    ...c.negatives.map((s, i) => ({ id: `n${i}`, score: s, member: false })),
  ];

  it('JSONL: --json prints only the result, with the oracle values and the same intervals as the library', async () => {
    const dir = tmp();
    const f = path.join(dir, 'scores.jsonl');
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n'));
    const r = await cli(['evaluate', '--scores', f, '--json']);
    expect([0, 1, 4]).toContain(r.code);
    const result = JSON.parse(r.stdout);
    expect(result.schemaVersion).toBe(3);
    const finding = result.findings[0];
    expect(finding).toMatchObject({ attack: 'scores', model: 'scores', positive: 'member', negative: 'nonmember', n: { positive: c.positives.length, negative: c.negatives.length } });
    expect(Math.abs(finding.auc.value - c.expected.auc)).toBeLessThan(1e-9);
    for (const x of ['0.001', '0.01', '0.1']) {
      // TPR at FPR x is only given with at least 10/x negatives (records here: no subjects)
      if (c.negatives.length >= 10 / Number(x)) expect(Math.abs(finding.tprAtFpr[x].value - c.expected.tprAtFpr[x]!)).toBeLessThan(1e-9);
      else expect(finding.tprAtFpr[x]).toBeNull();
    }
    expect(Math.abs(finding.advantage.value - c.expected.advantage)).toBeLessThan(1e-9);
    expect(Math.abs(finding.ks.statistic - c.expected.ks.statistic)).toBeLessThan(1e-9);
    expect(Math.abs(finding.ks.pvalue - c.expected.ks.pvalue) / c.expected.ks.pvalue).toBeLessThan(1e-6);
    expect(finding.auc.lo).toBeLessThanOrEqual(finding.auc.value);
    expect(finding.auc.hi).toBeGreaterThanOrEqual(finding.auc.value);
    const verdict = finding.auc.hi <= 0.6 ? 'pass' : finding.auc.lo > 0.6 ? 'fail' : 'inconclusive';
    expect(result.verdict).toBe(verdict);
    expect(r.code).toBe({ pass: 0, fail: 1, inconclusive: 4 }[verdict]);
  });

  it('CSV with a model column gives one finding per model; --out writes every output', async () => {
    const dir = tmp();
    const f = path.join(dir, 'scores.csv');
    const lines = ['id,score,member,model'];
    rows.forEach((r) => lines.push(`${r.id},${r.score},${r.member},target`));
    // A second model whose scores are pure noise: AUC near 0.5.
    rows.forEach((r, i) => lines.push(`${r.id},${(i * 7919) % 101},${r.member},shuffled`));
    writeFileSync(f, lines.join('\n'));
    const out = path.join(dir, 'out');
    const r = await cli(['evaluate', '--scores', f, '--out', out]);
    const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8'));
    expect(result.findings.map((x: { model: string }) => x.model)).toEqual(['target', 'shuffled']);
    expect(result.findings[0].auc.value).toBeCloseTo(c.expected.auc, 9);
    const scored = rows.map((x, i) => ({ x, s: (i * 7919) % 101 }));
    const pos = scored.filter((y) => y.x.member).map((y) => y.s);
    const neg = scored.filter((y) => !y.x.member).map((y) => y.s);
    const ids = (member: boolean) => scored.filter((y) => y.x.member === member).map((y) => y.x.id);
    expect(result.findings[1].auc.value).toBeCloseTo(auc(pos, neg), 12);
    // Intervals: exactly what the measure stage computes for an attack's scores.
    const same = membershipFinding('scores', 'shuffled', { name: 'member', scores: pos, ids: ids(true) }, { name: 'nonmember', scores: neg, ids: ids(false) }, { seed: 1, iterations: 1000 });
    expect(result.findings[1]).toEqual(JSON.parse(JSON.stringify(same)));
    for (const name of ['report.html', 'junit.xml', 'summary.md']) expect(readFileSync(path.join(out, name), 'utf8').length).toBeGreaterThan(100);
    expect(r.code).toBe(1); // the target's AUC interval is far above 0.6
    expect(r.stderr).toContain('verdict: FAIL');
  });

  it('is deterministic: the same seed gives the same bytes; another seed other bootstrap intervals, the same AUC interval (no resampling)', async () => {
    const dir = tmp();
    const f = path.join(dir, 'scores.jsonl');
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n'));
    const a = await cli(['evaluate', '--scores', f, '--json']);
    const b = await cli(['evaluate', '--scores', f, '--json']);
    const c2 = await cli(['evaluate', '--scores', f, '--json', '--seed', '2']);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(c2.stdout).findings[0].advantage.lo).not.toBe(JSON.parse(a.stdout).findings[0].advantage.lo);
    expect(JSON.parse(c2.stdout).findings[0].auc).toEqual(JSON.parse(a.stdout).findings[0].auc);
  });

  it('bad rows are exit 2 with file, line and field', async () => {
    const dir = tmp();
    const f = path.join(dir, 's.jsonl');
    writeFileSync(f, '{"id":"a","score":1,"member":true}\n{"id":"b","score":"high","member":false}\n');
    let r = await cli(['evaluate', '--scores', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('s.jsonl:2: field "score"');
    writeFileSync(f, '{"id":"a","score":1,"member":true}\n{"id":"b","score":0.5,"member":"maybe"}\n');
    r = await cli(['evaluate', '--scores', f]);
    expect(r.stderr).toContain('s.jsonl:2: field "member"');
    writeFileSync(f, '{"id":"a","score":1,"member":true}\n{"id":"b","score":0.5,"member":true}\n');
    r = await cli(['evaluate', '--scores', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs both members and non-members');
    r = await cli(['evaluate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--scores');
  });
});

describe('evaluate: the same gates, controls, verdict and exit codes as run', () => {
  const write = (rows: object[]) => {
    const f = path.join(tmp(), 'scores.jsonl');
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n'));
    return f;
  };
  const rowsOf = (model: string, split: string, s: ReturnType<typeof people>) => s.ids.map((id, i) => ({ id, score: s.scores[i], subject: s.subjects[i], split, model }));

  it('clean clustered scores of 5 people per side: inconclusive (exit 4), never FAIL', async () => {
    const m = people('m', 5, 0, 11, 4);
    const n = people('n', 5, 0, 12, 4);
    const f = write([...m.ids.map((id, i) => ({ id, score: m.scores[i], member: true, subject: m.subjects[i] })), ...n.ids.map((id, i) => ({ id, score: n.scores[i], member: false, subject: n.subjects[i] }))]);
    const r = await cli(['evaluate', '--scores', f, '--json']);
    const result = JSON.parse(r.stdout);
    expect(result.findings[0]).toMatchObject({ unit: 'subject', people: { positive: 5, negative: 5 } });
    expect(result.verdict).toBe('inconclusive');
    expect(result.gates[0].message).toMatch(/straddles 0.6; with 5 vs 5 people this test detects AUC ≥ 0\.\d\d at 80% power/);
    expect(r.code).toBe(4);
  });

  it('with splits and roles: equivalence with retrained decides (pass, exit 0; after = before: fail, exit 1)', async () => {
    const holdout = people('h', 60, 0, 1);
    const retain = people('r', 60, 2, 2);
    const forgetBefore = people('f', 60, 2, 3);
    const forgetRetrained = people('f', 60, 0.1, 4);
    const base = [...rowsOf('before', 'forget', forgetBefore), ...rowsOf('before', 'retain', retain), ...rowsOf('before', 'holdout', holdout)];
    const as = (model: string, forget: typeof holdout) => [...rowsOf(model, 'forget', forget), ...rowsOf(model, 'retain', retain), ...rowsOf(model, 'holdout', holdout)];
    let r = await cli(['evaluate', '--scores', write([...base, ...as('after', forgetRetrained), ...as('retrained', forgetRetrained)]), '--json']);
    let result = JSON.parse(r.stdout);
    expect(result.gates.find((g: { id: string }) => g.id === 'after.equivalence.scores')).toMatchObject({ level: 'error', status: 'pass' });
    expect(result.comparisons.map((c: { kind: string }) => c.kind)).toEqual(['auc-delta', 'auc-delta', 'equivalence', 'privleak']);
    expect(result.verdict).toBe('pass');
    expect(r.code).toBe(0);
    r = await cli(['evaluate', '--scores', write([...base, ...as('after', forgetBefore), ...as('retrained', forgetRetrained)]), '--json']);
    result = JSON.parse(r.stdout);
    expect(result.gates.find((g: { id: string }) => g.id === 'after.equivalence.scores')).toMatchObject({ status: 'fail', message: expect.stringContaining('under-forgetting') });
    expect(r.code).toBe(1);
    // the anonymisation preset gates the members too: retain is visible
    r = await cli(['evaluate', '--scores', write(base), '--json', '--preset', 'privacy-audit:anonymisation']);
    expect(JSON.parse(r.stdout).gates.find((g: { id: string }) => g.id === 'before.retain.scores.auc').status).toBe('fail');
  });

  it('split scores with mismatched records or unknown roles are exit 2 with file, line and field', async () => {
    let r = await cli(['evaluate', '--scores', write([{ id: 'a', score: 1, split: 'forget', model: 'target' }])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scores\.jsonl:1: field "model": with splits, "model" is a model role/);
    r = await cli(['evaluate', '--scores', write([{ id: 'a', score: 1, split: 'forgotten' }])]);
    expect(r.stderr).toMatch(/scores\.jsonl:1: field "split": expected one of forget, retain, holdout/);
    r = await cli(['evaluate', '--scores', write([{ id: 'a', score: 1, split: 'holdout', member: true }])]);
    expect(r.stderr).toContain('member is true but split is holdout');
    r = await cli(['evaluate', '--scores', write([{ id: 'a', score: 1, split: 'holdout' }, { id: 'b', score: 1, split: 'holdout', model: 'after' }])]);
    expect(r.stderr).toContain('every model must score the same records');
  });
});

