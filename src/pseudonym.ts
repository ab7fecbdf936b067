/**
 * Pseudonyms for subjects: HMAC-SHA-256 of the subject id under a secret 256-bit key that no output
 * contains. A hash salted with something the report publishes (as before: the members file's
 * SHA-256) is reversed by anyone who can list candidate ids; a keyed hash is not, without the key.
 *
 * The key comes from `PRIVACY_AUDIT_PSEUDONYM_KEY` (64 hex digits or base64 of 32+ bytes: the same
 * pseudonyms in every output folder and on every machine) or else from `<out>/.pseudonym-key`
 * (created 0600 on the first run and reused, so re-runs into the same folder give the same bytes).
 * Re-rendering a result.json never needs it: the pseudonyms are already in the result.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './errors.ts';

export const PSEUDONYM_KEY_ENV = 'PRIVACY_AUDIT_PSEUDONYM_KEY';
export const PSEUDONYM_KEY_FILE = '.pseudonym-key';
const KEY_BYTES = 32;

/**
 * `S-` and 12 hex digits (48 bits) of HMAC-SHA-256(key, subject id): collisions stay below 1 in 10,000
 * up to 100,000 subjects, and the text stays short enough for a table column.
 */
export function pseudonym(key: Uint8Array, subject: string): string {
  return `S-${createHmac('sha256', key).update(subject, 'utf8').digest('hex').slice(0, 12)}`;
}

/**
 * A record id's pseudonym (the per-record scores sidecar): `R-` and 16 hex digits (64 bits: records
 * outnumber people) of HMAC-SHA-256(key, "record\0" + id), so it never equals a subject's pseudonym.
 */
export function recordPseudonym(key: Uint8Array, id: string): string {
  return `R-${createHmac('sha256', key).update(`record\0${id}`, 'utf8').digest('hex').slice(0, 16)}`;
}

/** Parses a key given as 64 hex digits or as base64 (standard or URL-safe) of at least 32 bytes. */
export function parseKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]+$/.test(t)) return t.length >= 2 * KEY_BYTES && t.length % 2 === 0 ? Buffer.from(t, 'hex') : undefined;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    const key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
    return key.length >= KEY_BYTES ? key : undefined;
  }
  return undefined;
}

export interface KeySource {
  key: Buffer;
  /** Where it came from: the environment, an existing key file, or a key file made now. */
  from: 'env' | 'file' | 'created';
  file?: string;
}

/**
 * The audit's pseudonym key: the environment variable when set, else `<outDir>/.pseudonym-key`,
 * created with a fresh random key (mode 0600) when absent. A malformed key is the user's mistake
 * (exit 2); the message never repeats the key's text.
 */
export async function loadPseudonymKey(outDir: string, env: NodeJS.ProcessEnv = process.env): Promise<KeySource> {
  const given = env[PSEUDONYM_KEY_ENV];
  if (given !== undefined && given !== '') {
    const key = parseKey(given);
    if (!key) throw new InputError(`${PSEUDONYM_KEY_ENV} must hold a random key of at least ${KEY_BYTES} bytes, as ${2 * KEY_BYTES} hex digits or base64 (e.g. from \`openssl rand -hex 32\`)`);
    return { key, from: 'env' };
  }
  const file = path.join(outDir, PSEUDONYM_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) return { key: existing, from: 'file', file };
  // Written under a temporary name and linked into place, so a crash never leaves a half-written key
  // and two runs starting together agree on one key (the second link fails and reads the first's).
  const key = randomBytes(KEY_BYTES);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(outDir, { recursive: true });
    await writeFile(tmp, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600); // whatever the umask
    await link(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      const other = await readKeyFile(file);
      if (other) return { key: other, from: 'file', file };
    }
    throw new InputError(`cannot create the pseudonym key (${code ?? (e as Error).message}): the output folder must be a writable folder`, { file });
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return { key, from: 'created', file };
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR') throw new InputError('expected the pseudonym key file, found a folder', { file });
    if (code === 'ENOTDIR') throw new InputError('the output path is not a folder', { file: path.dirname(file) });
    throw new InputError(`cannot read the pseudonym key (${code ?? (e as Error).message})`, { file });
  }
  const key = parseKey(text);
  if (!key) {
    throw new InputError(
      `not a pseudonym key (expected ${2 * KEY_BYTES} hex digits); restore the original key, or delete the file to start new pseudonyms that will not match earlier reports`,
      { file },
    );
  }
  return key;
}

/** True when a key file can be read by others than its owner (the CLI warns: chmod 600). */
export async function keyFileIsShared(file: string): Promise<boolean> {
  return ((await stat(file)).mode & 0o077) !== 0;
}

/**
 * Replaces every whole-word occurrence of each `from` string in `text` (not inside a longer word or
 * number: `s3` is replaced in "request of s3", not in "s31" or "ms3"). Longer strings first, so an
 * id that contains another id is replaced as a whole.
 */
export function replaceWords(text: string, replacements: ReadonlyMap<string, string>): string {
  if (replacements.size === 0 || text === '') return text;
  const keys = [...replacements.keys()].filter((k) => k !== '' && text.includes(k)).sort((a, b) => b.length - a.length);
  if (keys.length === 0) return text;
  const escaped = keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${escaped.join('|')})(?![\\p{L}\\p{N}_])`, 'gu');
  return text.replace(re, (m) => replacements.get(m)!);
}

/** Every string value in a JSON-like value passed through `f`; keys (fixed by the schema) and other values kept. */
export function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  }
  return value;
}

export interface Redaction {
  /** A subject id → its pseudonym. */
  alias: (subject: string) => string;
  /** A record id → its pseudonym. */
  record: (id: string) => string;
  /** Free text (a path, a config string, an error message) with forget ids and PII values replaced. */
  text: (s: string) => string;
  /** The config as echoed into result.json: every string redacted, `data.forgetSubjects` → sorted pseudonyms. */
  config: (raw: unknown) => unknown;
}

/**
 * What keeps deleted people's ids and everyone's PII out of every output made without --reveal:
 * forget subject ids become their pseudonyms and PII values their masked form, wherever they occur
 * as whole words in text the result echoes (the config — a deletion reference naming the person —,
 * model refs and file paths, attack error messages).
 */
export function redaction(key: Uint8Array, forgetSubjects: Iterable<string>, piiValues: Iterable<string>, mask: (value: string) => string): Redaction {
  // Memoised: every attack's scores name the same records and people (an HMAC each, per attack, was
  // a measurable share of writing scores.jsonl.gz).
  const aliases = new Map<string, string>();
  const records = new Map<string, string>();
  const alias = (s: string) => {
    let a = aliases.get(s);
    if (a === undefined) aliases.set(s, (a = pseudonym(key, s)));
    return a;
  };
  const record = (id: string) => {
    let a = records.get(id);
    if (a === undefined) records.set(id, (a = recordPseudonym(key, id)));
    return a;
  };
  const replacements = new Map<string, string>();
  for (const v of piiValues) if (v !== '') replacements.set(v, mask(v));
  // A subject id that is also someone's PII value is shown as the pseudonym (the stronger of the two).
  for (const s of forgetSubjects) if (s !== '') replacements.set(s, alias(s));
  const text = (s: string) => replaceWords(s, replacements);
  const config = (raw: unknown) => {
    const out = mapStrings(raw, text);
    const data = (out as { data?: { forgetSubjects?: unknown } } | null)?.data;
    if (data && Array.isArray(data.forgetSubjects)) {
      // Sorted, so the order of the list reveals nothing about the order the ids were given in.
      data.forgetSubjects = ((raw as { data: { forgetSubjects: unknown[] } }).data.forgetSubjects).map((s) => alias(String(s))).sort();
    }
    return out;
  };
  return { alias, record, text, config };
}
