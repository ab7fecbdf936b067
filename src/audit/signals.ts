/**
 * The `Signals` door of the collect stage: turns attack requests into fixed batches, de-duplicates
 * identical requests across attacks, serves finished batches from the cache and runs the rest on the
 * pool. Batches depend only on the request, never on the number of workers.
 */
import { createHash } from 'node:crypto';
import type { FitRequest, ModelUnderTest, SampleOptions, Signals } from '../../attacks/types.ts';
import { sha256, type Cache } from '../cache.ts';
import { InputError } from '../errors.ts';
import { whereOf } from '../data/records.ts';
import { packSignals, type Tokenizer, type TokenSignals } from '../models/hf.ts';
import type { ClassifierSpec } from '../models/classifier.ts';
import type { ServedModel } from '../models/served.ts';
import type { Pool } from '../pool/index.ts';
import type { ModelSpec } from '../pool/protocol.ts';
import {
  base64ToF32,
  f32ToBase64,
  packFeatures,
  poolHash,
  shadowMembership,
  TRAINER_VERSION,
  type ShadowBank,
  type ShadowSpec,
  type TrainedShadow,
} from '../shadow/bank.ts';
import type { DataRecord } from '../types.ts';
import { z } from 'zod';

export const SCORE_BATCH = 16;
/** Scoring batches sent ahead of the oldest unfinished one, per split (enough to keep 8 workers busy). */
const SCORE_WINDOW = 32;
export const GENERATE_BATCH = 32;
/** Records per classifier batch: large enough to amortise a call, small enough to resume a crash. */
export const CLASSIFY_BATCH = 256;

export interface Progress {
  (event: { op: 'score' | 'generate' | 'sample' | 'classify' | 'train'; model: string; done: number; total: number; cached: boolean }): void;
}

/** The shadow bank's inputs: the pool, its feature width, how to train, and which target fixes the class count. */
export interface ShadowSetup {
  pool: DataRecord[];
  dim: number;
  spec: ShadowSpec;
  /** The model whose output width gives the number of classes (the first role under attack). */
  classesFrom: ModelUnderTest;
}

/** A sequence's signals as stored: float32 arrays in base64 (exact, compact, NaN and ±Infinity included). */
interface StoredSignals {
  logprobs: string;
  mu?: string;
  sigma?: string;
}

/**
 * The stored form of each kind of cache entry, checked on every read (with the request's own sizes
 * on top: see the readers below) and by `privacy-audit cache verify` (without a request).
 */
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'expected base64');
export const STORED = {
  score: z.array(z.strictObject({ logprobs: base64, mu: base64.optional(), sigma: base64.optional() })),
  generate: z.array(z.array(z.int().min(0))),
  /** One prompt's samples: n continuations of token ids. */
  sample: z.array(z.array(z.int().min(0))),
  classify: z.strictObject({ classes: z.int().min(1), probs: base64 }),
  shadow: z.strictObject({ probs: base64, weights: z.array(z.strictObject({ shape: z.array(z.int().min(0)), values: base64 })) }),
  fit: base64,
  /** What one `run --shard i/N` computed (written when it finished; `--merge` checks every i). */
  shard: z.strictObject({ index: z.int().min(0), count: z.int().min(1), computed: z.int().min(0), fromCache: z.int().min(0), others: z.int().min(0) }),
  /** How many shards an audit was cut into (every shard writes the same). */
  'shard-plan': z.strictObject({ count: z.int().min(1) }),
} satisfies Record<string, z.ZodType>;
export type EntryKind = keyof typeof STORED;

/** `v` as the stored form of `kind`, or an Error naming the first mismatch. */
function stored<K extends EntryKind>(kind: K, v: unknown): z.output<(typeof STORED)[K]> {
  const r = STORED[kind].safeParse(v);
  if (r.success) return r.data as z.output<(typeof STORED)[K]>;
  const issue = r.error.issues[0]!;
  throw new Error(`${issue.path.length > 0 ? issue.path.join('.') : 'value'}: ${issue.message}`);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Float32 values from base64, exactly `n` of them (a model's NaN is its output, not damage). */
function floats(b64: string, n: number, what: string): Float32Array {
  check(b64.length % 4 === 0 && (b64.length / 4) * 3 - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0) === n * 4, `${what}: not ${n} float32 values`);
  return base64ToF32(b64);
}

/** Zero signals of a sequence of n tokens: what a shard stands in for another shard's batch. */
const zeroSignals = (n: number, stats: boolean): TokenSignals => {
  const z = () => new Float32Array(Math.max(n - 1, 0));
  return stats ? { logprobs: z(), mu: z(), sigma: z() } : { logprobs: z() };
};

const encodeSignals = (sig: TokenSignals[]): StoredSignals[] =>
  sig.map((s) => ({
    logprobs: f32ToBase64(s.logprobs),
    ...(s.mu ? { mu: f32ToBase64(s.mu) } : {}),
    ...(s.sigma ? { sigma: f32ToBase64(s.sigma) } : {}),
  }));

/** Stored signals checked against the request: one sequence per id list, one value per token after the first. */
function decodeSignals(v: unknown, b: number[][], stats: boolean): TokenSignals[] {
  const sig = stored('score', v);
  check(sig.length === b.length, `${sig.length} sequences, expected ${b.length}`);
  return sig.map((s, j) => {
    const n = Math.max(b[j]!.length - 1, 0);
    check((s.mu !== undefined) === stats && (s.sigma !== undefined) === stats, `sequence ${j}: token statistics ${stats ? 'missing' : 'not asked for'}`);
    return {
      logprobs: floats(s.logprobs, n, `sequence ${j} log-probabilities`),
      ...(s.mu ? { mu: floats(s.mu, n, `sequence ${j} mu`) } : {}),
      ...(s.sigma ? { sigma: floats(s.sigma, n, `sequence ${j} sigma`) } : {}),
    };
  });
}

/**
 * Which freshly scored requests a served model is sent a second time, to catch servers whose answers
 * drift (prefix caching, batch-variant kernels: shared/research/api-targets.md §1): every 20th
 * record, by a hash of its token ids, so the choice does not depend on order or concurrency.
 */
const REPEAT_EVERY = 20;
const repeatThis = (ids: number[]) => parseInt(sha256(ids.join(',')).slice(0, 8), 16) % REPEAT_EVERY === 0;

/**
 * Promise.all that waits for every request to settle before rejecting: an answer that arrives after
 * another request failed is still cached, so the next run does not send it again.
 */
async function settleAll<T>(ps: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(ps);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * The seed a prompt's samples are drawn with: the request's seed and the prompt's token ids hashed to
 * 32 bits, so prompts do not share one random stream and the draw depends on nothing but the request.
 */
export const promptSeed = (seed: number, prompt: number[]): number => parseInt(sha256(JSON.stringify(['sample-seed/v1', seed, prompt])).slice(0, 8), 16);

function checkSampleOptions(o: SampleOptions): void {
  if (!Number.isInteger(o.n) || o.n < 1) throw new Error(`sample: n must be an integer ≥ 1, got ${o.n}`);
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) throw new Error(`sample: maxNewTokens must be an integer ≥ 1, got ${o.maxNewTokens}`);
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature)) throw new Error(`sample: temperature must be > 0, got ${o.temperature}`);
  if (!Number.isSafeInteger(o.seed)) throw new Error(`sample: seed must be a safe integer, got ${o.seed}`);
}

/** Stored samples checked against the request: n continuations of at most maxNewTokens tokens. */
function decodeSamples(v: unknown, o: SampleOptions): number[][] {
  const t = stored('sample', v);
  check(t.length === o.n, `${t.length} samples, expected ${o.n}`);
  t.forEach((c, j) => check(c.length <= o.maxNewTokens, `sample ${j}: ${c.length} tokens, at most ${o.maxNewTokens} expected`));
  return t;
}

/** What a tokenSignals request is: the model role, whether statistics were asked, and every text. */
function textsKey(role: string, stats: boolean, texts: readonly string[]): string {
  const h = createHash('sha256').update(`${role}\0${stats}\0${texts.length}\0`);
  for (const t of texts) h.update(`${t.length}\0`).update(t);
  return h.digest('hex');
}

/** The shard a batch of work belongs to: its key (a SHA-256) modulo the number of shards. */
export const shardOf = (key: string, count: number): number => parseInt(key.slice(0, 12), 16) % count;

const chunks = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

export function createSignals(opts: {
  pool: Pool;
  cache: Cache;
  specs: ReadonlyMap<string, ModelSpec>; // by model role
  /** Models served over HTTP, by role: queried from the main thread, one cache entry per request. */
  served?: ReadonlyMap<string, ServedModel>;
  /** The audit's seed (sent with generation requests to servers that take one). */
  seed?: number;
  progress?: Progress;
  /**
   * `run --shard i/N`: compute only the batches of model work (scoring, generation, sampling, shadow
   * training) whose key falls to shard i, and stand zeros in for the others (never stored); attack
   * models (`fit`) are left to `--merge`. Classifier outputs are computed by every shard: they are
   * cheap, and the class count depends on them.
   */
  shard?: { index: number; count: number };
  /** `run --merge`: every batch of sharded work must come from the cache (verified); none is computed. */
  merge?: boolean;
  /** With `merge`: the number of shards (named in the message about missing work). */
  mergeCount?: number;
  /**
   * Planning (--dry-run, served budgets): local models are not run (their signals are zeros, their
   * continuations empty), so only what the served models are asked is counted (by their stand-ins).
   */
  planning?: boolean;
  /** Built on first use (a loss-only audit never builds the pool's bag-of-tokens vectors). */
  shadow?: () => Promise<ShadowSetup>;
}): Signals & {
  tokensScored: number;
  shadowsTrained: number;
  truncated: ReadonlyMap<string, number>;
  /** Per served role: requests sent twice on purpose, and the largest difference between the answers. */
  repeatChecks: ReadonlyMap<string, { requests: number; maxAbsDiff: number }>;
  /** Names the attack now collecting, for the one line that reports a worker's death. */
  setAttack(id: string | undefined): void;
  /** Forgets the memoised per-token signals: no attack still to run asks for them (they are the audit's largest data). True if it held any. */
  releaseTokenSignals(): boolean;
  /** Batches of sharded work this run computed, took from the cache, and left to other shards. */
  shardCounts: { computed: number; fromCache: number; others: number };
} {
  const tokenizers = new Map<string, Promise<Tokenizer>>();
  // Records or prompts longer than a model's context, by model role (see budgets.ts for the windows).
  const truncated = new Map<string, number>();
  const countTruncated = (role: string, n: number) => {
    if (n > 0) truncated.set(role, (truncated.get(role) ?? 0) + n);
  };
  const inflight = new Map<string, Promise<unknown>>();
  const repeatChecks = new Map<string, { requests: number; maxAbsDiff: number }>();
  const signalMemo = new Map<string, Promise<{ signals: TokenSignals[]; truncated: number }>>();
  /** Keys of the local scoring batches in `inflight` (let go with the memo). */
  const scoreKeys = new Set<string>();
  const shardCounts = { computed: 0, fromCache: 0, others: 0 };
  const othersSeen = new Set<string>();
  let tokensScored = 0;
  let shadowsTrained = 0;
  let attack: string | undefined;
  const context = () => (attack ? ` for attack "${attack}"` : '');

  const spec = (m: ModelUnderTest): ModelSpec => {
    const s = opts.specs.get(m.role);
    if (!s) throw new Error(`no model loaded for role ${m.role}`);
    return s;
  };
  const hfSpec = (m: ModelUnderTest): { kind: 'hf'; path: string } => {
    const s = spec(m);
    if (s.kind !== 'hf') throw new Error(`model ${m.role} is a classifier, not a causal LM`);
    return s;
  };
  const classifierSpec = (m: ModelUnderTest): ClassifierSpec => {
    const s = spec(m);
    if (s.kind === 'hf') throw new Error(`model ${m.role} is a causal LM, not a classifier`);
    return s;
  };

  /**
   * One batch: memory de-duplication, then the disk cache, then the pool. `cached` is false only for
   * the call that ran `compute` (what the progress bar reports).
   */
  async function batch<T>(
    key: string,
    kind: EntryKind,
    compute: () => Promise<T>,
    encode: (t: T) => unknown,
    /** Checks a stored value against this request and decodes it; throws when it does not fit. */
    decode: (s: unknown) => T,
    /** Zeros of the right shape, for work another shard does (model work and attack models only). */
    placeholder?: () => T,
  ): Promise<{ value: T; cached: boolean }> {
    const sharded = placeholder !== undefined && kind !== 'fit';
    if (opts.shard && placeholder && (kind === 'fit' || shardOf(key, opts.shard.count) !== opts.shard.index)) {
      // Counted once per batch, however many attacks ask for it.
      if (sharded && !othersSeen.has(key)) {
        othersSeen.add(key);
        shardCounts.others++;
      }
      return { value: placeholder(), cached: true };
    }
    let cached = true;
    let p = inflight.get(key) as Promise<T> | undefined;
    if (!p) {
      p = (async () => {
        const hit = await opts.cache.get(key, kind, decode);
        if (hit !== undefined) {
          if (sharded) shardCounts.fromCache++;
          return hit;
        }
        if (opts.merge && sharded) {
          throw new InputError(
            `--merge: a batch of ${kind} work is missing from the cache or failed verification (key ${key.slice(0, 12)}…, shard ${shardOf(key, opts.mergeCount ?? 1)}${opts.mergeCount ? `/${opts.mergeCount}` : ''}); run that shard again with the same config and cache, then --merge`,
          );
        }
        cached = false;
        if (sharded) shardCounts.computed++;
        const value = await compute();
        await opts.cache.set(key, kind, encode(value));
        return value;
      })();
      inflight.set(key, p);
      // Continuations are read once, by the attack that asked: held here, a 100k-record audit kept
      // every one of them to its end. A later identical request reads the disk cache.
      if (kind === 'generate' || kind === 'sample') p.then(() => inflight.delete(key), () => inflight.delete(key));
    }
    return { value: await p, cached };
  }

  /** The shadow pool, packed once per audit: features and labels in shared memory, its content hash. */
  let prepared: Promise<{ setup: ShadowSetup; features: Float32Array; labels: Int32Array; dataKey: string; ids: string[]; indexOf: Map<string, number> }> | undefined;
  const prepare = () =>
    (prepared ??= (async () => {
      if (!opts.shadow) throw new Error('no shadow pool: shadow-model attacks need classifier targets with labels');
      const setup = await opts.shadow();
      const { pool, dim } = setup;
      const features = new Float32Array(new SharedArrayBuffer(pool.length * dim * 4));
      features.set(packFeatures(pool, dim));
      const labels = new Int32Array(new SharedArrayBuffer(pool.length * 4));
      labels.set(Int32Array.from(pool, (r) => r.label!));
      return { setup, features, labels, dataKey: poolHash(pool, dim), ids: pool.map((r) => r.id), indexOf: new Map(pool.map((r, i) => [r.id, i])) };
    })());

  /** Which pool records shadow `index` trains on: one hash per record, computed once per audit. */
  const memberships = new Map<number, Uint8Array>();

  /** Shadow `index` of the bank: trained in the pool unless the disk cache has it (batch() de-duplicates). */
  async function shadowAt(index: number, classes: number): Promise<{ shadow: TrainedShadow; cached: boolean }> {
    const { setup, features, labels, dataKey, ids } = await prepare();
    const { dim, spec: sp } = setup;
    let inside = memberships.get(index);
    if (!inside) memberships.set(index, (inside = shadowMembership(ids, index, sp.seed)));
    const rows = inside;
    const key = sha256(JSON.stringify(['shadow/v3', TRAINER_VERSION, sp.architecture, sp.training, dataKey, classes, sp.seed, index]));
    const { value, cached } = await batch(
      key,
      'shadow',
      async () => {
        const res = await opts.pool.run({
          op: 'train',
          architecture: sp.architecture,
          training: sp.training,
          // Each shadow's initialisation and shuffle get their own seed.
          seed: (sp.seed * 1009 + index * 7919 + 1) >>> 0,
          // Shared memory: the pool's features cross to the worker without a copy; the worker
          // gathers this shadow's rows.
          features,
          labels,
          rows: Int32Array.from([...rows.keys()].filter((r) => rows[r])),
          dim,
          classes,
          query: features,
        }, `training shadow model ${index + 1}${context()}`);
        shadowsTrained++;
        return res;
      },
      // Trained shadows are kept with their weights (base64 float32), not only their outputs.
      (v) => ({ probs: f32ToBase64(v.probs), weights: v.weights.map((w) => ({ shape: w.shape, values: f32ToBase64(Float32Array.from(w.values)) })) }),
      (s) => {
        const v = stored('shadow', s);
        return {
          op: 'train' as const,
          probs: floats(v.probs, setup.pool.length * classes, 'probs'),
          weights: v.weights.map((w, i) => ({ shape: w.shape, values: Array.from(floats(w.values, w.shape.reduce((a, b) => a * b, 1), `weights.${i}`)) })),
        };
      },
      () => ({ op: 'train' as const, probs: new Float32Array(setup.pool.length * classes), weights: [] }),
    );
    return { shadow: { inside, probs: value.probs }, cached };
  }

  /**
   * A served model's signals: one request and one cache entry per record, so an interrupted audit
   * resumes without sending any finished request again. Concurrency is the served model's own.
   */
  async function servedSignals(m: ModelUnderTest, served: ServedModel, ids: number[][], stats: boolean): Promise<TokenSignals[]> {
    if (stats) throw new Error(`model ${m.role} is served over HTTP: its endpoint cannot return the whole next-token distribution`);
    let done = 0;
    return settleAll(
      ids.map(async (x) => {
        const key = sha256(JSON.stringify(['served-score/v1', m.sha256, x]));
        const { value, cached } = await batch(
          key,
          'score',
          async () => {
            const logprobs = await served.score(x);
            tokensScored += x.length;
            return [{ logprobs }];
          },
          encodeSignals,
          (v) => decodeSignals(v, [x], false),
          () => [{ logprobs: new Float32Array(Math.max(x.length - 1, 0)) }],
        );
        // The repeat is sent after the first answer is cached: a server lost in between costs no answer.
        if (!cached && repeatThis(x)) {
          const again = await served.score(x);
          const c = repeatChecks.get(m.role) ?? { requests: 0, maxAbsDiff: 0 };
          c.requests++;
          for (let t = 0; t < value[0]!.logprobs.length; t++) c.maxAbsDiff = Math.max(c.maxAbsDiff, Math.abs(value[0]!.logprobs[t]! - again[t]!));
          repeatChecks.set(m.role, c);
        }
        opts.progress?.({ op: 'score', model: m.role, done: ++done, total: ids.length, cached });
        return value[0]!;
      }),
    );
  }

  async function servedGenerate(m: ModelUnderTest, served: ServedModel, prompts: number[][], maxNewTokens: number): Promise<number[][]> {
    let done = 0;
    return settleAll(
      prompts.map(async (p) => {
        const key = sha256(JSON.stringify(['served-generate/v1', m.sha256, maxNewTokens, p]));
        const { value, cached } = await batch(
          key,
          'generate',
          async () => [await served.generate(p, maxNewTokens, opts.seed ?? 0)],
          (t) => t,
          (v) => {
            const t = stored('generate', v);
            check(t.length === 1, `${t.length} continuations, expected 1`);
            check(t[0]!.length <= maxNewTokens, `continuation: ${t[0]!.length} tokens, at most ${maxNewTokens} expected`);
            return t;
          },
          () => [[]],
        );
        opts.progress?.({ op: 'generate', model: m.role, done: ++done, total: prompts.length, cached });
        return value[0]!;
      }),
    );
  }

  /** A served model's samples: one request (with `n`) and one cache entry per prompt. */
  async function servedSample(m: ModelUnderTest, served: ServedModel, prompts: number[][], o: SampleOptions): Promise<number[][][]> {
    let done = 0;
    return settleAll(
      prompts.map(async (p) => {
        const key = sha256(JSON.stringify(['served-sample/v1', m.sha256, o.n, o.maxNewTokens, o.temperature, o.seed, p]));
        const { value, cached } = await batch(
          key,
          'sample',
          () => served.sample(p, { n: o.n, maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: promptSeed(o.seed, p) }),
          (t) => t,
          (v) => decodeSamples(v, o),
          () => Array.from({ length: o.n }, () => []),
        );
        opts.progress?.({ op: 'sample', model: m.role, done: ++done, total: prompts.length, cached });
        return value;
      }),
    );
  }

  /**
   * Prompts that fit the context with `maxNewTokens` after them: a longer prompt keeps its start
   * token(s) and its last tokens, the ones nearest what the model is asked to continue (counted).
   */
  async function fitPrompts(m: ModelUnderTest, promptsIn: number[][], maxNewTokens: number, what: string): Promise<number[][]> {
    const tok = await api.tokenizer(m);
    const room = tok.maxLength - maxNewTokens;
    if (room <= tok.leading) throw new Error(`${what}: ${maxNewTokens} new tokens leave no room for a prompt in the ${tok.maxLength}-token context of ${m.role}`);
    countTruncated(m.role, promptsIn.filter((p) => p.length > room).length);
    return promptsIn.map((p) => (p.length > room ? [...p.slice(0, tok.leading), ...p.slice(p.length - (room - tok.leading))] : p));
  }

  /**
   * The signals of `texts` on model `m`, and how many texts were cut to the context (tokenSignals
   * without its memo). For a local model the texts are tokenised one batch at a time and each batch
   * goes to the pool (or the cache) at once, so the workers score while the main thread tokenises
   * the rest, and no list of every text's token ids is built.
   */
  async function scoreTexts(m: ModelUnderTest, texts: string[], stats: boolean): Promise<{ signals: TokenSignals[]; truncated: number }> {
    const tok = await api.tokenizer(m);
    let cut = 0;
    // Texts longer than the context window are scored on their first maxLength tokens (counted).
    const encode = (t: string) => {
      const x = tok.encode(t);
      if (x.length <= tok.maxLength) return x;
      cut++;
      return x.slice(0, tok.maxLength);
    };
    const served = opts.served?.get(m.role);
    if (served || opts.planning) {
      const ids = texts.map(encode);
      return { signals: served ? await servedSignals(m, served, ids, stats) : ids.map((x) => ({ logprobs: new Float32Array(Math.max(x.length - 1, 0)) })), truncated: cut };
    }
    const total = Math.ceil(texts.length / SCORE_BATCH);
    const progress = { done: 0, total };
    const pending: Promise<TokenSignals[]>[] = [];
    for (let i = 0; i < total; i++) {
      // At most SCORE_WINDOW batches ahead of the oldest unfinished one: a batch waiting for a worker
      // holds its token ids in the pool's queue, and the main thread tokenises several times faster
      // than the workers score, so at 100k records nearly every record's ids (~1 KB each as JS
      // arrays) waited there at once. (At 10k the queue is small and the window changed nothing,
      // which is why it was once taken out.)
      if (i >= SCORE_WINDOW) await pending[i - SCORE_WINDOW]!.catch(() => {});
      const p = scoreBatch(m, texts.slice(i * SCORE_BATCH, (i + 1) * SCORE_BATCH).map(encode), stats, i, progress);
      p.catch(() => {}); // awaited below; a failure while the rest is tokenised is not "unhandled"
      pending.push(p);
      // A turn of the event loop per batch: the cache answers and the batches it does not hold go to
      // the pool while the rest is tokenised (microseconds against a batch's tokenisation).
      await new Promise((r) => setImmediate(r));
    }
    return { signals: (await Promise.all(pending)).flat(), truncated: cut };
  }

  /** One batch of token id lists on a local model: cache or pool (batch() de-duplicates). */
  async function scoreBatch(m: ModelUnderTest, b: number[][], stats: boolean, i: number, progress: { done: number; total: number }): Promise<TokenSignals[]> {
    const key = sha256(JSON.stringify(['score/v3', m.sha256, stats, b]));
    scoreKeys.add(key);
    const { value: r, cached } = await batch(
      key,
      'score',
      async () => {
        const res = await opts.pool.run({ op: 'score', model: hfSpec(m), batch: b, stats }, `scoring batch ${i + 1}/${progress.total} on model "${m.role}"${context()}`);
        tokensScored += b.reduce((s, x) => s + x.length, 0);
        // Already one buffer (the worker packs and moves it).
        return res.signals;
      },
      encodeSignals,
      (v) => packSignals(decodeSignals(v, b, stats)),
      () => b.map((x) => zeroSignals(x.length, stats)),
    );
    opts.progress?.({ op: 'score', model: m.role, done: ++progress.done, total: progress.total, cached });
    return r;
  }

  const api = {
    get tokensScored() {
      return tokensScored;
    },
    get shadowsTrained() {
      return shadowsTrained;
    },
    /** Running count of texts cut to the context window, by model role (callers take differences). */
    truncated,
    repeatChecks,
    shardCounts,
    setAttack(id: string | undefined) {
      attack = id;
    },
    releaseTokenSignals() {
      const held = signalMemo.size > 0;
      signalMemo.clear();
      // batch() keeps each finished batch for requests asking again: the scoring ones go too.
      for (const k of scoreKeys) inflight.delete(k);
      scoreKeys.clear();
      return held;
    },
    tokenizer(m: ModelUnderTest) {
      const served = opts.served?.get(m.role);
      if (served) return Promise.resolve(served.tokenizer);
      let t = tokenizers.get(m.role);
      if (!t) {
        // Loaded on first use: transformers.js takes a while to import, and `cache verify` never needs it.
        t = import('../models/hf.ts').then((hf) => hf.loadTokenizer(hfSpec(m).path));
        tokenizers.set(m.role, t);
      }
      return t;
    },

    async tokenSignals(m: ModelUnderTest, texts: string[], o: { stats?: boolean } = {}): Promise<TokenSignals[]> {
      const stats = o.stats ?? false;
      // Every LM membership attack asks for the same texts: tokenised, keyed and gathered once per
      // audit (its truncation count is still reported for each attack that asked).
      const memoKey = textsKey(m.role, stats, texts);
      let scored = signalMemo.get(memoKey);
      if (!scored) {
        signalMemo.set(memoKey, (scored = scoreTexts(m, texts, stats)));
        // A failure is not remembered: the next attack asking tries again.
        scored.catch(() => signalMemo.delete(memoKey));
      }
      const { signals, truncated: cut } = await scored;
      countTruncated(m.role, cut);
      return signals;
    },
    async generate(m: ModelUnderTest, promptsIn: number[][], maxNewTokens: number): Promise<number[][]> {
      // A prompt plus its continuation must fit the context.
      const prompts = await fitPrompts(m, promptsIn, maxNewTokens, 'generate');
      // Prompts are sorted by length before cutting batches, so left padding stays short. The model's
      // positions come from the attention mask, so padding does not change a continuation.
      const served = opts.served?.get(m.role);
      if (served) return servedGenerate(m, served, prompts, maxNewTokens);
      if (opts.planning) return prompts.map(() => []);
      const order = prompts.map((p, i) => i).sort((a, b) => prompts[a]!.length - prompts[b]!.length || a - b);
      const parts = chunks(order, GENERATE_BATCH);
      const out: number[][] = new Array(prompts.length);
      let done = 0;
      await Promise.all(
        parts.map(async (idx, n) => {
          const b = idx.map((i) => prompts[i]!);
          const key = sha256(JSON.stringify(['generate/v2', m.sha256, maxNewTokens, b]));
          const { value: r, cached } = await batch(
            key,
            'generate',
            async () => {
              const label = `generating batch ${n + 1}/${parts.length} on model "${m.role}"${context()}`;
              return (await opts.pool.run({ op: 'generate', model: hfSpec(m), prompts: b, maxNewTokens }, label)).tokens;
            },
            (t) => t,
            (v) => {
              const t = stored('generate', v);
              check(t.length === b.length, `${t.length} continuations, expected ${b.length}`);
              t.forEach((c, j) => check(c.length <= maxNewTokens, `continuation ${j}: ${c.length} tokens, at most ${maxNewTokens} expected`));
              return t;
            },
            () => b.map(() => []),
          );
          idx.forEach((i, j) => (out[i] = r[j]!));
          opts.progress?.({ op: 'generate', model: m.role, done: ++done, total: parts.length, cached });
        }),
      );
      return out;
    },

    async sample(m: ModelUnderTest, promptsIn: number[][], o: SampleOptions): Promise<number[][][]> {
      checkSampleOptions(o);
      const prompts = await fitPrompts(m, promptsIn, o.maxNewTokens, 'sample');
      const served = opts.served?.get(m.role);
      if (served) return servedSample(m, served, prompts, o);
      if (opts.planning) return prompts.map(() => Array.from({ length: o.n }, () => []));
      // One pool task and one cache entry per prompt: its n samples are decoded one after another
      // in a worker (decodeWith), each from its own seeded generator, so the answer depends only on
      // the request, never on which worker ran it or what ran beside it.
      let done = 0;
      return Promise.all(
        prompts.map(async (p, i) => {
          const key = sha256(JSON.stringify(['sample/v1', m.sha256, o.n, o.maxNewTokens, o.temperature, o.seed, p]));
          const { value, cached } = await batch(
            key,
            'sample',
            async () => {
              const label = `sampling prompt ${i + 1}/${prompts.length} on model "${m.role}"${context()}`;
              const task = { op: 'sample' as const, model: hfSpec(m), prompt: p, n: o.n, maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: promptSeed(o.seed, p) };
              return (await opts.pool.run(task, label)).samples;
            },
            (t) => t,
            (v) => decodeSamples(v, o),
            () => Array.from({ length: o.n }, () => []),
          );
          opts.progress?.({ op: 'sample', model: m.role, done: ++done, total: prompts.length, cached });
          return value;
        }),
      );
    },

    async probabilities(m: ModelUnderTest, records: DataRecord[]): Promise<Float32Array[]> {
      const s = classifierSpec(m);
      // Feature vectors for a tabular classifier; the text for a text classifier (tokenized in the
      // worker), even for shadow-pool records that also carry bag-of-tokens features.
      const text = !m.capabilities.has('featureVectors');
      const dim = records[0]?.features?.length ?? 0;
      const parts = chunks(records, CLASSIFY_BATCH);
      let done = 0;
      const results = await Promise.all(
        parts.map(async (b, n) => {
          const label = `classifying batch ${n + 1}/${parts.length} on model "${m.role}"${context()}`;
          let request: () => Promise<{ probs: Float32Array; classes: number }>;
          let content: string;
          if (text) {
            const texts = b.map((r) => r.text);
            content = sha256(JSON.stringify(texts));
            request = () => opts.pool.run({ op: 'classify-text', model: s, texts }, label);
          } else {
            for (const r of b) {
              if (r.features?.length !== dim) {
                throw new InputError(`record "${r.id}" has ${r.features?.length ?? 'no'} features, expected ${dim}`, whereOf(r, 'features'));
              }
            }
            const features = packFeatures(b, dim);
            content = sha256(Buffer.from(features.buffer));
            request = () => opts.pool.run({ op: 'classify', model: s, features, n: b.length, dim }, label);
          }
          // A SISA ensemble's identity already holds its constituents' files; its aggregation is what it outputs.
          const key = sha256(JSON.stringify(['classify/v2', m.sha256, s.kind === 'sisa' ? `sisa:${s.aggregation}` : s.outputs, text ? 'text' : dim, content]));
          const { value: r, cached } = await batch(
            key,
            'classify',
            request,
            (v) => ({ classes: v.classes, probs: f32ToBase64(v.probs) }),
            (x) => {
              const v = stored('classify', x);
              return { classes: v.classes, probs: floats(v.probs, b.length * v.classes, 'probs') };
            },
          );
          opts.progress?.({ op: 'classify', model: m.role, done: ++done, total: parts.length, cached });
          for (const rec of b) {
            if (rec.label !== undefined && rec.label >= r.classes) {
              throw new InputError(
                `record "${rec.id}" has label ${rec.label} but the ${m.role} model outputs ${r.classes} classes (labels are class indices 0..${r.classes - 1})`,
                whereOf(rec, 'label'),
              );
            }
          }
          return Array.from({ length: b.length }, (_, i) => r.probs.subarray(i * r.classes, (i + 1) * r.classes));
        }),
      );
      return results.flat();
    },

    async fit(req: FitRequest): Promise<Float32Array> {
      const key = sha256(
        JSON.stringify(['fit/v3', TRAINER_VERSION, req.architecture, req.training, req.seed, req.dim, req.classes, req.features.length, req.labels.length, req.query.length]) +
          sha256(Buffer.concat([Buffer.from(req.features.buffer), Buffer.from(req.labels.buffer), Buffer.from(req.query.buffer)])),
      );
      const rows = req.query.length / req.dim;
      return (
        await batch(
          key,
          'fit',
          async () => (await opts.pool.run({ op: 'train', ...req }, `training an attack model${context()}`)).probs,
          f32ToBase64,
          (v) => floats(stored('fit', v), rows * req.classes, 'probs'),
          () => new Float32Array(rows * req.classes),
        )
      ).value;
    },

    async shadows(count: number): Promise<ShadowBank> {
      const { setup, indexOf } = await prepare();
      // The class count is the target's output width (labels are checked against it there).
      const classes = (await api.probabilities(setup.classesFrom, setup.pool))[0]!.length;
      let done = 0;
      const models = await Promise.all(
        Array.from({ length: count }, async (_, index) => {
          const { shadow, cached } = await shadowAt(index, classes);
          opts.progress?.({ op: 'train', model: 'shadow', done: ++done, total: count, cached });
          return shadow;
        }),
      );
      return { pool: setup.pool, indexOf, classes, models };
    },
  };
  return api;
}
