/**
 * Content-addressed cache of finished work (model outputs per batch). A crash loses at most the
 * batches in flight: the next run finds everything else here and resumes.
 *
 * Entries prove themselves. An entry is one file `<dir>/<key[0..2]>/<key>.json`:
 *
 *     {"format":"privacy-audit-cache/1","kind":"score","key":"<key>","sha256":"<of the body>","hmac":"<…>"}\n
 *     <body: the value as JSON>
 *
 * `hmac` is HMAC-SHA-256, under a random per-cache secret (`<dir>/secret.key`, 0600), of the format,
 * kind, key and body digest. Every read checks all of them, then the reader checks the value's shape
 * against its request; an entry that fails any check (edited, truncated, swapped with another entry,
 * `[]`, wrong key, not JSON, wrong shape) is not used: it is recomputed, overwritten and counted.
 * This catches corruption, edits and swaps; it is no defence against someone who can read the
 * secret (they can forge entries), which is why the folder is private (0700, entries 0600).
 *
 * The cache holds derived training data (token ids, log-probabilities, model weights): protect and
 * delete it like the data itself.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

export const CACHE_FORMAT = 'privacy-audit-cache/1';
export const SECRET_FILE = 'secret.key';
/** The Cache Directory Tagging Specification's tag: backup tools skip a folder holding it. */
export const TAG_FILE = 'CACHEDIR.TAG';
const TAG = `Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by privacy-audit.
# The folder holds data derived from training data (token ids, log-probabilities, model weights).
# Protect it like the data; \`privacy-audit cache clear\` deletes it.
`;

const KEY = /^[0-9a-f]{64}$/;
/** Entry file names: `<2 hex>/<64 hex>.json`. */
export const entryPath = (dir: string, key: string): string => path.join(dir, key.slice(0, 2), `${key}.json`);

export interface CacheCounts {
  /** Entries read and verified. */
  hits: number;
  /** Entries computed in this run (missing ones and rejected ones). */
  misses: number;
  /** Entries present but failing verification (a subset of misses). */
  rejected: number;
}

export interface Cache extends Readonly<CacheCounts> {
  /**
   * The verified value of `key`, or undefined (then compute it and `set` it). `parse` checks the
   * stored value's shape for this request and decodes it; it throws when the shape is wrong.
   */
  get<T>(key: string, kind: string, parse: (stored: unknown) => T): Promise<T | undefined>;
  set(key: string, kind: string, value: unknown): Promise<void>;
  /** Why each rejected entry was rejected, in the order met. */
  readonly rejections: readonly { key: string; reason: string }[];
}

const hmacOf = (secret: Buffer, kind: string, key: string, digest: string): string =>
  createHmac('sha256', secret).update(`${CACHE_FORMAT}\n${kind}\n${key}\n${digest}`).digest('hex');

/** The bytes of an entry for `value`. */
export function encodeEntry(secret: Buffer, key: string, kind: string, value: unknown): string {
  const body = JSON.stringify(value);
  if (body === undefined) throw new Error(`cache: cannot store ${String(value)} under ${key}`);
  const digest = sha256(body);
  return `${JSON.stringify({ format: CACHE_FORMAT, kind, key, sha256: digest, hmac: hmacOf(secret, kind, key, digest) })}\n${body}`;
}

export type EntryCheck = { ok: true; kind: string; key: string; value: unknown } | { ok: false; reason: string };

/**
 * Checks one entry's bytes: its header, that it was written for `key` (the file's name), its body's
 * digest and its HMAC under `secret`, and that the body is JSON. Pure.
 */
export function checkEntry(secret: Buffer, key: string, bytes: Buffer): EntryCheck {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return { ok: false, reason: 'no header line (not a privacy-audit cache entry, or truncated)' };
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(0, nl).toString('utf8'));
  } catch {
    return { ok: false, reason: 'header is not JSON' };
  }
  const h = header as Record<string, unknown>;
  if (typeof h !== 'object' || h === null || Array.isArray(h) || h.format !== CACHE_FORMAT) return { ok: false, reason: `header is not a ${CACHE_FORMAT} header` };
  const { kind, key: written, sha256: digest, hmac } = h;
  if (typeof kind !== 'string' || typeof written !== 'string' || typeof digest !== 'string' || typeof hmac !== 'string') return { ok: false, reason: 'header lacks kind, key, sha256 or hmac' };
  if (written !== key) return { ok: false, reason: `written for another key (${written.slice(0, 12)}…)` };
  const body = bytes.subarray(nl + 1);
  if (sha256(body) !== digest) return { ok: false, reason: 'content does not match its SHA-256 (edited or truncated)' };
  const expected = Buffer.from(hmacOf(secret, kind, key, digest), 'hex');
  const given = Buffer.from(hmac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'HMAC does not match (not written with this cache\'s secret, or edited)' };
  try {
    return { ok: true, kind, key, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'content is not JSON' };
  }
}

const isErrno = (e: unknown, code: string) => (e as NodeJS.ErrnoException | undefined)?.code === code;

/**
 * The cache's secret: read, or created (32 random bytes, 0600) when the file is missing. Created
 * under a temporary name and linked into place, so concurrent runs agree on one secret and no run
 * reads a half-written one. An unreadable or malformed secret is replaced: every entry made with
 * the old one then fails verification and is recomputed.
 */
export async function cacheSecret(dir: string): Promise<Buffer> {
  const file = path.join(dir, SECRET_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let text: string | undefined;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    if (text !== undefined && /^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
    // Missing: the first writer wins. Malformed: replaced.
    await publish(file, text !== undefined);
  }
  throw new Error(`cannot create the cache secret ${file}`);
}

async function publish(file: string, replace: boolean): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (replace) await rename(tmp, file);
    else await link(tmp, file).catch((e) => (isErrno(e, 'EEXIST') ? undefined : Promise.reject(e)));
  } finally {
    if (!replace) await unlink(tmp).catch(() => {});
  }
}

/**
 * Creates the cache folder (0700) with its tag file, unless it exists. An existing folder keeps its
 * mode (it may be a folder the user named that holds other things); a group- or world-readable
 * one is reported through `warn`.
 */
export async function prepareCacheDir(dir: string, warn?: (line: string) => void): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    await mkdir(dir, { mode: 0o700 });
    await writeFile(path.join(dir, TAG_FILE), TAG, { mode: 0o600 });
    return;
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
  }
  const st = await stat(dir);
  if (!st.isDirectory()) throw new Error(`cache folder ${dir} exists and is not a folder`);
  if ((st.mode & 0o077) !== 0) {
    warn?.(`warning: cache folder ${dir} is accessible to other users (mode ${(st.mode & 0o777).toString(8)}); it holds derived training data: chmod 700 it`);
  }
}

export function diskCache(dir: string | undefined, opts: { warn?: (line: string) => void } = {}): Cache {
  let hits = 0;
  let misses = 0;
  const rejections: { key: string; reason: string }[] = [];
  let ready: Promise<Buffer> | undefined;
  // Nothing touches the disk until the first read or write.
  const secret = () => (ready ??= prepareCacheDir(dir!, opts.warn).then(() => cacheSecret(dir!)));
  const checkKey = (key: string) => {
    if (!KEY.test(key)) throw new Error(`cache key must be 64 hex digits, got "${key}"`);
  };
  const reject = (key: string, reason: string) => {
    rejections.push({ key, reason });
    misses++;
    return undefined;
  };
  return {
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
    get rejected() {
      return rejections.length;
    },
    rejections,
    async get<T>(key: string, kind: string, parse: (stored: unknown) => T): Promise<T | undefined> {
      checkKey(key);
      if (!dir) return (misses++, undefined);
      const s = await secret();
      let bytes: Buffer;
      try {
        bytes = await readFile(entryPath(dir, key));
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return (misses++, undefined);
        return reject(key, `unreadable (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      const c = checkEntry(s, key, bytes);
      if (!c.ok) return reject(key, c.reason);
      if (c.kind !== kind) return reject(key, `holds a "${c.kind}" entry where a "${kind}" entry was expected`);
      let value: T;
      try {
        value = parse(c.value);
      } catch (e) {
        return reject(key, `wrong shape: ${e instanceof Error ? e.message : String(e)}`);
      }
      hits++;
      return value;
    },
    async set(key, kind, value) {
      checkKey(key);
      if (!dir) return;
      const bytes = encodeEntry(await secret(), key, kind, value);
      const f = entryPath(dir, key);
      await mkdir(path.dirname(f), { recursive: true, mode: 0o700 });
      const tmp = `${f}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, bytes, { mode: 0o600 });
        await rename(tmp, f); // atomic: a reader never sees a partial file
      } catch (e) {
        await unlink(tmp).catch(() => {});
        throw e;
      }
    },
  };
}
