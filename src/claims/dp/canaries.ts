/**
 * Canaries for a one-run DP audit (Steinke, Nasr, Jagielski 2023): m seeded records, each to be
 * included in training independently with probability ½. The manifest holds every canary and its
 * inclusion bit and is sealed by a SHA-256 digest over its content, to be published (e.g. in the
 * DPIA or a ticket) before training: an auditor can later show the bits were fixed in advance.
 * The trainer gets only the included records (`included.jsonl`); the manifest stays with the auditor.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { unsafeUniformIntDistribution } from 'pure-rand';
import { InputError } from '../../errors.ts';
import { seededRng } from '../../metrics/bootstrap.ts';

export const MANIFEST_KIND = 'privacy-audit/dp-canaries';

export interface DpCanary {
  id: string;
  /** The sentence with a `{secret}` slot (scored like a Secret Sharer canary). */
  format: string;
  secret: string;
  included: boolean;
}

export interface CanaryManifest {
  kind: typeof MANIFEST_KIND;
  version: 1;
  seed: number;
  canaries: DpCanary[];
  /** `sha256:` + hex SHA-256 of the canonical JSON of { kind, version, seed, canaries }. */
  digest: string;
}

export const DEFAULT_CANARY_FORMAT = 'Support note {ref}: the account recovery code is {secret}.';
const REF_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export function manifestDigest(m: Pick<CanaryManifest, 'kind' | 'version' | 'seed' | 'canaries'>): string {
  const canonical = JSON.stringify({ kind: m.kind, version: m.version, seed: m.seed, canaries: m.canaries.map((c) => ({ id: c.id, format: c.format, secret: c.secret, included: c.included })) });
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** m canaries from a seed: random 8-digit secrets, a random reference per canary, fair-coin inclusion. */
export function makeCanaries(opts: { count: number; seed: number; format?: string; secretDigits?: number }): CanaryManifest {
  const format = opts.format ?? DEFAULT_CANARY_FORMAT;
  if (format.split('{secret}').length !== 2) throw new InputError('the canary format must contain {secret} exactly once', { field: '--format' });
  const digits = opts.secretDigits ?? 8;
  const rng = seededRng(opts.seed);
  const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[unsafeUniformIntDistribution(0, alphabet.length - 1, rng)]).join('');
  const canaries: DpCanary[] = [];
  const refs = new Set<string>();
  for (let i = 0; i < opts.count; i++) {
    let ref = pick(REF_ALPHABET, 6);
    while (refs.has(ref)) ref = pick(REF_ALPHABET, 6);
    refs.add(ref);
    const secret = pick('0123456789', digits);
    const included = unsafeUniformIntDistribution(0, 1, rng) === 1;
    canaries.push({ id: `dp-canary-${String(i + 1).padStart(4, '0')}`, format: format.replaceAll('{ref}', ref), secret, included });
  }
  const base = { kind: MANIFEST_KIND as typeof MANIFEST_KIND, version: 1 as const, seed: opts.seed, canaries };
  return { ...base, digest: manifestDigest(base) };
}

/** The records the trainer adds to the training data: the included canaries, filled in. */
export function includedRecords(m: CanaryManifest): { id: string; text: string }[] {
  return m.canaries.filter((c) => c.included).map((c) => ({ id: c.id, text: c.format.replace('{secret}', c.secret) }));
}

/** Reads and checks a manifest; every problem is exit 2 naming the file and the field. */
export async function readManifest(file: string): Promise<CanaryManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the canary manifest: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not JSON: ${(e as Error).message}; expected the manifest written by privacy-audit canaries make`, { file });
  }
  const o = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || o.kind !== MANIFEST_KIND) throw new InputError(`expected "kind": "${MANIFEST_KIND}" (the manifest written by privacy-audit canaries make)`, { file, field: 'kind' });
  if (o.version !== 1) throw new InputError('expected "version": 1', { file, field: 'version' });
  if (!Number.isSafeInteger(o.seed)) throw new InputError('expected an integer seed', { file, field: 'seed' });
  if (!Array.isArray(o.canaries) || o.canaries.length < 2) throw new InputError('expected a list of at least 2 canaries', { file, field: 'canaries' });
  const ids = new Set<string>();
  o.canaries.forEach((c: unknown, i: number) => {
    const k = c as Record<string, unknown>;
    const at = (f: string) => ({ file, record: i + 1, field: `canaries[${i}].${f}` });
    if (typeof c !== 'object' || c === null) throw new InputError('expected an object { id, format, secret, included }', { file, record: i + 1, field: `canaries[${i}]` });
    if (typeof k.id !== 'string' || k.id === '' || ids.has(k.id)) throw new InputError('expected a unique non-empty id', at('id'));
    ids.add(k.id);
    if (typeof k.format !== 'string' || k.format.split('{secret}').length !== 2) throw new InputError('expected a text with {secret} exactly once', at('format'));
    if (typeof k.secret !== 'string' || !/^[0-9]+$/.test(k.secret)) throw new InputError('expected a secret of decimal digits', at('secret'));
    if (typeof k.included !== 'boolean') throw new InputError('expected true or false', at('included'));
  });
  const m = raw as CanaryManifest;
  const digest = manifestDigest(m);
  if (m.digest !== digest) throw new InputError(`the manifest does not match its digest (${String(m.digest)}; its content hashes to ${digest}): it was changed after it was sealed`, { file, field: 'digest' });
  return m;
}
