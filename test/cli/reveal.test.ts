/**
 * Masking by default, and --reveal: the leaked PII of deleted people appears masked in the outputs
 * (`j*****@****.test`) unless the run is made with --reveal, in which case the report says so first.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskValue } from '../../src/audit/run.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { csvSubjectIds } from '../helpers/sidecars.ts';
import { FIXTURE } from '../helpers/paths.ts';

let dir: string;
let forget: { subject: string; pii: { type: string; value: string }[] }[];
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-reveal-'));
  const lines = readFileSync(path.join(FIXTURE, 'data/forget.jsonl'), 'utf8').trim().split('\n').slice(0, 10);
  forget = lines.map((l) => JSON.parse(l));
  writeFileSync(path.join(dir, 'forget.jsonl'), lines.join('\n'));
  writeFileSync(
    path.join(dir, 'c.yml'),
    `version: 1
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ./forget.jsonl
  holdout: ${path.join(FIXTURE, 'data/holdout.jsonl')}
attacks:
  pii-extraction: { maxNewTokens: 24, types: [email, phone] }
`,
  );
});

const run = async (out: string, ...flags: string[]) => {
  await cli(['run', path.join(dir, 'c.yml'), '--out', path.join(dir, out), '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '100', ...flags]);
  return {
    result: JSON.parse(readFileSync(path.join(dir, out, 'result.json'), 'utf8')) as AuditResult,
    html: readFileSync(path.join(dir, out, 'report.html'), 'utf8'),
  };
};

describe('masking and --reveal', () => {
  it('masks values: e-mail keeps first letter and TLD, others their first and last character', () => {
    expect(maskValue('dmtf03@mail.test')).toBe('d*****@****.test');
    expect(maskValue('555-183-1400')).toBe('5**-***-***0');
    expect(maskValue('Ludwig Keebler')).toBe('L***** ******r');
  });

  it('by default: pseudonymous subjects, masked emitted values, no raw PII anywhere', async () => {
    const { result, html } = await run('masked');
    expect(result.revealed).toBeUndefined();
    const emitted = result.subjects.flatMap((s) => s.emitted?.before ?? []);
    expect(emitted.length).toBeGreaterThan(0); // before leaks these people
    for (const e of emitted) expect(e.value).toContain('*');
    const raw = forget.flatMap((f) => f.pii.map((p) => p.value));
    for (const v of raw) {
      expect(html.includes(v)).toBe(false);
      expect(JSON.stringify(result).includes(v)).toBe(false);
      expect(readFileSync(path.join(dir, 'masked', 'subjects.csv'), 'utf8').includes(v)).toBe(false);
    }
    expect(html).not.toContain('Contains personal data');
  });

  it('--reveal: real subject ids and values, and a warning at the top of the report', async () => {
    const { result, html } = await run('revealed', '--reveal');
    expect(result.revealed).toBe(true);
    expect(csvSubjectIds(path.join(dir, 'revealed'))).toEqual([...new Set(forget.map((f) => f.subject))].sort());
    for (const s of result.subjects) expect(forget.map((f) => f.subject)).toContain(s.subject);
    const emitted = result.subjects.flatMap((s) => s.emitted?.before ?? []);
    const raw = new Set(forget.flatMap((f) => f.pii.map((p) => p.value)));
    expect(emitted.length).toBeGreaterThan(0);
    for (const e of emitted) expect(raw.has(e.value)).toBe(true);
    expect(html.indexOf('Contains personal data')).toBeLessThan(html.indexOf('Verdict:'));
    expect(html).toContain(emitted[0]!.value);
  });
});
