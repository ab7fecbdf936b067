/** `privacy-audit evaluate --scores`: bring-your-own scores give the same findings as an attack would. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { membershipFinding } from '../../src/audit/measure.ts';
import { auc } from '../../src/metrics/index.ts';
import { cli } from '../helpers/cli.ts';
import { REPO } from '../helpers/paths.ts';

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
    expect([0, 1]).toContain(r.code);
    const result = JSON.parse(r.stdout);
    expect(result.schemaVersion).toBe(1);
    const finding = result.findings[0];
    expect(finding).toMatchObject({ attack: 'scores', model: 'scores', positive: 'member', negative: 'nonmember', n: { positive: c.positives.length, negative: c.negatives.length } });
    expect(Math.abs(finding.auc.value - c.expected.auc)).toBeLessThan(1e-9);
    for (const x of ['0.001', '0.01', '0.1']) expect(Math.abs(finding.tprAtFpr[x].value - c.expected.tprAtFpr[x]!)).toBeLessThan(1e-9);
    expect(Math.abs(finding.advantage.value - c.expected.advantage)).toBeLessThan(1e-9);
    expect(Math.abs(finding.ks.statistic - c.expected.ks.statistic)).toBeLessThan(1e-9);
    expect(Math.abs(finding.ks.pvalue - c.expected.ks.pvalue) / c.expected.ks.pvalue).toBeLessThan(1e-6);
    expect(finding.auc.lo).toBeLessThanOrEqual(finding.auc.value);
    expect(finding.auc.hi).toBeGreaterThanOrEqual(finding.auc.value);
    expect(r.code).toBe(finding.auc.hi <= 0.6 ? 0 : 1);
    expect(result.verdict).toBe(finding.auc.hi <= 0.6 ? 'pass' : 'fail');
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
    const pos = rows.map((x, i) => ({ x, s: (i * 7919) % 101 })).filter((y) => y.x.member).map((y) => y.s);
    const neg = rows.map((x, i) => ({ x, s: (i * 7919) % 101 })).filter((y) => !y.x.member).map((y) => y.s);
    expect(result.findings[1].auc.value).toBeCloseTo(auc(pos, neg), 12);
    // Intervals: exactly what the measure stage computes for an attack's scores.
    const same = membershipFinding('scores', 'shuffled', { name: 'member', scores: pos }, { name: 'nonmember', scores: neg }, { seed: 1, iterations: 1000 });
    expect(result.findings[1]).toEqual(JSON.parse(JSON.stringify(same)));
    for (const name of ['report.html', 'junit.xml', 'summary.md']) expect(readFileSync(path.join(out, name), 'utf8').length).toBeGreaterThan(100);
    expect(r.code).toBe(1); // the target's AUC interval is far above 0.6
    expect(r.stderr).toContain('verdict: FAIL');
  });

  it('is deterministic: the same seed gives the same bytes; another seed other intervals', async () => {
    const dir = tmp();
    const f = path.join(dir, 'scores.jsonl');
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n'));
    const a = await cli(['evaluate', '--scores', f, '--json']);
    const b = await cli(['evaluate', '--scores', f, '--json']);
    const c2 = await cli(['evaluate', '--scores', f, '--json', '--seed', '2']);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(c2.stdout).findings[0].auc.lo).not.toBe(JSON.parse(a.stdout).findings[0].auc.lo);
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
