/**
 * Pseudonyms through the CLI: keyed (HMAC-SHA-256) under a key that no output holds, stable for
 * re-runs into the same folder and across folders with PRIVACY_AUDIT_PSEUDONYM_KEY, and ids of deleted
 * people (given as `data.forgetSubjects`, named in the deletion reference, in a model's path) and
 * PII values in no output file without --reveal.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pseudonym, PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE } from '../../src/pseudonym.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { csvSubjectIds } from '../helpers/sidecars.ts';
import { FIXTURE } from '../helpers/paths.ts';

delete process.env[PSEUDONYM_KEY_ENV];

interface Rec {
  id: string;
  subject: string;
  pii?: { type: string; value: string }[];
}
const read = (file: string): Rec[] =>
  readFileSync(path.join(FIXTURE, 'data', file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);
const OUTPUTS = ['result.json', 'report.html', 'junit.xml', 'summary.md', 'run.json', 'subjects.csv'];

let dir: string;
let forgetIds: string[];
let allPii: string[];
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-pseudo-'));
  const members = read('members.jsonl');
  forgetIds = [...new Set(read('forget.jsonl').map((r) => r.subject))].slice(0, 5);
  const mine = members.filter((m) => forgetIds.includes(m.subject));
  const others = members.filter((m) => !forgetIds.includes(m.subject)).slice(0, 30);
  writeFileSync(path.join(dir, 'members.jsonl'), [...mine, ...others].map((r) => JSON.stringify(r)).join('\n'));
  writeFileSync(path.join(dir, 'holdout.jsonl'), read('holdout.jsonl').slice(0, 24).map((r) => JSON.stringify(r)).join('\n'));
  // Every PII value anywhere in the fixture, not only in the records audited here.
  allPii = [...new Set(['members.jsonl', 'forget.jsonl', 'holdout.jsonl'].flatMap((f) => read(f).flatMap((r) => (r.pii ?? []).map((p) => p.value))))];
  const first = mine.find((m) => m.subject === forgetIds[0])!;
  const name = first.pii!.find((p) => p.type === 'name')?.value ?? first.pii![0]!.value;
  const email = first.pii!.find((p) => p.type === 'email')?.value ?? first.pii![0]!.value;
  // A model folder named after the deletion request, as teams do.
  mkdirSync(path.join(dir, 'models'));
  symlinkSync(path.join(FIXTURE, 'models/after-retrained'), path.join(dir, 'models', `without-${forgetIds[0]}`));
  writeFileSync(
    path.join(dir, 'c.yml'),
    `version: 1
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
  after: hf:./models/without-${forgetIds[0]}
data:
  members: ./members.jsonl
  forgetSubjects: [${forgetIds.map((s) => JSON.stringify(s)).join(', ')}]
  holdout: ./holdout.jsonl
deletion:
  method: retrained without ${forgetIds[1]} and the others
  reference: "DSR-2024-17: erase ${forgetIds[0]} (${name}, ${email})"
report:
  threatModel: "An insider who knows ${forgetIds[2]} was a customer."
attacks:
  loss: {}
  pii-extraction: { maxNewTokens: 24, types: [email, phone] }
`,
  );
});

async function run(out: string, opts: { flags?: string[]; key?: string } = {}) {
  if (opts.key) process.env[PSEUDONYM_KEY_ENV] = opts.key;
  try {
    const r = await cli(['run', path.join(dir, 'c.yml'), '--out', path.join(dir, out), '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '100', ...(opts.flags ?? [])]);
    expect(r.stderr).not.toMatch(/error|runtime failure/);
    expect([0, 1, 4]).toContain(r.code);
    return r;
  } finally {
    delete process.env[PSEUDONYM_KEY_ENV];
  }
}
const text = (out: string, f = 'result.json') => readFileSync(path.join(dir, out, f), 'utf8');
const result = (out: string) => JSON.parse(text(out)) as AuditResult;
const word = (s: string) => new RegExp(`(?<![\\p{L}\\p{N}_])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}_])`, 'u');
/** Every file under a folder, recursively (the cache included), but the key file itself. */
const filesUnder = (d: string): string[] =>
  readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== PSEUDONYM_KEY_FILE)
    .map((e) => path.join(e.parentPath, e.name));

describe('pseudonyms', () => {
  it('a key file is created 0600 in the output folder, and no output holds the key', async () => {
    const r = await run('a');
    expect(r.stderr).toContain('pseudonym key created');
    const keyFile = path.join(dir, 'a', PSEUDONYM_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex');
    expect(key.length).toBe(32);
    const forms = [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), key.toString('base64url')];
    const files = [...filesUnder(path.join(dir, 'a')), ...filesUnder(path.join(dir, 'cache'))];
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(OUTPUTS));
    for (const f of files) {
      const body = readFileSync(f);
      for (const form of forms) expect(body.includes(form), `${f} holds the key`).toBe(false);
    }
    expect(r.stderr.includes(key.toString('hex'))).toBe(false);
    // The pseudonyms are HMAC-SHA-256 under that key.
    const res = result('a');
    expect(csvSubjectIds(path.join(dir, 'a'))).toEqual(forgetIds.map((s) => pseudonym(key, s)).sort());
    for (const s of res.subjects) expect(csvSubjectIds(path.join(dir, 'a'))).toContain(s.subject);
  }, 300_000);

  it('no forget id and no PII value of the fixture in any output, config echoes included', () => {
    for (const f of OUTPUTS) {
      const body = text('a', f);
      for (const id of forgetIds) expect(word(id).test(body), `${f} names ${id}`).toBe(false);
      for (const v of allPii) expect(body.includes(v), `${f} holds ${v}`).toBe(false);
    }
    const res = result('a');
    const cfg = res.config as { data: { forgetSubjects: string[] }; deletion: { reference: string; method: string }; models: { after: string } };
    expect(cfg.data.forgetSubjects).toEqual(csvSubjectIds(path.join(dir, 'a')));
    const p0 = csvSubjectIds(path.join(dir, 'a')).map((subject) => ({ subject })).find((s) => cfg.deletion.reference.includes(s.subject));
    expect(p0).toBeDefined();
    expect(cfg.deletion.reference).toMatch(/^DSR-2024-17: erase S-[0-9a-f]{12} \([^,]*\*[^,]*, \S\*+@[*.a-z]+\)$/);
    expect(cfg.models.after).toBe(`hf:./models/without-${p0!.subject}`);
    expect(res.models.find((m) => m.role === 'after')!.ref).toBe(`hf:./models/without-${p0!.subject}`);
    expect(res.inputs.filter((i) => i.role === 'model:after').every((i) => i.path.includes(`without-${p0!.subject}/`))).toBe(true);
    // The subjects did leak through pii-extraction on `before`, so masked values were there to find.
    expect(res.subjects.some((s) => (s.emitted?.before ?? []).length > 0)).toBe(true);
  }, 300_000);

  it('a re-run into the same folder reuses the key: byte-identical result.json', async () => {
    const key = readFileSync(path.join(dir, 'a', PSEUDONYM_KEY_FILE), 'utf8');
    const first = text('a');
    const r = await run('a');
    expect(r.stderr).not.toContain('pseudonym key created');
    expect(text('a')).toBe(first);
    expect(readFileSync(path.join(dir, 'a', PSEUDONYM_KEY_FILE), 'utf8')).toBe(key);
  }, 300_000);

  it('another folder gets another key, hence other pseudonyms', async () => {
    await run('b');
    const a = csvSubjectIds(path.join(dir, 'a'));
    const b = csvSubjectIds(path.join(dir, 'b'));
    expect(b.length).toBe(a.length);
    for (const s of b) expect(a).not.toContain(s);
  }, 300_000);

  it('PRIVACY_AUDIT_PSEUDONYM_KEY: the same pseudonyms in every folder, and no key file written', async () => {
    const key = Buffer.alloc(32, 0x5a);
    await run('env1', { key: key.toString('hex') });
    await run('env2', { key: key.toString('base64') });
    expect(text('env2')).toBe(text('env1'));
    expect(csvSubjectIds(path.join(dir, 'env1'))).toEqual(forgetIds.map((s) => pseudonym(key, s)).sort());
    expect(existsSync(path.join(dir, 'env1', PSEUDONYM_KEY_FILE))).toBe(false);
    for (const f of filesUnder(path.join(dir, 'env1'))) expect(readFileSync(f).includes(key.toString('hex'))).toBe(false);
  }, 300_000);

  it('a malformed key is exit 2 naming the variable, before any work', async () => {
    process.env[PSEUDONYM_KEY_ENV] = 'too-short';
    try {
      const r = await cli(['run', path.join(dir, 'c.yml'), '--out', path.join(dir, 'bad'), '--cache-dir', path.join(dir, 'cache')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(PSEUDONYM_KEY_ENV);
      expect(r.stderr).not.toContain('too-short');
      expect(existsSync(path.join(dir, 'bad', 'result.json'))).toBe(false);
    } finally {
      delete process.env[PSEUDONYM_KEY_ENV];
    }
  }, 300_000);

  it('re-rendering needs no key: `report` elsewhere gives the same report, and verify passes', async () => {
    const copy = path.join(dir, 'rerender');
    mkdirSync(copy);
    cpSync(path.join(dir, 'a', 'result.json'), path.join(copy, 'result.json'));
    cpSync(path.join(dir, 'a', 'run.json'), path.join(copy, 'run.json'));
    const r = await cli(['report', path.join(copy, 'result.json')]);
    expect([0, 1, 4]).toContain(r.code);
    expect(existsSync(path.join(copy, PSEUDONYM_KEY_FILE))).toBe(false);
    expect(readFileSync(path.join(copy, 'report.html'), 'utf8')).toBe(text('a', 'report.html'));
    expect((await cli(['verify', path.join(copy, 'report.html')])).code).toBe(0);
  }, 300_000);

  it('--reveal shows the real ids (and needs no key)', async () => {
    await run('revealed', { flags: ['--reveal'] });
    const res = result('revealed');
    expect(csvSubjectIds(path.join(dir, 'revealed'))).toEqual([...forgetIds].sort());
    for (const s of res.subjects) expect(forgetIds).toContain(s.subject);
    expect((res.config as { data: { forgetSubjects: string[] } }).data.forgetSubjects).toEqual(forgetIds);
    expect(existsSync(path.join(dir, 'revealed', PSEUDONYM_KEY_FILE))).toBe(false);
  }, 300_000);
});
