/**
 * No tampering with a cache entry changes a result: each kind of damage (edit, edit with the digest
 * recomputed, truncation, two entries swapped, `[]`, another entry's content under this key, not
 * JSON, the secret deleted) is caught, recomputed and counted, and result.json is the clean run's,
 * byte for byte, but for the count. A forger holding secret.key can change it (the documented
 * limit), which shows that the edits tried here would have mattered. Then `cache verify | prune |
 * clear` on a damaged cache, and the config's `cache.dir`.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeEntry, sha256 } from '../../src/cache.ts';
import type { RunInfo } from '../../src/result/types.ts';
import { cli, type CliResult } from '../helpers/cli.ts';
import { smallAudit } from '../helpers/small-audit.ts';

// Runs into different folders are compared byte for byte: one pseudonym key for all of them.
process.env.PRIVACY_AUDIT_PSEUDONYM_KEY = 'c3'.repeat(32);

const { dir, config } = smallAudit({ prefix: 'pa-integrity-' });
const cleanCache = path.join(dir, 'clean-cache');

const run = (cache: string, out: string, file = config) =>
  cli(['run', file, '--cache-dir', cache, '--out', path.join(dir, out), '--bootstrap', '200', '--workers', '2']);
const read = (out: string, name: string) => readFileSync(path.join(dir, out, name), 'utf8');

interface Entry {
  file: string;
  header: { kind: string; key: string; sha256: string; hmac: string };
  body: string;
}
function entries(cache: string): Entry[] {
  return readdirSync(cache, { recursive: true })
    .map(String)
    .filter((f) => /^[0-9a-f]{2}\/[0-9a-f]{64}\.json$/.test(f.split(path.sep).join('/')))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(cache, f), 'utf8');
      const nl = text.indexOf('\n');
      return { file: path.join(cache, f), header: JSON.parse(text.slice(0, nl)), body: text.slice(nl + 1) };
    });
}
const ofKind = (cache: string, kind: string) => entries(cache).filter((e) => e.header.kind === kind);
/** Float32 values (stored in base64) all set to `x`. */
const all = (b64: string, x: number) => Buffer.from(new Float32Array(Buffer.from(b64, 'base64').byteLength / 4).fill(x).buffer).toString('base64');
/** Every log-probability (and token statistic) of a score entry set to 0: no record looks like a member. */
const flattened = (body: string) =>
  JSON.stringify(
    (JSON.parse(body) as { logprobs: string; mu?: string; sigma?: string }[]).map((s) => ({
      logprobs: all(s.logprobs, 0),
      ...(s.mu ? { mu: all(s.mu, 0) } : {}),
      ...(s.sigma ? { sigma: all(s.sigma, 1) } : {}),
    })),
  );

let clean: CliResult;
let cleanResult: string;
beforeAll(async () => {
  clean = await run(cleanCache, 'clean');
  expect(clean.stderr).not.toMatch(/error|failed verification/);
  expect([0, 1, 4]).toContain(clean.code);
  cleanResult = read('clean', 'result.json');
  expect(JSON.parse(cleanResult).cacheRejected).toBeUndefined();
}, 300_000);

let copies = 0;
const copy = () => {
  const c = path.join(dir, `cache-${copies++}`);
  cpSync(cleanCache, c, { recursive: true });
  return c;
};

describe('tampering with the cache', () => {
  it('the cache folder is private: 0700 folders, 0600 files', () => {
    expect(statSync(cleanCache).mode & 0o777).toBe(0o700);
    for (const e of entries(cleanCache)) {
      expect(statSync(e.file).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(e.file)).mode & 0o777).toBe(0o700);
    }
    expect(statSync(path.join(cleanCache, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(ofKind(cleanCache, 'score').length).toBeGreaterThan(1);
    expect(ofKind(cleanCache, 'generate').length).toBeGreaterThan(0);
  });

  const cases: [string, (cache: string) => number][] = [
    [
      "every score entry's log-probabilities set to 0",
      (c) => {
        const es = ofKind(c, 'score');
        for (const e of es) writeFileSync(e.file, `${JSON.stringify(e.header)}\n${flattened(e.body)}`);
        return es.length;
      },
    ],
    [
      'the same, with each digest recomputed',
      (c) => {
        const es = ofKind(c, 'score');
        for (const e of es) {
          const body = flattened(e.body);
          writeFileSync(e.file, `${JSON.stringify({ ...e.header, sha256: sha256(body) })}\n${body}`);
        }
        return es.length;
      },
    ],
    [
      'a generation entry truncated',
      (c) => {
        const e = ofKind(c, 'generate')[0]!;
        truncateSync(e.file, Math.floor(statSync(e.file).size / 2));
        return 1;
      },
    ],
    [
      'two score entries swapped',
      (c) => {
        const [a, b] = ofKind(c, 'score') as [Entry, Entry];
        const bytesA = readFileSync(a.file);
        writeFileSync(a.file, readFileSync(b.file));
        writeFileSync(b.file, bytesA);
        return 2;
      },
    ],
    [
      'an entry replaced by []',
      (c) => {
        writeFileSync(ofKind(c, 'score')[0]!.file, '[]');
        return 1;
      },
    ],
    [
      "another entry's content relabelled with this entry's key",
      (c) => {
        const [a, b] = ofKind(c, 'score') as [Entry, Entry];
        writeFileSync(a.file, `${JSON.stringify({ ...b.header, key: a.header.key })}\n${b.body}`);
        return 1;
      },
    ],
    [
      'an entry that is not JSON',
      (c) => {
        writeFileSync(ofKind(c, 'generate')[0]!.file, Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]));
        return 1;
      },
    ],
    [
      'secret.key deleted',
      (c) => {
        const n = entries(c).length;
        writeFileSync(path.join(c, 'secret.key'), '');
        return n;
      },
    ],
  ];

  it.each(cases)('%s: recomputed, counted, and result.json is the clean run\'s', async (_name, tamper) => {
    const cache = copy();
    const n = tamper(cache);
    const out = `out-${copies}`;
    const r = await run(cache, out);
    expect(r.code).toBe(clean.code);
    expect(r.stderr).toContain(`${n} cache ${n === 1 ? 'entry' : 'entries'} failed verification and ${n === 1 ? 'was' : 'were'} recomputed`);
    const result = JSON.parse(read(out, 'result.json'));
    expect(result.cacheRejected).toBe(n);
    expect(result.verdict).toBe(JSON.parse(cleanResult).verdict);
    delete result.cacheRejected;
    expect(`${JSON.stringify(result, null, 2)}\n`).toBe(cleanResult);
    const info = JSON.parse(read(out, 'run.json')) as RunInfo;
    expect(info.cache.rejected).toBe(n);
    expect(info.cache.misses).toBeGreaterThanOrEqual(n);
    // The report says it too.
    expect(read(out, 'report.html')).toContain(`${n} cache ${n === 1 ? 'entry' : 'entries'} failed verification`);
    expect(read(out, 'summary.md')).toContain(`${n} cache ${n === 1 ? 'entry' : 'entries'} failed verification`);
    // The bad entries were replaced: the cache verifies again.
    const v = await cli(['cache', 'verify', '--cache-dir', cache]);
    expect(v.stdout).toContain(`${entries(cache).length} good, 0 bad`);
    expect(v.code).toBe(0);
  }, 300_000);

  it('a forger holding secret.key can change the result (the documented limit): the edits above matter', async () => {
    const cache = copy();
    const secret = Buffer.from(readFileSync(path.join(cache, 'secret.key'), 'utf8').trim(), 'hex');
    for (const e of ofKind(cache, 'score')) writeFileSync(e.file, encodeEntry(secret, e.header.key, 'score', JSON.parse(flattened(e.body))));
    const r = await run(cache, 'forged');
    expect(r.stderr).not.toContain('failed verification');
    expect(read('forged', 'result.json')).not.toBe(cleanResult);
    // Every membership AUC is now exactly 0.5: all scores tie.
    const findings = JSON.parse(read('forged', 'result.json')).findings as { auc: { value: number } }[];
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.auc.value === 0.5)).toBe(true);
  }, 300_000);
});

describe('privacy-audit cache verify | prune | clear', () => {
  it('verify names the bad entries (exit 1); prune removes them and abandoned temporary files; clear removes only the cache', async () => {
    const cache = copy();
    const every = entries(cache);
    const [a, b] = ofKind(cache, 'score') as [Entry, Entry];
    const g = ofKind(cache, 'generate')[0]!;
    writeFileSync(a.file, '[]');
    writeFileSync(b.file, readFileSync(g.file));
    // A temporary file from a writer that is gone (pid 2^22 + 1 is above Linux's pid_max default).
    const stale = `${a.file}.4194305.abc123.tmp`;
    writeFileSync(stale, 'half');

    const v1 = await cli(['cache', 'verify', '--cache-dir', cache]);
    expect(v1.code).toBe(1);
    expect(v1.stdout).toContain(`${every.length} entries`);
    expect(v1.stdout).toContain(`${every.length - 2} good, 2 bad; 1 temporary file(s)`);
    expect(v1.stdout).toContain(`${path.relative(cache, a.file)}: no header line`);
    expect(v1.stdout).toContain(`${path.relative(cache, b.file)}: written for another key`);

    const p = await cli(['cache', 'prune', '--cache-dir', cache]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('removed 2 bad entries and 1 abandoned temporary file(s)');
    expect(existsSync(a.file) || existsSync(b.file) || existsSync(stale)).toBe(false);
    const v2 = await cli(['cache', 'verify', '--cache-dir', cache]);
    expect(v2.code).toBe(0);
    expect(v2.stdout).toContain(`${every.length - 2} good, 0 bad`);

    writeFileSync(path.join(cache, 'notes.txt'), 'not the cache');
    mkdirSync(path.join(cache, 'mine'));
    const c = await cli(['cache', 'clear', '--cache-dir', cache]);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain(`removed ${every.length - 2} entries`);
    expect(c.stdout).toContain('keeps 2 item(s) that are not the cache');
    expect(readdirSync(cache).sort()).toEqual(['mine', 'notes.txt']);

    const none = await cli(['cache', 'verify', '--cache-dir', path.join(dir, 'nowhere')]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no cache at');
    const bad = await cli(['cache', 'vacuum', '--cache-dir', cache]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cache expects verify, prune, clear or init, got "vacuum"');
  }, 300_000);

  it("the config's cache.dir is where run keeps the cache and where cache verify looks", async () => {
    const cfgCache = path.join(dir, 'cfg-cache');
    cpSync(cleanCache, cfgCache, { recursive: true });
    const file = path.join(dir, 'with-cache.yml');
    writeFileSync(file, `${readFileSync(config, 'utf8')}cache: { dir: ./cfg-cache }\n`);
    const r = await cli(['run', file, '--out', path.join(dir, 'cfg-out'), '--bootstrap', '200']);
    expect(r.code).toBe(clean.code);
    const info = JSON.parse(read('cfg-out', 'run.json')) as RunInfo;
    expect(info.cache).toEqual({ hits: entries(cfgCache).length, misses: 0, rejected: 0 });
    const v = await cli(['cache', 'verify', file]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`cache ${cfgCache}: ${entries(cfgCache).length} entries`);
  }, 300_000);
});
