/**
 * The disk cache's entries prove themselves: every kind of damage is caught on read, counted and
 * reported as a miss (so the value is recomputed), and the folder and files are private.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEntry, diskCache, encodeEntry, entryPath, SECRET_FILE, sha256, TAG_FILE } from '../../src/cache.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pa-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const K1 = sha256('one');
const K2 = sha256('two');
const V1 = { logprobs: [-1.5, -0.25, -3], n: 3 };
const V2 = { logprobs: [-0.5, -0.75], n: 2 };
const any = (v: unknown) => v;
const shaped = (v: unknown) => {
  const o = v as { logprobs?: unknown; n?: unknown };
  if (!Array.isArray(o?.logprobs) || o.logprobs.length !== o.n) throw new Error('logprobs of the wrong length');
  return o;
};

let n = 0;
async function filled() {
  const dir = path.join(tmp, `c${n++}`);
  const c = diskCache(dir);
  await c.set(K1, 'score', V1);
  await c.set(K2, 'score', V2);
  return dir;
}

describe('disk cache', () => {
  it('round-trips values; the folder is 0700 with a secret and a CACHEDIR.TAG, entries 0600', async () => {
    const dir = await filled();
    const c = diskCache(dir);
    expect(await c.get(K1, 'score', any)).toEqual(V1);
    expect(await c.get(sha256('three'), 'score', any)).toBeUndefined();
    expect([c.hits, c.misses, c.rejected]).toEqual([1, 1, 0]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.dirname(entryPath(dir, K1))).mode & 0o777).toBe(0o700);
    expect(statSync(entryPath(dir, K1)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, SECRET_FILE), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(path.join(dir, TAG_FILE), 'utf8')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);
  });

  const damage: [string, (dir: string) => void, RegExp][] = [
    ['a number edited', (d) => writeFileSync(entryPath(d, K1), readFileSync(entryPath(d, K1), 'utf8').replace('-1.5', '-0.1')), /SHA-256/],
    [
      'a number edited and the digest recomputed',
      (d) => {
        const [head, body] = readFileSync(entryPath(d, K1), 'utf8').split('\n') as [string, string];
        const forged = body.replace('-1.5', '-0.1');
        writeFileSync(entryPath(d, K1), `${JSON.stringify({ ...JSON.parse(head), sha256: sha256(forged) })}\n${forged}`);
      },
      /HMAC/,
    ],
    ['truncated', (d) => writeFileSync(entryPath(d, K1), readFileSync(entryPath(d, K1)).subarray(0, 150)), /SHA-256|header/],
    ['truncated to nothing', (d) => writeFileSync(entryPath(d, K1), ''), /header/],
    ['replaced by []', (d) => writeFileSync(entryPath(d, K1), '[]'), /header/],
    ['not JSON', (d) => writeFileSync(entryPath(d, K1), 'not json\nat all'), /header is not JSON/],
    ["another entry's file", (d) => writeFileSync(entryPath(d, K1), readFileSync(entryPath(d, K2))), /another key/],
    [
      "another entry's file, relabelled with this key",
      (d) => {
        const [head, body] = readFileSync(entryPath(d, K2), 'utf8').split('\n') as [string, string];
        writeFileSync(entryPath(d, K1), `${JSON.stringify({ ...JSON.parse(head), key: K1 })}\n${body}`);
      },
      /HMAC/,
    ],
    ['the secret deleted', (d) => rmSync(path.join(d, SECRET_FILE)), /HMAC/],
    ['the secret malformed', (d) => writeFileSync(path.join(d, SECRET_FILE), 'xyz'), /HMAC/],
  ];
  it.each(damage)('%s: rejected, counted and recomputed', async (_name, harm, reason) => {
    const dir = await filled();
    harm(dir);
    const c = diskCache(dir);
    expect(await c.get(K1, 'score', any)).toBeUndefined();
    expect(c.rejected).toBe(1);
    expect(c.misses).toBe(1);
    expect(c.rejections[0]!.key).toBe(K1);
    expect(c.rejections[0]!.reason).toMatch(reason);
    // Recomputed and written again: the next read verifies.
    await c.set(K1, 'score', V1);
    expect(await diskCache(dir).get(K1, 'score', any)).toEqual(V1);
  });

  it('an entry of another kind, or of the wrong shape for its reader, is rejected', async () => {
    const dir = await filled();
    const c = diskCache(dir);
    expect(await c.get(K1, 'generate', any)).toBeUndefined();
    expect(c.rejections[0]!.reason).toMatch(/"score" entry where a "generate" entry was expected/);
    // A validly signed [] (only someone holding the secret can write one) still fails the reader's check.
    await c.set(K2, 'score', []);
    expect(await c.get(K2, 'score', shaped)).toBeUndefined();
    expect(c.rejections[1]!.reason).toMatch(/wrong shape/);
    expect(c.rejected).toBe(2);
  });

  it('checkEntry is pure: the same bytes verify under their secret and key only', async () => {
    const secret = Buffer.alloc(32, 7);
    const bytes = Buffer.from(encodeEntry(secret, K1, 'score', V1));
    expect(checkEntry(secret, K1, bytes)).toEqual({ ok: true, kind: 'score', key: K1, value: V1 });
    expect(checkEntry(Buffer.alloc(32, 8), K1, bytes).ok).toBe(false);
    expect(checkEntry(secret, K2, bytes).ok).toBe(false);
  });

  it('concurrent first uses agree on one secret', async () => {
    const dir = path.join(tmp, 'race');
    const caches = Array.from({ length: 8 }, () => diskCache(dir));
    await Promise.all(caches.map((c, i) => c.set(sha256(String(i)), 'score', [i])));
    const fresh = diskCache(dir);
    for (let i = 0; i < 8; i++) expect(await fresh.get(sha256(String(i)), 'score', any)).toEqual([i]);
    expect(fresh.rejected).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('without a folder nothing is stored and every read is a miss', async () => {
    const c = diskCache(undefined);
    await c.set(K1, 'score', V1);
    expect(await c.get(K1, 'score', any)).toBeUndefined();
    expect([c.hits, c.misses, c.rejected]).toEqual([0, 1, 0]);
  });
});
