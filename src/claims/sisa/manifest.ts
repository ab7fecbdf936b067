/**
 * The SISA manifest (issue #16; ../shared/research/sisa-lora.md A.3): the training pipeline's own
 * record of one version of a SISA ensemble — its records (by content digest), shards, slices, the
 * checkpoint after each slice, the final constituent models, and for a version made by deleting
 * records, the deletion. Format documented in README "Verifying a SISA deletion".
 *
 * Reading checks the form only (types, references, SISA's disjoint slices): a malformed manifest is
 * exit 2 naming the file and the JSON path. Whether its hashes agree with each other, with the data
 * and with the models is what the checks (./checks.ts) decide, as gates: an inconsistent log is a
 * finding, not a typo.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors.ts';

export const SISA_MANIFEST_FORMAT = 'privacy-audit/sisa-manifest';
export type SisaAggregation = 'mean-softmax' | 'vote';

export interface SisaRecordEntry {
  id: string;
  /** The person the record is about; the manifest is an input, never shown (pseudonyms in outputs). */
  subject?: string;
  /** SHA-256 of the record's canonical content (digest.ts recordDigest). */
  sha256: string;
}

export interface SisaSlice {
  slice: number;
  /** Record ids in training order. */
  records: string[];
  /** Merkle root (digest.ts) of the records' content digests, in that order. */
  root: string;
}

export interface SisaCheckpoint {
  /** The checkpoint taken after training on slices 0..slice. */
  slice: number;
  /** Digest of the checkpoint's model artefact (digest.ts artefactDigest). */
  sha256: string;
  /**
   * The artefact digest of the checkpoint training resumed from: the one after slice − 1; for slice 0,
   * null (a fresh initialisation) or the digest of the pre-trained model it started from.
   */
  parent: string | null;
  /** Merkle root of the root of slices 0..slice: the data this checkpoint has seen. */
  dataRoot: string;
  /** SHA-256 of the canonical training config this checkpoint was trained with. */
  configSha256: string;
  seed?: number;
  epochs?: number;
}

export interface SisaShard {
  shard: number;
  slices: SisaSlice[];
  checkpoints: SisaCheckpoint[];
  /** The constituent: the final checkpoint's model, a `tfjs:` or `onnx:` ref relative to the manifest. */
  model: string;
}

export interface SisaDeletion {
  /** The deletion request's reference (a ticket id), as the pipeline recorded it. */
  request?: string;
  /** Record ids deleted. */
  records: string[];
  /** Where they were: shard and slice. */
  located?: { shard: number; slice: number }[];
  /** Digests of the checkpoints made obsolete by the deletion (they hold the deleted records' influence) and destroyed. */
  superseded?: string[];
  destroyedAt?: string;
}

export interface SisaManifest {
  format: typeof SISA_MANIFEST_FORMAT;
  version: 1;
  aggregation: SisaAggregation;
  training: { config: Record<string, unknown>; configSha256: string; code?: string };
  records: SisaRecordEntry[];
  shards: SisaShard[];
  deletion?: SisaDeletion;
}

const HEX64 = /^[0-9a-f]{64}$/;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const describe = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'a list' : typeof x === 'string' ? JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x) : typeof x === 'object' ? 'an object' : String(x));

/** Reads and checks the form of a manifest; every problem is an InputError naming the file and JSON path. */
export async function readSisaManifest(file: string): Promise<SisaManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the SISA manifest: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not JSON: ${(e as Error).message}; expected a SISA manifest ("format": "${SISA_MANIFEST_FORMAT}")`, { file });
  }
  return validateSisaManifest(raw, file);
}

/** The form checks of readSisaManifest, on a parsed value (pure; `file` only names the source). */
export function validateSisaManifest(raw: unknown, file?: string): SisaManifest {
  const fail = (field: string, message: string): never => {
    throw new InputError(message, { ...(file ? { file } : {}), field });
  };
  const obj = (x: unknown, at: string, what: string): Record<string, unknown> => (isObject(x) ? x : fail(at, `expected ${what}, got ${describe(x)}`));
  const list = (x: unknown, at: string, what: string, min = 0): unknown[] => {
    if (!Array.isArray(x)) return fail(at, `expected a list of ${what}, got ${describe(x)}`);
    if (x.length < min) fail(at, `expected at least ${min} ${what}`);
    return x;
  };
  const hex = (x: unknown, at: string, what: string): string => (typeof x === 'string' && HEX64.test(x) ? x : fail(at, `expected ${what}: 64 lower-case hex digits (SHA-256), got ${describe(x)}`));
  const str = (x: unknown, at: string, what: string): string => (typeof x === 'string' && x !== '' ? x : fail(at, `expected ${what} (a non-empty string), got ${describe(x)}`));
  const index = (x: unknown, at: string, expected: number, what: string): number =>
    x === expected ? expected : fail(at, `expected ${what} ${expected} (listed in order from 0), got ${describe(x)}`);

  const o = obj(raw, '', 'a SISA manifest object');
  if (o.format !== SISA_MANIFEST_FORMAT) fail('format', `expected "${SISA_MANIFEST_FORMAT}", got ${describe(o.format)}`);
  if (o.version !== 1) fail('version', `expected 1, got ${describe(o.version)}`);
  if (o.aggregation !== 'mean-softmax' && o.aggregation !== 'vote') fail('aggregation', `expected "mean-softmax" (mean of the constituents' softmax outputs) or "vote" (majority vote of their labels), got ${describe(o.aggregation)}`);
  const t = obj(o.training, 'training', 'the training block { config, configSha256, code? }');
  const config = obj(t.config, 'training.config', 'the training config as an object (optimizer, epochs per slice, batch size, …)');
  const training: SisaManifest['training'] = { config, configSha256: hex(t.configSha256, 'training.configSha256', 'the SHA-256 of the canonical training config') };
  if (t.code !== undefined) training.code = str(t.code, 'training.code', 'the training code version (e.g. a git commit)');

  const records: SisaRecordEntry[] = [];
  const known = new Set<string>();
  list(o.records, 'records', 'records { id, subject?, sha256 }', 1).forEach((x, i) => {
    const at = `records[${i}]`;
    const r = obj(x, at, 'a record { id, subject?, sha256 }');
    const id = str(r.id, `${at}.id`, 'the record id');
    if (known.has(id)) fail(`${at}.id`, `record id ${JSON.stringify(id)} is listed twice`);
    known.add(id);
    const entry: SisaRecordEntry = { id, sha256: hex(r.sha256, `${at}.sha256`, "the SHA-256 of the record's canonical content") };
    if (r.subject !== undefined) entry.subject = str(r.subject, `${at}.subject`, 'the subject id');
    records.push(entry);
  });

  const placed = new Map<string, string>();
  const shards: SisaShard[] = list(o.shards, 'shards', 'shards', 1).map((x, k) => {
    const at = `shards[${k}]`;
    const s = obj(x, at, 'a shard { shard, slices, checkpoints, model }');
    index(s.shard, `${at}.shard`, k, 'shard');
    const slices = list(s.slices, `${at}.slices`, 'slices { slice, records, root }', 1).map((y, r): SisaSlice => {
      const sat = `${at}.slices[${r}]`;
      const sl = obj(y, sat, 'a slice { slice, records, root }');
      index(sl.slice, `${sat}.slice`, r, 'slice');
      const ids = list(sl.records, `${sat}.records`, 'record ids').map((id, j) => {
        const v = str(id, `${sat}.records[${j}]`, 'a record id');
        if (!known.has(v)) fail(`${sat}.records[${j}]`, `record id ${JSON.stringify(v)} is not in the manifest's records list`);
        const other = placed.get(v);
        if (other) fail(`${sat}.records[${j}]`, `record id ${JSON.stringify(v)} is also in ${other}: SISA's shards and slices are disjoint`);
        placed.set(v, `shard ${k} slice ${r}`);
        return v;
      });
      return { slice: r, records: ids, root: hex(sl.root, `${sat}.root`, "the Merkle root of the slice's record digests") };
    });
    const checkpoints = list(s.checkpoints, `${at}.checkpoints`, 'checkpoints, one after each slice', slices.length).map((y, r): SisaCheckpoint => {
      const cat = `${at}.checkpoints[${r}]`;
      const c = obj(y, cat, 'a checkpoint { slice, sha256, parent, dataRoot, configSha256 }');
      index(c.slice, `${cat}.slice`, r, 'slice');
      const cp: SisaCheckpoint = {
        slice: r,
        sha256: hex(c.sha256, `${cat}.sha256`, "the checkpoint's artefact digest"),
        parent: c.parent === null ? null : hex(c.parent, `${cat}.parent`, 'the digest of the checkpoint training resumed from, or null'),
        dataRoot: hex(c.dataRoot, `${cat}.dataRoot`, 'the Merkle root of the slice roots seen so far'),
        configSha256: hex(c.configSha256, `${cat}.configSha256`, 'the SHA-256 of the canonical training config'),
      };
      if (c.seed !== undefined) cp.seed = Number.isSafeInteger(c.seed) ? (c.seed as number) : fail(`${cat}.seed`, `expected an integer seed, got ${describe(c.seed)}`);
      if (c.epochs !== undefined) cp.epochs = Number.isSafeInteger(c.epochs) && (c.epochs as number) >= 0 ? (c.epochs as number) : fail(`${cat}.epochs`, `expected a non-negative integer, got ${describe(c.epochs)}`);
      return cp;
    });
    if (checkpoints.length !== slices.length) fail(`${at}.checkpoints`, `expected one checkpoint per slice (${slices.length}), got ${checkpoints.length}`);
    const model = str(s.model, `${at}.model`, "the constituent model: a tfjs: or onnx: ref relative to the manifest");
    if (!/^(tfjs|onnx):.*\S/.test(model)) fail(`${at}.model`, `expected a tfjs:<model.json> or onnx:<file.onnx> ref relative to the manifest, got ${describe(model)}`);
    return { shard: k, slices, checkpoints, model };
  });
  const unplaced = records.find((r) => !placed.has(r.id));
  if (unplaced) fail(`records[${records.indexOf(unplaced)}]`, `record ${JSON.stringify(unplaced.id)} is in no slice; the records list holds exactly the records of the slices`);

  const manifest: SisaManifest = { format: SISA_MANIFEST_FORMAT, version: 1, aggregation: o.aggregation as SisaAggregation, training, records, shards };
  if (o.deletion !== undefined) {
    const d = obj(o.deletion, 'deletion', 'the deletion block { request?, records, located?, superseded?, destroyedAt? }');
    const deletion: SisaDeletion = { records: list(d.records, 'deletion.records', 'record ids').map((v, i) => str(v, `deletion.records[${i}]`, 'a record id')) };
    if (d.request !== undefined) deletion.request = str(d.request, 'deletion.request', 'the request reference');
    if (d.located !== undefined)
      deletion.located = list(d.located, 'deletion.located', '{ shard, slice }').map((v, i) => {
        const l = obj(v, `deletion.located[${i}]`, 'a { shard, slice } pair');
        if (!Number.isSafeInteger(l.shard) || !Number.isSafeInteger(l.slice)) fail(`deletion.located[${i}]`, 'expected integer shard and slice');
        return { shard: l.shard as number, slice: l.slice as number };
      });
    if (d.superseded !== undefined) deletion.superseded = list(d.superseded, 'deletion.superseded', 'checkpoint digests').map((v, i) => hex(v, `deletion.superseded[${i}]`, 'a checkpoint digest'));
    if (d.destroyedAt !== undefined) deletion.destroyedAt = str(d.destroyedAt, 'deletion.destroyedAt', 'an ISO 8601 time');
    manifest.deletion = deletion;
  }
  return manifest;
}
