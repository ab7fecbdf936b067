/** The `claims.sisa` section of result.json (imports nothing: result/types.ts sees it). */

/** The structural checks, in report order; each is the gate `claims.sisa.<id>`. */
export const SISA_CHECKS = [
  'manifest-consistent',
  'ensemble-before',
  'ensemble-after',
  'forget-absent',
  'retained-unchanged',
  'retrained-from-checkpoint',
  'other-shards-untouched',
  'superseded-destroyed',
] as const;
export type SisaCheckId = (typeof SISA_CHECKS)[number];

export interface SisaCheck {
  id: SisaCheckId;
  /** `superseded-destroyed` is a warning: the tool reads that the old checkpoints were destroyed, it cannot see it. */
  level: 'error' | 'warn';
  status: 'pass' | 'fail' | 'inconclusive';
  /** What a pass means, in plain words. */
  expected: string;
  /** One plain-language line: what was found. */
  message: string;
  /** Every problem found (shard, slice, pseudonym), at most SISA_PROBLEMS_LISTED of them. */
  problems: string[];
  /** How many problems there were in all. */
  problemCount: number;
}

export interface SisaManifestSummary {
  role: 'before' | 'after';
  /** Relative to the config file's folder. */
  file: string;
  sha256: string;
  aggregation: 'mean-softmax' | 'vote';
  shards: number;
  /** Slices per shard, in shard order. */
  slices: number[];
  records: number;
  /** Per shard: the digest of the final checkpoint and of the model files audited as its constituent. */
  constituents: { shard: number; model: string; finalCheckpoint: string; audited: string }[];
  /** The manifest's deletion block, as recorded (request reference, records deleted, when the old checkpoints were destroyed). */
  deletion?: { request?: string; records: number; superseded: number; destroyedAt?: string };
}

export interface SisaClaimSummary {
  manifests: SisaManifestSummary[];
  /** Where before's manifest holds the deleted records (pseudonyms), and what was retrained. */
  affected: { shard: number; firstSlice: number; records: number; subjects: number; retrainedFrom: string }[];
  checks: SisaCheck[];
}

export const SISA_PROBLEMS_LISTED = 20;
