/**
 * End to end on the shipped fixture pair, through the real CLI: `before` leaks the deleted subjects,
 * `after` (retrained without them) does not; the outputs exist, re-render identically without any
 * model, and hold none of the deleted people's PII.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli, type CliResult } from '../helpers/cli.ts';
import { csvSubjectIds } from '../helpers/sidecars.ts';
import { FIXTURE } from '../helpers/paths.ts';

let out: string;
let r: CliResult;
let result: AuditResult;

beforeAll(async () => {
  out = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-demo-')), 'report');
  r = await cli(['demo', '--out', out]);
  result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;
}, 600_000);

const finding = (attack: string, model: string, positive = 'forget') =>
  result.findings.find((f) => f.attack === attack && f.model === model && f.positive === positive && f.negative === 'holdout')!;
const extraction = (attack: string, model: string, split: string) =>
  result.extraction.find((e) => e.attack === attack && e.model === model && e.split === split)!;

describe('demo: before leaks, after does not', () => {
  it('writes every output and prints the verdict', () => {
    expect(r.stderr).toMatch(/verdict: (PASS|FAIL|INCONCLUSIVE)/);
    expect(r.code).toBe({ pass: 0, fail: 1, inconclusive: 4 }[result.verdict]);
    expect(result.verdict).toBe('pass'); // after = retrained without the deleted people: the gold standard passes
    for (const f of ['report.html', 'junit.xml', 'summary.md', 'run.json']) expect(readFileSync(path.join(out, f), 'utf8').length).toBeGreaterThan(100);
    expect(result.attacks.every((a) => a.status === 'ok')).toBe(true);
  });

  it('membership: before separates forget from holdout (AUC lower bound > 0.7); after is at chance', () => {
    const loss = finding('loss', 'before');
    expect(loss.auc.lo).toBeGreaterThan(0.7);
    for (const attack of ['loss', 'zlib', 'min-k']) {
      const after = finding(attack, 'after');
      expect(after.auc.lo).toBeLessThanOrEqual(0.5);
      expect(after.auc.hi).toBeGreaterThanOrEqual(0.5);
    }
    // Positive control: on before, retain records are members too.
    expect(finding('loss', 'before', 'retain').auc.lo).toBeGreaterThan(0.7);
  });

  it('extraction: before emits deleted people’s PII; after emits none, and nothing of holdout people', () => {
    expect(extraction('pii-extraction', 'before', 'forget').hits).toBeGreaterThan(0);
    expect(extraction('pii-extraction', 'before', 'forget').subjects.leaked).toBeGreaterThan(0);
    expect(extraction('pii-extraction', 'after', 'forget').hits).toBe(0);
    expect(extraction('pii-extraction', 'after', 'holdout').hits).toBe(0);
    expect(extraction('pii-extraction', 'before', 'holdout').hits).toBe(0);
    const subjects = result.subjects;
    // listed: the people who leaked or were flagged; subjects.csv has every one
    expect(subjects.length + result.subjectsNotListed!).toBe(result.data.forget!.subjects);
    expect(csvSubjectIds(out).length).toBe(result.data.forget!.subjects);
    expect(subjects.some((s) => (s.leakedBy.before ?? []).length > 0)).toBe(true);
    expect(subjects.every((s) => (s.leakedBy.after ?? []).length === 0 || !(s.leakedBy.after ?? []).includes('pii-extraction'))).toBe(true);
  });

  it('outputs hold no record text and none of the deleted subjects’ PII or ids', () => {
    const forget = readFileSync(path.join(FIXTURE, 'data/forget.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { subject: string; text: string; pii: { value: string }[] });
    const values = new Set(forget.flatMap((f) => f.pii.map((p) => p.value)));
    for (const file of ['result.json', 'report.html', 'junit.xml', 'summary.md', 'subjects.csv']) {
      const body = readFileSync(path.join(out, file), 'utf8');
      for (const v of values) expect(body.includes(v), `${file} contains PII "${v}"`).toBe(false);
      for (const f of forget.slice(0, 20)) expect(body.includes(f.text.slice(0, 40))).toBe(false);
    }
    const subjectIds = new Set(forget.map((f) => f.subject));
    for (const s of csvSubjectIds(out)) expect(subjectIds.has(s)).toBe(false);
  });

  it('`report result.json` re-renders the same files without any model', async () => {
    const before = ['report.html', 'junit.xml', 'summary.md'].map((f) => readFileSync(path.join(out, f), 'utf8'));
    for (const f of ['report.html', 'junit.xml', 'summary.md']) rmSync(path.join(out, f));
    const rr = await cli(['report', path.join(out, 'result.json')]);
    expect(rr.code).toBe(r.code);
    const after = ['report.html', 'junit.xml', 'summary.md'].map((f) => readFileSync(path.join(out, f), 'utf8'));
    expect(after).toEqual(before);
  });
});
