/**
 * Reports bound to their evidence: `verify` re-hashes the inputs and cache entries a result names
 * when they are at hand, refuses a result whose verdict does not follow from its gates (or whose
 * gates do not follow from its findings), and checks Ed25519 signatures; `report` refuses to render
 * an inconsistent result.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.ts';
import { renderJson } from '../../reports/json.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE, REPO } from '../helpers/paths.ts';

let dir: string;
/** evaluate --scores, signed: result.json, result.json.sig, report.html (signed), junit.xml, summary.md. */
let evalOut: string;
/** A small `run` (loss on before/after) with its cache beside the outputs. */
let runDir: string;
let key: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-evidence-'));
  const rows = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `r${i}`, score: (i % 100) + (i < 100 ? 60 : 0), member: i < 100, subject: `s${i}` }));
  writeFileSync(path.join(dir, 'scores.jsonl'), rows.join('\n'));
  key = path.join(dir, 'k.pem');
  expect((await cli(['keygen', key])).code).toBe(0);
  evalOut = path.join(dir, 'eval');
  const e = await cli(['evaluate', '--scores', path.join(dir, 'scores.jsonl'), '--out', evalOut, '--bootstrap', '100', '--sign-key', key]);
  expect(e.code, e.stderr).toBe(1);

  runDir = path.join(dir, 'run');
  cpSync(path.join(REPO, 'test/reports/golden'), path.join(dir, 'golden'), { recursive: true });
  const head = (file: string, n: number) => readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n').slice(0, n).join('\n');
  execFileSync('mkdir', ['-p', runDir]);
  writeFileSync(path.join(runDir, 'forget.jsonl'), head('forget.jsonl', 8));
  writeFileSync(path.join(runDir, 'holdout.jsonl'), head('holdout.jsonl', 8));
  writeFileSync(
    path.join(runDir, 'audit.yml'),
    `version: 1
seed: 5
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
  after: hf:${path.join(FIXTURE, 'models/after-retrained')}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
attacks:
  loss: {}
output: { dir: ./out }
`,
  );
  const r = await cli(['run', path.join(runDir, 'audit.yml'), '--bootstrap', '50', '--workers', '1']);
  expect([0, 1, 4], r.stderr).toContain(r.code);
}, 300_000);

const copy = (from: string) => {
  const d = mkdtempSync(path.join(dir, 'copy-'));
  cpSync(from, d, { recursive: true });
  return d;
};
const read = (f: string) => readFileSync(f, 'utf8');
const edit = (f: string, from: string, to: string) => {
  const s = read(f);
  expect(s).toContain(from);
  writeFileSync(f, s.replace(from, to));
};

describe('inputs are re-hashed when at hand', { timeout: 240_000 }, () => {
  it('a run: config, data and every model file are checked (found beside the report), as are its cache entries', async () => {
    const r = await cli(['verify', path.join(runDir, 'out', 'report.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('ok   input config audit.yml has the SHA-256 the result records');
    expect(r.stderr).toContain('ok   input data:forget forget.jsonl');
    expect(r.stderr).toMatch(/ok {3}input model:before \S+models\/before\/onnx\/model\.onnx/);
    expect(r.stderr).toContain('ok   cache-manifest.txt is the list of cache entries the result names');
    expect(r.stderr).toMatch(/ok {3}the \d+ cache entries the result rests on are unchanged/);
    expect(r.stderr).toContain('verified: intact');
  });

  it('a data file or the config changed since the report: exit 1 naming it', async () => {
    const d = copy(runDir);
    appendFileSync(path.join(d, 'forget.jsonl'), `\n${JSON.stringify({ id: 'late', text: 'added after the audit' })}`);
    appendFileSync(path.join(d, 'audit.yml'), '# edited\n');
    const r = await cli(['verify', path.join(d, 'out', 'result.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`FAIL input data:forget forget.jsonl has the SHA-256 the result records (${path.join(d, 'forget.jsonl')} has changed since the report`);
    expect(r.stderr).toContain('FAIL input config audit.yml');
    expect(r.stderr).toContain('verification FAILED: the inputs or cache entries differ from those the report was computed from');
  });

  it('inputs not at hand are "not checked", never "ok"; --inputs points at them', async () => {
    const lone = mkdtempSync(path.join(os.tmpdir(), 'pa-evidence-lone-'));
    cpSync(evalOut, path.join(lone, 'report'), { recursive: true });
    const r = await cli(['verify', path.join(lone, 'report', 'report.html')], { cwd: lone });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("--   input scores scores.jsonl has the SHA-256 the result records (not checked: not at hand (none of the inputs was found unchanged near the report; give --inputs with the config's folder))");
    expect(r.stderr).toMatch(/verified: intact \(\d+ check\(s\) not made/);
    // An unrelated file of the same name in the working folder is not taken for an edited input.
    writeFileSync(path.join(lone, 'scores.jsonl'), '{"id":"other","score":1,"member":true}\n');
    const unrelated = await cli(['verify', path.join(lone, 'report', 'report.html')], { cwd: lone });
    expect(unrelated.code).toBe(0);
    expect(unrelated.stderr).toContain('--   input scores scores.jsonl has the SHA-256 the result records (not checked');
    // Named explicitly, it is checked, and differs.
    const named = await cli(['verify', path.join(lone, 'report', 'report.html'), '--inputs', lone]);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`FAIL input scores scores.jsonl has the SHA-256 the result records (${path.join(lone, 'scores.jsonl')} has changed since the report`);
    const given = await cli(['verify', path.join(lone, 'report', 'report.html'), '--inputs', dir], { cwd: lone });
    expect(given.code).toBe(0);
    expect(given.stderr).toContain('ok   input scores scores.jsonl');
    const missing = await cli(['verify', path.join(lone, 'report', 'report.html'), '--inputs', path.join(lone, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${path.join(lone, 'nowhere')}: not found (--inputs expects the config file`);
  });

  it('an edited cache entry is caught; an edited cache-manifest.txt is caught; no cache at hand is "not checked"', async () => {
    const d = copy(runDir);
    const cacheDir = path.join(d, 'out', '.cache');
    const entry = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).find((f) => f.isFile() && f.name.endsWith('.json'))!;
    const f = path.join(entry.parentPath, entry.name);
    const text = read(f);
    const i = text.search(/[1-8]/);
    writeFileSync(f, text.slice(0, i) + String(Number(text[i]) + 1) + text.slice(i + 1));
    const r = await cli(['verify', path.join(d, 'out', 'report.html')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAIL the \d+ cache entries the result rests on are unchanged \(1 changed since the report: [0-9a-f]{64}\)/);

    const m = path.join(d, 'out', 'cache-manifest.txt');
    writeFileSync(m, read(m).replace(/^[0-9a-f]/, (c) => (c === 'a' ? 'b' : 'a')));
    const rm = await cli(['verify', path.join(d, 'out', 'report.html')]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('FAIL cache-manifest.txt is the list of cache entries the result names');

    const clean = copy(path.join(runDir, 'out'));
    execFileSync('rm', ['-rf', path.join(clean, '.cache')]);
    const nc = await cli(['verify', path.join(clean, 'result.json')]);
    expect(nc.code).toBe(0);
    expect(nc.stderr).toMatch(/-- {3}the \d+ cache entries the result rests on are unchanged \(not checked: no cache at/);
  });
});

describe('the verdict must follow from the evidence', { timeout: 240_000 }, () => {
  it('a result.json edited from fail to pass: verify says inconsistent (exit 1), report refuses it (exit 2) and writes nothing', async () => {
    const d = copy(evalOut);
    edit(path.join(d, 'result.json'), '"verdict": "fail"', '"verdict": "pass"');
    const v = await cli(['verify', path.join(d, 'result.json')]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('FAIL the verdict (pass) follows from the gates (the gates give "fail")');
    expect(v.stderr).toContain('inconsistent: the verdict does not follow from its own evidence');
    const out = path.join(d, 'rendered');
    const r = await cli(['report', path.join(d, 'result.json'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `privacy-audit: error: ${path.join(d, 'result.json')}: field "verdict": inconsistent result: verdict (pass) follows from the gates is false (the gates give "fail"); refusing to render it`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('gates edited to pass along with the verdict: the findings still fail them (run result)', async () => {
    const d = copy(path.join(dir, 'golden'));
    const result = JSON.parse(read(path.join(d, 'result.json'))) as AuditResult;
    const forged: AuditResult = { ...result, verdict: 'pass', gates: result.gates.map((g) => ({ ...g, status: 'pass' })) };
    writeFileSync(path.join(d, 'result.json'), renderJson(forged));
    const v = await cli(['verify', path.join(d, 'result.json')]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('ok   the verdict (pass) follows from the gates');
    expect(v.stderr).toMatch(/FAIL the gates follow from the findings \(gate "[^"]+" is recorded as (error|warn) pass, the findings give (error|warn) fail\)/);
    const r = await cli(['report', path.join(d, 'result.json'), '--out', path.join(d, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('inconsistent result: gates follow from the findings is false');
  });

  it('a forged report.html whose hash and rendering are self-consistent is still inconsistent', async () => {
    const d = mkdtempSync(path.join(dir, 'forged-'));
    const result = JSON.parse(read(path.join(dir, 'golden', 'result.json'))) as AuditResult;
    const forged: AuditResult = { ...result, verdict: 'pass' };
    writeFileSync(path.join(d, 'report.html'), await renderHtml(forged));
    const v = await cli(['verify', path.join(d, 'report.html')]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('ok   the page is exactly what its embedded result renders to');
    expect(v.stderr).toContain('FAIL the verdict (pass) follows from the gates');
  });
});

describe('signatures', { timeout: 240_000 }, () => {
  const pub = () => `${key}.pub`;

  it('a signed report and result.json verify with the public key; without a key the signature is reported, not trusted', async () => {
    for (const f of ['report.html', 'result.json']) {
      const r = await cli(['verify', path.join(evalOut, f), '--key', pub()]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`ok {3}${f.replace('.', '\\.')}'s signature \\(key [0-9a-f]{16}\\)`));
    }
    const nokey = await cli(['verify', path.join(evalOut, 'report.html')]);
    expect(nokey.code).toBe(0);
    expect(nokey.stderr).toMatch(/-- {3}report\.html's signature \(key [0-9a-f]{16}\) \(not checked: give --key PUBLIC\.pem to check it\)/);
  });

  it('one byte edited: the signature fails', async () => {
    const d = copy(evalOut);
    // A byte the renderer does not check: inside the page's CSS.
    edit(path.join(d, 'report.html'), 'cursor: pointer', 'cursor: pointeR');
    const h = await cli(['verify', path.join(d, 'report.html'), '--key', pub()]);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/FAIL report\.html's signature \(key [0-9a-f]{16}\) \(the signature does not match the page\)/);
    expect(h.stderr).toContain('the signature does not verify');

    edit(path.join(d, 'result.json'), '"seed": 1', '"seed": 2');
    const j = await cli(['verify', path.join(d, 'result.json'), '--key', pub()]);
    expect(j.code).toBe(1);
    expect(j.stderr).toMatch(/FAIL result\.json's signature \(key [0-9a-f]{16}\) \(the signature does not match result\.json\)/);
  });

  it('the wrong key fails; an unsigned report fails when a key is given', async () => {
    const other = path.join(dir, 'other.pem');
    expect((await cli(['keygen', other])).code).toBe(0);
    const w = await cli(['verify', path.join(evalOut, 'report.html'), '--key', `${other}.pub`]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/FAIL report\.html's signature \(key ([0-9a-f]{16})\) \(signed with key \1, not with the given key [0-9a-f]{16}\)/);
    // A forger re-renders an edited result without the key: the page carries no signature.
    const d = copy(evalOut);
    const r = await cli(['report', path.join(d, 'result.json')]);
    expect(r.code).toBe(1);
    const u = await cli(['verify', path.join(d, 'report.html'), '--key', pub()]);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('FAIL report.html is signed (it carries no signature)');
    // result.json's detached signature over unchanged bytes survives the re-render.
    expect((await cli(['verify', path.join(d, 'result.json'), '--key', pub()])).code).toBe(0);
  });

  it('PRIVACY_AUDIT_SIGN_KEY signs like --sign-key (Ed25519 is deterministic: the same bytes)', async () => {
    const out = path.join(dir, 'env-signed');
    const env = { ...process.env, PRIVACY_AUDIT_SIGN_KEY: key };
    const r = await new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, [path.join(REPO, 'bin/privacy-audit.js'), 'evaluate', '--scores', path.join(dir, 'scores.jsonl'), '--out', out, '--bootstrap', '100'], { env, stdio: 'ignore' });
      c.on('close', resolve);
    });
    expect(r).toBe(1);
    expect(read(path.join(out, 'result.json.sig'))).toBe(read(path.join(evalOut, 'result.json.sig')));
    expect(read(path.join(out, 'report.html'))).toBe(read(path.join(evalOut, 'report.html')));
  });

  it('a bad or missing key is exit 2 naming the file, before anything is computed; keygen never overwrites', async () => {
    const bad = path.join(dir, 'bad.pem');
    writeFileSync(bad, 'not a key\n');
    const out = path.join(dir, 'never');
    const r = await cli(['evaluate', '--scores', path.join(dir, 'scores.jsonl'), '--out', out, '--sign-key', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`privacy-audit: error: ${bad}: not a PEM private key (make one with \`privacy-audit keygen FILE\`)`);
    expect(existsSync(out)).toBe(false);
    const pubAsPrivate = await cli(['evaluate', '--scores', path.join(dir, 'scores.jsonl'), '--out', out, '--sign-key', `${key}.pub`]);
    expect(pubAsPrivate.code).toBe(2);
    const missing = await cli(['verify', path.join(evalOut, 'report.html'), '--key', path.join(dir, 'nope.pub')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${path.join(dir, 'nope.pub')}: public key not found`);
    const again = await cli(['keygen', key]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${key}: already exists; refusing to overwrite a key`);
    expect(readFileSync(key).length).toBeGreaterThan(0);
    chmodSync(key, 0o600);
  });
});
