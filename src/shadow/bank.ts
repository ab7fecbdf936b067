/**
 * The shadow bank: the shadow (reference) models the harness trains for `shadow`, `lira` and
 * `rmia`, shared by every attack and every model role so before/after comparisons use the same
 * reference distribution.
 *
 * Protocol (LiRA, Carlini et al. 2022, §IV-C; paired as in RMIA's experiments): the shadow pool is
 * population ∪ forget ∪ retain ∪ holdout. Shadows come in pairs (2p, 2p + 1); for each pair a seeded
 * coin per record puts the record in exactly one of the two training sets. So the first k shadows
 * (k even) train on every record exactly k/2 times, and shadow i's training set depends only on
 * (seed, i, pool) — never on how many shadows an attack asks for. That is what lets `shadow: 8`,
 * `lira: 16` and `rmia: 4` share the first 4, 8 and 16 models, and the disk cache keep them.
 */
import { sha256 } from '../cache.ts';
import { InputError } from '../errors.ts';
import { whereOf } from '../data/records.ts';
import type { DataRecord } from '../types.ts';

/** The shadow architecture: an MLP from config, or a tfjs target's topology re-initialised. */
export type Architecture = { kind: 'mlp'; layers: number[] } | { kind: 'topology'; topology: unknown };

/**
 * Identity of the training code (src/shadow/mlp.ts, dense.ts, kernels.ts), part of every cache key
 * of a trained model: change it whenever the numbers an (architecture, recipe, data, seed) trains
 * to change. Here, not in mlp.ts, so that the main thread can read it without loading tfjs.
 */
export const TRAINER_VERSION = 'dense-wasm/1';

export interface Training {
  epochs: number;
  batchSize: number;
  learningRate: number;
}

export interface ShadowSpec {
  architecture: Architecture;
  training: Training;
  seed: number;
}

/** One trained shadow: which pool records it trained on, and its probabilities on every pool record. */
export interface TrainedShadow {
  inside: Uint8Array;
  /** pool.length × classes, row-major. */
  probs: Float32Array;
}

export interface ShadowBank {
  pool: DataRecord[];
  indexOf: ReadonlyMap<string, number>;
  classes: number;
  models: TrainedShadow[];
}

/** Seeded coin for (pair, record): 1 = the record is in shadow 2·pair, else in shadow 2·pair + 1. */
export function pairCoin(seed: number, pair: number, id: string): 0 | 1 {
  const h = sha256(`shadow-pair\u0000${seed}\u0000${pair}\u0000${id}`);
  return (parseInt(h.slice(0, 2), 16) & 1) as 0 | 1;
}

/** Which pool records shadow `index` trains on. */
export function shadowMembership(ids: readonly string[], index: number, seed: number): Uint8Array {
  const pair = index >> 1;
  const first = (index & 1) === 0;
  return Uint8Array.from(ids, (id) => (pairCoin(seed, pair, id) === 1) === first ? 1 : 0);
}

/**
 * The shadow pool: population first, then the audited splits, de-duplicated by id (a forget record
 * is also a member; it appears once). Every record needs `features` of one width and a `label`.
 */
export function shadowPool(
  parts: { population?: DataRecord[]; forget: DataRecord[]; retain: DataRecord[]; holdout: DataRecord[] },
  names: FieldNames = DEFAULT_NAMES,
): {
  pool: DataRecord[];
  dim: number;
} {
  const pool: DataRecord[] = [];
  const seen = new Set<string>();
  for (const r of [...(parts.population ?? []), ...parts.forget, ...parts.retain, ...parts.holdout]) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    pool.push(r);
  }
  const dim = checkClassifierRecords(pool, names);
  return { pool, dim };
}

/** The data files' names of the features and label fields (config `data.fields`), for messages. */
export interface FieldNames {
  features: string;
  label: string;
}
const DEFAULT_NAMES: FieldNames = { features: 'features', label: 'label' };

/** Every record has a label and a feature vector of one width; returns the width. */
export function checkClassifierRecords(records: readonly DataRecord[], names: FieldNames = DEFAULT_NAMES): number {
  let dim: number | undefined;
  let first: DataRecord | undefined;
  for (const r of records) {
    if (r.features === undefined) {
      throw new InputError(`record "${r.id}" has no features: classifier targets need a numeric feature vector per record (field "${names.features}")`, whereOf(r, names.features));
    }
    if (r.label === undefined) {
      throw new InputError(`record "${r.id}" has no label: classifier attacks need the record's true class index (field "${names.label}")`, whereOf(r, names.label));
    }
    if (dim === undefined) {
      dim = r.features.length;
      first = r;
    } else if (r.features.length !== dim) {
      throw new InputError(
        `record "${r.id}" has ${r.features.length} features but record "${first!.id}" has ${dim}; every record needs the same number`,
        whereOf(r, names.features),
      );
    }
  }
  if (dim === undefined) throw new Error('no records');
  return dim;
}

/** Width of the bag-of-tokens vectors shadows of a text classifier train on (token ids hashed beyond it). */
export const BAG_OF_TOKENS_MAX_DIM = 2048;

/**
 * A text as the shadows of a text classifier see it: token frequencies (count / number of tokens),
 * token id t counted in bucket t mod dim. The attacker's stand-in for the target's text encoder.
 */
export function bagOfTokens(ids: readonly number[], dim: number): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const t of ids) v[t % dim]! += 1;
  return ids.length === 0 ? v : v.map((x) => x / ids.length);
}

/** Records' features as one n × dim float32 matrix. */
export function packFeatures(records: readonly DataRecord[], dim: number): Float32Array {
  const out = new Float32Array(records.length * dim);
  records.forEach((r, i) => out.set(r.features!, i * dim));
  return out;
}

/** Identity of the pool's content (ids, labels, features) for cache keys. */
export function poolHash(pool: readonly DataRecord[], dim: number): string {
  const ids = JSON.stringify(pool.map((r) => r.id)); // unambiguous whatever the ids contain
  const labels = Int32Array.from(pool, (r) => r.label!);
  const features = packFeatures(pool, dim);
  return sha256(Buffer.concat([Buffer.from(ids), Buffer.from(labels.buffer), Buffer.from(features.buffer)]));
}

/**
 * p_y, the probability of the true class y, as p_y / (p_y + Σ_{c≠y} p_c) in float64. Equal to p_y
 * for a normalised vector, but a memorised record's p_y = 1 − 1e-9 is 1.0 in float32 while the other
 * classes' 1e-9 of mass is still there: 1 − p then comes from that mass, not from rounding, which is
 * what keeps LiRA's φ = log(p/(1 − p)) and loss's log p_y from saturating (the reference LiRA code
 * gets the same from logits: z_y − logsumexp_{c≠y} z_c).
 */
export function trueClassConfidence(probs: ArrayLike<number>, y: number, offset = 0, classes = probs.length - offset): number {
  const py = probs[offset + y]!;
  if (!(py > 0)) return 0;
  let rest = 0;
  for (let c = 0; c < classes; c++) if (c !== y) rest += probs[offset + c]!;
  return py / (py + rest);
}

/**
 * Confidences p_y of the first `count` shadows on pool record `i` (true label y), split by whether
 * the shadow trained on it — the IN/OUT samples of LiRA and RMIA.
 */
export function shadowConfidences(bank: ShadowBank, count: number, i: number): { inside: number[]; outside: number[] } {
  const y = bank.pool[i]!.label!;
  const inside: number[] = [];
  const outside: number[] = [];
  for (let s = 0; s < count; s++) {
    const m = bank.models[s]!;
    (m.inside[i] ? inside : outside).push(trueClassConfidence(m.probs, y, i * bank.classes, bank.classes));
  }
  return { inside, outside };
}

export const f32ToBase64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function base64ToF32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  // Copy into a fresh, aligned buffer.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
