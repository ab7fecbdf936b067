/**
 * Outputs are atomic and never stale: the output folder is checked before any work; the outputs of
 * an earlier run are removed before a new run's are put in place; a disk that fills up mid-write
 * leaves each output either absent or complete and from the new run (never truncated, never the
 * earlier run's), exits 3 with one line naming the file, and keeps the finished model work cached.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliResult } from '../helpers/cli.ts';
import { fillLeaving, mountTmpfs, tmpfsUnavailable, unmount } from '../helpers/fs.ts';
import { BIN, FIXTURE, REPO } from '../helpers/paths.ts';
import { createHash } from 'node:crypto';

const OUTPUTS = ['result.json', 'result.json.sig', 'cache-manifest.txt', 'scores.jsonl.gz', 'subjects.csv', 'report.html', 'junit.xml', 'summary.md', 'run.json', 'report.pdf'];
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let passScores: string;
let failScores: string;
/** A previous run's PASS outputs (evaluate, signed), plus the run-only files an earlier `run --pdf` leaves. */
let previous: string;
/** What the new (failing) evaluate writes when there is room: the only bytes allowed to survive. */
let reference: string;
let key: string;
const mounts: string[] = [];

const evaluateArgs = (out: string) => ['evaluate', '--scores', failScores, '--out', out, '--bootstrap', '100', '--sign-key', key];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-outputs-'));
  chmodSync(dir, 0o755);
  // PASS: members and non-members score alike (AUC 0.5). FAIL: members score higher, clearly separable.
  const rows = (n: number, member: (i: number) => boolean, score: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `r${i}`, score: score(i), member: member(i), subject: `s${i}` })).join('\n');
  passScores = path.join(dir, 'pass.jsonl');
  writeFileSync(passScores, rows(1000, (i) => i % 2 === 0, (i) => Math.floor(i / 2) % 97));
  failScores = path.join(dir, 'fail.jsonl');
  writeFileSync(failScores, rows(200, (i) => i < 100, (i) => (i % 100) + (i < 100 ? 60 : 0)));
  for (const f of [passScores, failScores]) chmodSync(f, 0o644);
  key = path.join(dir, 'sign.pem');
  expect((await cli(['keygen', key])).code).toBe(0);

  previous = path.join(dir, 'previous');
  const prev = await cli(['evaluate', '--scores', passScores, '--out', previous, '--bootstrap', '100', '--sign-key', key]);
  expect(prev.code, prev.stderr).toBe(0);
  expect(JSON.parse(readFileSync(path.join(previous, 'result.json'), 'utf8')).verdict).toBe('pass');
  // The files only a `run --pdf` writes (sidecars included), as an earlier run left them.
  writeFileSync(path.join(previous, 'run.json'), '{ "startedAt": "earlier", "note": "an earlier PASS run" }\n');
  writeFileSync(path.join(previous, 'report.pdf'), '%PDF-1.4 earlier run: PASS\n');
  writeFileSync(path.join(previous, 'cache-manifest.txt'), `${'0'.repeat(64)}  ${'1'.repeat(64)}\n`);
  writeFileSync(path.join(previous, 'scores.jsonl.gz'), 'an earlier run\'s per-record scores\n');
  writeFileSync(path.join(previous, 'subjects.csv'), 'subject,records\r\nS-earlier,1\r\n');
  expect(readdirSync(previous).sort()).toEqual([...OUTPUTS].sort());

  reference = path.join(dir, 'reference');
  const ref = await cli(evaluateArgs(reference));
  expect(ref.code, ref.stderr).toBe(1);
  expect(JSON.parse(readFileSync(path.join(reference, 'result.json'), 'utf8')).verdict).toBe('fail');
});

afterAll(() => {
  for (const m of mounts) unmount(m);
});

/** Every output is absent or byte-identical to the new run's; no temporary file is left. */
function expectNothingStale(out: string, ref: string): void {
  const left = readdirSync(out);
  expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  for (const name of OUTPUTS) {
    const f = path.join(out, name);
    if (!existsSync(f)) continue;
    const refFile = path.join(ref, name);
    expect(existsSync(refFile), `${name} survived but the new run does not write it`).toBe(true);
    expect(sha256(readFileSync(f)), `${name} is not the new run's complete file`).toBe(sha256(readFileSync(refFile)));
  }
}

/** Exit 3 and one line naming an output file (no stack trace). */
function expectWriteFailure(r: CliResult, out: string): string {
  expect(r.code, r.stderr).toBe(3);
  const lines = r.stderr.trim().split('\n');
  const last = lines.at(-1)!;
  const m = /^privacy-audit: runtime failure: cannot write (\S+): no space left on device \(ENOSPC\)/.exec(last);
  expect(m, last).not.toBeNull();
  expect(path.dirname(m![1]!)).toBe(out);
  expect(OUTPUTS).toContain(path.basename(m![1]!));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return path.basename(m![1]!);
}

describe('the output folder is checked before any work (exit 2 naming it)', { timeout: 240_000 }, () => {
  it('a file where the folder should be', async () => {
    const f = path.join(dir, 'a-file');
    writeFileSync(f, 'x');
    const r = await cli(evaluateArgs(f));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`privacy-audit: error: ${f}: the output path is a file; expected a folder (--out or output.dir)`);
    const under = await cli(evaluateArgs(path.join(f, 'sub')));
    expect(under.code).toBe(2);
    expect(under.stderr).toContain(`${path.join(f, 'sub')}: the output path runs through a file`);
  });

  it('an output name taken by a folder', async () => {
    const out = path.join(dir, 'taken');
    mkdirSync(path.join(out, 'report.html'), { recursive: true });
    const r = await cli(evaluateArgs(out));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(out, 'report.html')}: is a folder`);
  });

  it('run: an output path that is a file stops before any model is loaded or anything cached', async () => {
    const d = mkdtempSync(path.join(dir, 'run-'));
    const f = path.join(d, 'out');
    writeFileSync(f, 'x');
    writeFileSync(path.join(d, 'audit.yml'), tinyConfig(d));
    const r = await cli(['run', path.join(d, 'audit.yml'), '--out', f, '--cache-dir', path.join(d, 'cache')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: the output path is a file`);
    expect(r.stderr).not.toContain('collecting');
    expect(existsSync(path.join(d, 'cache'))).toBe(false);
  });

  it('--pdf without chromium is exit 2 before anything is written', async () => {
    const out = path.join(dir, 'no-chromium');
    const r = await spawnCli([...evaluateArgs(out), '--pdf'], { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--pdf needs Chromium at /nonexistent/chromium');
    expect(existsSync(out)).toBe(false);
  });

  it.skipIf(tmpfsUnavailable !== undefined)(`a read-only filesystem ${tmpfsUnavailable ? `(skipped: ${tmpfsUnavailable})` : ''}`, async () => {
    const ro = path.join(dir, 'ro');
    expect(mountTmpfs(ro, '64k', { readOnly: true })).toBeUndefined();
    mounts.push(ro);
    const r = await cli(evaluateArgs(ro));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${ro}: the output folder is not writable (read-only file system (EROFS))`);
    const deeper = await cli(evaluateArgs(path.join(ro, 'new', 'out')));
    expect(deeper.code).toBe(2);
    expect(deeper.stderr).toContain(`the output folder cannot be created: ${ro} is not writable`);
  });

  // The other user must be able to read the checkout (a clone in a 0700 temp folder is not).
  const otherCanRead = (): boolean =>
    spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}, require('fs').constants.R_OK)`], { uid: 65534, gid: 65534 }).status === 0;
  const notRoot =
    process.getuid?.() !== 0 ? 'not root: cannot run the CLI as another user' : !otherCanRead() ? 'the checkout is not readable by an unprivileged user' : undefined;
  it.skipIf(notRoot !== undefined)(`permission denied, as an unprivileged user ${notRoot ? `(skipped: ${notRoot})` : ''}`, async () => {
    // A folder the user cannot write.
    const locked = path.join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    const r = await spawnCli(evaluateArgs(locked), {}, 65534);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${locked}: the output folder is not writable (permission denied (EACCES))`);
    // A shared sticky folder (like /tmp) holding another user's earlier PASS outputs: they could not
    // be removed, so they would sit next to this run's. Refused up front, naming the file.
    const sticky = path.join(dir, 'sticky');
    cpSync(previous, sticky, { recursive: true });
    chmodSync(sticky, 0o1777);
    const s = await spawnCli(evaluateArgs(sticky), {}, 65534);
    expect(s.code, s.stderr).toBe(2);
    expect(s.stderr).toMatch(new RegExp(`${sticky}/[a-z.]+: is left from an earlier run by another user \\(uid 0\\)`));
  });
});

describe('outputs of an earlier run never survive next to a new run', { timeout: 240_000 }, () => {
  it('a successful run removes every earlier output it does not rewrite; all outputs carry one run id', async () => {
    const out = path.join(dir, 'replace');
    cpSync(previous, out, { recursive: true });
    const r = await cli(['evaluate', '--scores', failScores, '--out', out, '--bootstrap', '100']);
    expect(r.code).toBe(1);
    expect(readdirSync(out).sort()).toEqual(['junit.xml', 'report.html', 'result.json', 'summary.md']);
    const runId = sha256(readFileSync(path.join(out, 'result.json')));
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain(`<meta name="privacy-audit-result-sha256" content="${runId}">`);
    expect(readFileSync(path.join(out, 'junit.xml'), 'utf8')).toContain(`<property name="privacy-audit.run-id" value="${runId}"/>`);
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain(`Run id \`${runId}\``);
    // Signing adds files but does not change result.json.
    expect(readFileSync(path.join(out, 'result.json'), 'utf8')).toBe(readFileSync(path.join(reference, 'result.json'), 'utf8'));
  });
});

describe.skipIf(tmpfsUnavailable !== undefined)(`a filesystem that fills up mid-write ${tmpfsUnavailable ? `(skipped: ${tmpfsUnavailable})` : ''}`, { timeout: 300_000 }, () => {
  it('evaluate --scores on a full 200k tmpfs: exit 3 naming the file, nothing stale or truncated, at every point of failure', async () => {
    const m = path.join(dir, 'tmpfs-evaluate');
    expect(mountTmpfs(m, '200k')).toBeUndefined();
    mounts.push(m);
    const out = path.join(m, 'out');
    const pinned = path.join(m, 'pinned');
    mkdirSync(out);
    mkdirSync(pinned);
    // The earlier run's PASS outputs, hard-linked from a second folder so that removing them frees
    // nothing: the disk stays as full as it was.
    cpSync(previous, pinned, { recursive: true });
    const failedAt = new Set<string>();
    for (const freePages of [0, 4]) {
      for (const name of OUTPUTS) {
        rmSync(path.join(out, name), { force: true });
        linkSync(path.join(pinned, name), path.join(out, name));
      }
      fillLeaving(path.join(m, 'filler'), freePages);
      const r = await cli(evaluateArgs(out));
      failedAt.add(expectWriteFailure(r, out));
      expectNothingStale(out, reference);
      // All-or-nothing: no file of the new run is put in place unless every one was written.
      expect(readdirSync(out)).toEqual([]);
    }
    // With more room the failure moves past result.json: the point of failure was exercised.
    expect(failedAt.size).toBeGreaterThan(1);
    // Room again: the same command writes every output, complete.
    rmSync(path.join(m, 'filler'));
    rmSync(pinned, { recursive: true });
    const ok = await cli(evaluateArgs(out));
    expect(ok.code).toBe(1);
    expectNothingStale(out, reference);
    expect(readdirSync(out).sort()).toEqual(['junit.xml', 'report.html', 'result.json', 'result.json.sig', 'summary.md']);
    expect((await cli(['verify', path.join(out, 'report.html')])).code).toBe(0);
  });

  it('report result.json --out on a 400k tmpfs holding an earlier PASS run: exit 3 naming report.html, nothing stale', async () => {
    const m = path.join(dir, 'tmpfs-report');
    expect(mountTmpfs(m, '400k')).toBeUndefined();
    mounts.push(m);
    cpSync(previous, m, { recursive: true });
    // A real run's result (228 KB) renders to a 524 KB report: more than the disk holds.
    const golden = path.join(REPO, 'test/reports/golden/result.json');
    const r = await cli(['report', golden, '--out', m]);
    expect(expectWriteFailure(r, m)).toBe('report.html');
    expect(r.stderr).toMatch(/the earlier run's .*result\.json.* were removed first/);
    const left = readdirSync(m).filter((f) => f !== 'lost+found');
    expect(left).toEqual([]);
  });

  it('report re-rendering in place on a full disk keeps its source result.json intact', async () => {
    const m = path.join(dir, 'tmpfs-inplace');
    expect(mountTmpfs(m, '400k')).toBeUndefined();
    mounts.push(m);
    const golden = path.join(REPO, 'test/reports/golden');
    for (const f of ['result.json', 'run.json']) cpSync(path.join(golden, f), path.join(m, f));
    writeFileSync(path.join(m, 'summary.md'), '## privacy-audit: ✅ PASS\n(an earlier render)\n');
    const before = readFileSync(path.join(m, 'result.json'));
    const r = await cli(['report', path.join(m, 'result.json')]);
    expectWriteFailure(r, m);
    expect(readFileSync(path.join(m, 'result.json')).equals(before)).toBe(true);
    expect(readdirSync(m).sort()).toEqual(['result.json', 'run.json']);
  });

  it('run: the disk fills while writing the outputs; exit 3 naming the file, and a rerun takes every model output from the cache', async () => {
    const d = mkdtempSync(path.join(dir, 'run-'));
    writeFileSync(path.join(d, 'audit.yml'), tinyConfig(d));
    const m = path.join(d, 'tmpfs');
    expect(mountTmpfs(m, '64k')).toBeUndefined();
    mounts.push(m);
    // An earlier PASS run's small files: they must not survive.
    writeFileSync(path.join(m, 'summary.md'), '## privacy-audit: ✅ PASS\n');
    writeFileSync(path.join(m, 'junit.xml'), '<testsuites name="privacy-audit" tests="1" failures="0"/>\n');
    const cache = path.join(d, 'cache');
    const args = (out: string) => ['run', path.join(d, 'audit.yml'), '--out', out, '--cache-dir', cache, '--bootstrap', '50', '--workers', '1'];
    const r = await cli(args(m));
    const file = expectWriteFailure(r, m);
    expect(r.stderr.trim().split('\n').at(-1)).toContain(`the finished model work is cached in ${cache}, so a rerun resumes`);
    // the pseudonym key is kept on purpose (later runs reuse it); it claims no verdict
    expect(readdirSync(m).filter((f) => f !== '.pseudonym-key')).toEqual([]);
    expect(file).toBe('report.html');

    const roomy = path.join(d, 'roomy');
    const again = await cli(args(roomy));
    expect([0, 1, 4]).toContain(again.code);
    const run = JSON.parse(readFileSync(path.join(roomy, 'run.json'), 'utf8'));
    expect(run.cache.misses).toBe(0);
    expect(run.cache.hits).toBeGreaterThan(0);
    expect(run.runId).toBe(sha256(readFileSync(path.join(roomy, 'result.json'))));
  });
});

function tinyConfig(d: string): string {
  const head = (file: string, n: number) => readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n').slice(0, n).join('\n');
  writeFileSync(path.join(d, 'forget.jsonl'), head('forget.jsonl', 8));
  writeFileSync(path.join(d, 'holdout.jsonl'), head('holdout.jsonl', 8));
  return `version: 1
seed: 3
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
  after: hf:${path.join(FIXTURE, 'models/after-retrained')}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
attacks:
  loss: {}
`;
}

/** The CLI with extra environment variables, optionally as another user (root only). */
function spawnCli(args: string[], env: Record<string, string>, uid?: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid !== undefined ? { uid, gid: uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (x) => (stdout += x));
    child.stderr.on('data', (x) => (stderr += x));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
