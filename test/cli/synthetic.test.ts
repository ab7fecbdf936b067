/**
 * `target: { synthetic }` end to end through the real CLI: the demo's memorising generator fails
 * with lower bounds above the preset's thresholds and its private one passes or is inconclusive;
 * the report names no training person; a text target; a bad cell is exit 2 naming file, line, column.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import type { AuditResult } from '../../src/result/types.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'pa-synthetic-'));
const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as AuditResult;

describe('synthetic-data audit (CLI)', () => {
  it('demo --scenario synthetic: memorising fails clearly, private passes or is inconclusive', async () => {
    const out = tmp();
    const r = await cli(['demo', '--scenario', 'synthetic', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    const mem = read(path.join(out, 'memorising', 'result.json'));
    const priv = read(path.join(out, 'private', 'result.json'));
    expect(mem.verdict).toBe('fail');
    expect(['pass', 'inconclusive']).toContain(priv.verdict);
    const gate = (res: AuditResult, prefix: string) => res.gates.filter((g) => g.id.startsWith(prefix));
    // lower bounds clearly above the thresholds: residual risks (0.05) and DOMIAS AUC (0.55)
    for (const p of ['synthetic.linkability.', 'synthetic.attribute-inference.', 'synthetic.domias.auc', 'synthetic.singling-out.multivariate'])
      for (const g of gate(mem, p)) {
        expect(g.status, g.id).toBe('fail');
        expect(g.interval!.lo, g.id).toBeGreaterThan(p.includes('domias') ? 0.6 : 0.1);
      }
    expect(gate(mem, 'synthetic.dcr.copies')[0]!.status).toBe('fail');
    expect(priv.gates.filter((g) => g.status === 'fail')).toEqual([]);
    expect(mem.synthetic!.coverage.map((c) => c.status)).toEqual(['fail', 'fail', 'fail', 'fail']);
    // the report is self-contained and names nobody: no subject id from the training data appears
    const html = readFileSync(path.join(out, 'memorising', 'report.html'), 'utf8');
    const members = readFileSync(path.join(out, 'demo-inputs', 'members.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]!);
    expect(mem.synthetic!.subjects.length).toBeGreaterThan(100);
    for (const s of members.slice(0, 200)) expect(html).not.toContain(s);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']https?:/);
  }, 90_000);

  it('a text target: verbatim and n-gram echoes of members, with people as the unit', async () => {
    const dir = tmp();
    const rows = (prefix: string, n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}${i}`, subject: `${prefix}-person-${i}`, text: f(i) })).join('\n');
    const words = ['ticket', 'refund', 'order', 'delivery', 'late', 'broken', 'package', 'invoice', 'account', 'password', 'reset', 'address'];
    const sentence = (seed: number) => Array.from({ length: 14 }, (_, k) => words[(seed * 7 + k * (seed % 5 + 1)) % words.length]).join(' ') + ` code ${seed * 31}`;
    writeFileSync(path.join(dir, 'members.jsonl'), rows('m', 40, (i) => sentence(i)));
    writeFileSync(path.join(dir, 'holdout.jsonl'), rows('h', 40, (i) => sentence(i + 1000)));
    writeFileSync(path.join(dir, 'synthetic.jsonl'), rows('s', 40, (i) => sentence(i)));
    writeFileSync(path.join(dir, 'audit.yml'), 'target: { synthetic: synthetic.jsonl, kind: text }\ndata: { members: members.jsonl, holdout: holdout.jsonl }\n');
    const r = await cli(['run', path.join(dir, 'audit.yml'), '--out', path.join(dir, 'out')]);
    expect(r.code, r.stderr).toBe(1);
    const res = read(path.join(dir, 'out', 'result.json'));
    const f = res.findings.find((x) => x.attack === 'text-overlap:verbatim-8gram')!;
    expect(f.unit).toBe('subject');
    expect(f.auc.lo).toBeGreaterThan(0.9);
  }, 60_000);

  it('a non-number in a declared numeric column: exit 2 naming file, line and column', async () => {
    const dir = tmp();
    const csv = (n: number, bad = -1) => `id,age,sex\n${Array.from({ length: n }, (_, i) => `r${i},${i === bad ? 'forty' : 20 + i},${i % 2 ? 'F' : 'M'}`).join('\n')}\n`;
    writeFileSync(path.join(dir, 'synthetic.csv'), csv(10));
    writeFileSync(path.join(dir, 'members.csv'), csv(10, 3));
    writeFileSync(path.join(dir, 'holdout.csv'), csv(10));
    writeFileSync(path.join(dir, 'audit.yml'), 'target:\n  synthetic: synthetic.csv\n  columns: { age: numeric }\ndata: { members: members.csv, holdout: holdout.csv }\n');
    const r = await cli(['run', path.join(dir, 'audit.yml'), '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, 'members.csv')}:5: field "age": expected a number (column "age" is declared numeric in target.columns), got "forty"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
