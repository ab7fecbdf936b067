/**
 * The contract every attack implements (Lighthouse's audit shape): metadata, options with defaults,
 * `collect` (the only stage that queries models, through the pool) and `evaluate` (pure).
 */
import type { z } from 'zod';
import type { Tokenizer, TokenSignals } from '../src/models/hf.ts';
import type { TrainTask } from '../src/pool/protocol.ts';
import type { ShadowBank } from '../src/shadow/bank.ts';
import type { DataRecord, ModelRole } from '../src/types.ts';

/** What a model can do; an attack names what it needs. Missing → `not-applicable`, never a pass. */
export type Capability =
  | 'tokenLogprobs'
  | 'tokenStats'
  | 'generate'
  | 'probabilities'
  /** A classifier that takes feature vectors (not text): its queries send `features`. */
  | 'featureVectors'
  /** Seeded sampling of several continuations per prompt at a temperature (SaMIA): hf:, or a served model that generates. */
  | 'sample';

export type Family = 'membership' | 'extraction';

export interface AttackMeta {
  id: string; // kebab-case, equal to its folder under attacks/
  title: string; // shown when its gates pass
  failureTitle: string; // shown when a gate fails
  description: string; // why it matters, one paragraph
  family: Family;
  /** Every entry must be met; a list entry is met by any one of its capabilities (e.g. loss on an LM or a classifier). */
  requires: (Capability | Capability[])[];
  /** Needs `data.population` (auxiliary records, e.g. RMIA's z); without it: not-applicable. */
  needsPopulation?: boolean;
  /** Needs the `reference` model role (the base model before fine-tuning); without one: not-applicable. */
  needsReference?: boolean;
  /** Paper and section the score follows. */
  reference: string;
}

/** A model role under attack, with what the harness knows about it. */
export interface ModelUnderTest {
  role: ModelRole;
  /** Content hash of the model's files: part of every cache key. */
  sha256: string;
  capabilities: ReadonlySet<Capability>;
  /**
   * How a served model generates (absent for a local model): `chat` when only chat completions work,
   * so a prefix reaches the model as a user message inside its chat template, with no prompt
   * likelihoods either (a weaker threat model an attack may need to state).
   */
  generation?: 'completions' | 'chat';
}

export type SplitName = 'forget' | 'retain' | 'holdout';

export interface AuditSplits {
  forget: DataRecord[];
  retain: DataRecord[];
  holdout: DataRecord[];
  /** Auxiliary records from the same distribution (shadow training, RMIA's z); never scored. */
  population?: DataRecord[];
}

/** The capabilities an attack's `requires` lacks on some model (an any-of entry is listed joined by "or"). */
export function missingCapabilities(requires: AttackMeta['requires'], models: readonly ModelUnderTest[]): string[] {
  return requires.flatMap((need) => {
    const anyOf = Array.isArray(need) ? need : [need];
    return models.every((m) => anyOf.some((c) => m.capabilities.has(c))) ? [] : [anyOf.join(' or ')];
  });
}

/** The only door to the models. Requests are batched, cached on disk and run on the pool. */
export interface Signals {
  tokenizer(model: ModelUnderTest): Promise<Tokenizer>;
  tokenSignals(model: ModelUnderTest, texts: string[], opts?: { stats?: boolean }): Promise<TokenSignals[]>;
  /** Greedy continuation of each prompt (token ids), at most `maxNewTokens` new tokens. */
  generate(model: ModelUnderTest, prompts: number[][], maxNewTokens: number): Promise<number[][]>;
  /**
   * `n` sampled continuations of each prompt (token ids, at most `maxNewTokens` each, cut before
   * end-of-sequence) at `temperature`. Deterministic for a seed: the same request gives the same
   * samples whatever the number of workers or the concurrency.
   */
  sample(model: ModelUnderTest, prompts: number[][], o: SampleOptions): Promise<number[][][]>;
  /** A classifier's class probabilities on records with `features`, one vector per record. */
  probabilities(model: ModelUnderTest, records: DataRecord[]): Promise<Float32Array[]>;
  /**
   * The first `count` shadow models of the audit's shadow bank (src/shadow/bank.ts): trained on
   * demand in the pool, shared by every attack and model role, cached on disk.
   */
  shadows(count: number): Promise<ShadowBank>;
  /** Train a small classifier (e.g. Shokri's attack models) and return its probabilities on `query`; cached. */
  fit(req: FitRequest): Promise<Float32Array>;
}

export type FitRequest = Omit<TrainTask, 'op'>;

export interface SampleOptions {
  /** Continuations per prompt. */
  n: number;
  maxNewTokens: number;
  /** > 0: softmax(logits / temperature) over the whole vocabulary. */
  temperature: number;
  seed: number;
}

export interface CollectContext<O> {
  options: O;
  seed: number;
  splits: AuditSplits;
  /** The roles under attack (before, after, retrained), in that order. */
  models: ModelUnderTest[];
  /** The base model before fine-tuning, when configured: calibrates scores, is never attacked. */
  reference?: ModelUnderTest;
  signals: Signals;
}

export interface EvaluateContext<O> {
  options: O;
  seed: number;
  splits: AuditSplits;
}

/** Per-record membership scores on one model; higher = more likely member, always. */
export interface MembershipObservation {
  family: 'membership';
  model: ModelRole;
  splits: Partial<Record<SplitName, { ids: string[]; subjects: (string | undefined)[]; scores: number[] }>>;
  /** What a reader must know to read these scores (e.g. LiRA's shadows not calibrated to this model); shown with the attack. */
  warnings?: string[];
}

/** One extraction attempt: a prompt, what was being extracted, and whether the model produced it. */
export interface ExtractionTrial {
  split: SplitName;
  recordId: string;
  subject: string | undefined;
  /** `suffix` for prefix extraction, the PII type for PII extraction. */
  target: string;
  hit: boolean;
  /** Approximate match (normalised edit similarity ≥ the attack's threshold); `hit` implies `near`. */
  near: boolean;
  similarity: number;
  /** The PII value that was emitted (pii-extraction hits only). Held in memory; result.json gets it masked. */
  emitted?: string;
  /**
   * A LoRA target's own outcome before attribution (src/claims/lora/attribution.ts): `hit`/`near`
   * then count only what the frozen base does not also emit from the same prompt.
   */
  raw?: { hit: boolean; near: boolean };
}

export interface ExtractionObservation {
  family: 'extraction';
  model: ModelRole;
  trials: ExtractionTrial[];
  /** Records that could not be tried (too short, PII at offset 0), per split: stated, never hidden. */
  skipped: Partial<Record<SplitName, number>>;
}

/** Canary exposure on one model (Secret Sharer): one entry per configured canary. */
export interface ExposureObservation {
  family: 'exposure';
  model: ModelRole;
  canaries: {
    index: number;
    insertions: number | undefined;
    candidates: number;
    rank: number;
    /** log2 m − log2 rank, in bits. */
    exposure: number;
    pvalue: number;
    maxExposure: number;
  }[];
}

export type Observation = MembershipObservation | ExtractionObservation | ExposureObservation;

/** What an extraction attack's collect returns: per model, per split, one item per prompt tried. */
export interface ExtractionEvidence<Item> {
  models: {
    role: ModelRole;
    splits: Partial<Record<SplitName, Item[]>>;
    skipped: Partial<Record<SplitName, number>>;
  }[];
}

/** Turns extraction evidence into observations, one trial per item (the part both attacks share). */
export function extractionObservations<Item>(
  evidence: ExtractionEvidence<Item>,
  judge: (item: Item) => Omit<ExtractionTrial, 'split'>,
): ExtractionObservation[] {
  return evidence.models.map(({ role, splits, skipped }) => {
    const trials: ExtractionTrial[] = [];
    for (const split of ['forget', 'retain', 'holdout'] as const)
      for (const item of splits[split] ?? []) trials.push({ split, ...judge(item) });
    return { family: 'extraction', model: role, trials, skipped };
  });
}

/** Per-record scores per role and split (in the splits' record order) → membership observations. */
export function membershipObservations(
  models: { role: ModelRole; scores: Partial<Record<SplitName, number[]>> }[],
  splits: AuditSplits,
): MembershipObservation[] {
  return models.map(({ role, scores }) => {
    const out: MembershipObservation['splits'] = {};
    for (const split of ['forget', 'retain', 'holdout'] as const) {
      const s = scores[split];
      const records = splits[split];
      if (!s || records.length === 0) continue;
      out[split] = { ids: records.map((r) => r.id), subjects: records.map((r) => r.subject), scores: s };
    }
    return { family: 'membership', model: role, splits: out };
  });
}

export interface Attack<O = unknown, E = unknown> {
  meta: AttackMeta;
  options: z.ZodType<O>;
  collect(ctx: CollectContext<O>): Promise<E>;
  evaluate(evidence: E, ctx: EvaluateContext<O>): Observation[];
}

/** Keeps each attack's generic types while letting the registry hold them in one list. */
export const defineAttack = <O, E>(attack: Attack<O, E>): Attack<O, E> => attack;
