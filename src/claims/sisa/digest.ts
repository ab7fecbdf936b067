/**
 * The hashes a SISA manifest is made of (README "Verifying a SISA deletion"): a record's content
 * digest, Merkle roots over slices, and the digest of a model artefact. A training pipeline in any
 * language can compute each of them from the definitions below; nothing here depends on this tool.
 */
import { createHash } from 'node:crypto';
import type { DataRecord } from '../../types.ts';

const sha256 = (b: string | Uint8Array): Buffer => createHash('sha256').update(b).digest();

/**
 * JSON with object keys sorted (by UTF-16 code units), no whitespace, numbers as ECMAScript prints
 * them: RFC 8785 (JCS) for the values a record holds. A Python writer gets the same bytes from a
 * JCS library (e.g. `jcs.canonicalize`), not from `json.dumps` (which prints 1.0 and 1e-07).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonical JSON has no ${String(value)}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new Error(`canonical JSON has no ${typeof value}`);
}

/** SHA-256 (hex) of a training config in canonical JSON: a manifest's `training.configSha256`. */
export const configDigest = (config: unknown): string => sha256(canonicalJson(config)).toString('hex');

/**
 * What a record contributes to training, in canonical form: `features`, `label` and `text` (a
 * non-empty text only), under these names whatever the data file calls them. Not the id, the
 * subject or the PII annotations: the same content under another id is the same training record,
 * which is what lets a manifest show that a deleted record did not come back under a new id.
 */
export function recordContent(r: Pick<DataRecord, 'features' | 'label' | 'text'>): string {
  return canonicalJson({
    ...(r.features !== undefined ? { features: r.features } : {}),
    ...(r.label !== undefined ? { label: r.label } : {}),
    ...(r.text !== '' ? { text: r.text } : {}),
  });
}

/** SHA-256 (hex) of the record's canonical content (UTF-8). */
export const recordDigest = (r: Pick<DataRecord, 'features' | 'label' | 'text'>): string => sha256(recordContent(r)).toString('hex');

/**
 * Merkle tree hash of RFC 6962 (Certificate Transparency) over 32-byte leaves given as hex:
 * MTH([]) = SHA-256(""), MTH([d]) = SHA-256(0x00 ‖ d), MTH(D) = SHA-256(0x01 ‖ MTH(D[:k]) ‖ MTH(D[k:]))
 * with k the largest power of two below |D|. Order matters: a slice's records in training order.
 */
export function merkleRoot(leaves: readonly string[]): string {
  const bytes = leaves.map((h) => Buffer.from(h, 'hex'));
  const mth = (lo: number, hi: number): Buffer => {
    const n = hi - lo;
    if (n === 0) return sha256(new Uint8Array(0));
    if (n === 1) return sha256(Buffer.concat([Buffer.from([0]), bytes[lo]!]));
    let k = 1;
    while (k * 2 < n) k *= 2;
    return sha256(Buffer.concat([Buffer.from([1]), mth(lo, lo + k), mth(lo + k, hi)]));
  };
  return mth(0, bytes.length).toString('hex');
}

/**
 * The digest of a model artefact: a single file's SHA-256 (an .onnx file), or for a model of several
 * files (tfjs: model.json and its weight files) the SHA-256 of the `sha256sum`-style listing
 * `<sha256>  <path relative to the model's folder>\n`, lines sorted by path.
 */
export function artefactDigest(files: readonly { rel: string; sha256: string }[]): string {
  if (files.length === 1) return files[0]!.sha256;
  const lines = [...files].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)).map((f) => `${f.sha256}  ${f.rel}\n`);
  return sha256(lines.join('')).toString('hex');
}
