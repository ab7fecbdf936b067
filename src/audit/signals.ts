/**
 * The `Signals` door of the collect stage: turns attack requests into fixed batches, de-duplicates
 * identical requests across attacks, serves finished batches from the cache and runs the rest on the
 * pool. Batches depend only on the request, never on the number of workers.
 */
import type { FitRequest, ModelUnderTest, Signals } from '../../attacks/types.ts';
import { sha256, type Cache } from '../cache.ts';
import { InputError } from '../errors.ts';
import { whereOf } from '../data/records.ts';
import { loadTokenizer, type Tokenizer, type TokenSignals } from '../models/hf.ts';
import type { ClassifierSpec } from '../models/classifier.ts';
import type { Pool } from '../pool/index.ts';
import type { ModelSpec } from '../pool/protocol.ts';
import {
  base64ToF32,
  f32ToBase64,
  packFeatures,
  poolHash,
  shadowMembership,
  type ShadowBank,
  type ShadowSpec,
  type TrainedShadow,
} from '../shadow/bank.ts';
import type { DataRecord } from '../types.ts';

export const SCORE_BATCH = 16;
export const GENERATE_BATCH = 32;
/** Records per classifier batch: large enough to amortise a call, small enough to resume a crash. */
export const CLASSIFY_BATCH = 256;

export interface Progress {
  (event: { op: 'score' | 'generate' | 'classify' | 'train'; model: string; done: number; total: number; cached: boolean }): void;
}

/** The shadow bank's inputs: the pool, its feature width, how to train, and which target fixes the class count. */
export interface ShadowSetup {
  pool: DataRecord[];
  dim: number;
  spec: ShadowSpec;
  /** The model whose output width gives the number of classes (the first role under attack). */
  classesFrom: ModelUnderTest;
}

interface StoredSignals {
  logprobs: number[];
  mu?: number[];
  sigma?: number[];
}

const chunks = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

export function createSignals(opts: {
  pool: Pool;
  cache: Cache;
  specs: ReadonlyMap<string, ModelSpec>; // by model role
  progress?: Progress;
  /** Built on first use (a loss-only audit never builds the pool's bag-of-tokens vectors). */
  shadow?: () => Promise<ShadowSetup>;
}): Signals & { tokensScored: number; shadowsTrained: number; truncated: ReadonlyMap<string, number> } {
  const tokenizers = new Map<string, Promise<Tokenizer>>();
  // Records or prompts longer than a model's context, by model role (see budgets.ts for the windows).
  const truncated = new Map<string, number>();
  const countTruncated = (role: string, n: number) => {
    if (n > 0) truncated.set(role, (truncated.get(role) ?? 0) + n);
  };
  const inflight = new Map<string, Promise<unknown>>();
  let tokensScored = 0;
  let shadowsTrained = 0;

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
  async function batch<T>(key: string, compute: () => Promise<T>, encode: (t: T) => unknown, decode: (s: any) => T): Promise<{ value: T; cached: boolean }> {
    let cached = true;
    let p = inflight.get(key) as Promise<T> | undefined;
    if (!p) {
      p = (async () => {
        const stored = await opts.cache.get<unknown>(key);
        if (stored !== undefined) return decode(stored);
        cached = false;
        const value = await compute();
        await opts.cache.set(key, encode(value));
        return value;
      })();
      inflight.set(key, p);
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
    const key = sha256(JSON.stringify(['shadow/v2', sp.architecture, sp.training, dataKey, classes, sp.seed, index]));
    const { value, cached } = await batch(
      key,
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
        });
        shadowsTrained++;
        return res;
      },
      // Trained shadows are kept with their weights (base64 float32), not only their outputs.
      (v) => ({ probs: f32ToBase64(v.probs), weights: v.weights.map((w) => ({ shape: w.shape, values: f32ToBase64(Float32Array.from(w.values)) })) }),
      (v: { probs: string; weights: { shape: number[]; values: string }[] }) => ({
        op: 'train' as const,
        probs: base64ToF32(v.probs),
        weights: v.weights.map((w) => ({ shape: w.shape, values: Array.from(base64ToF32(w.values)) })),
      }),
    );
    return { shadow: { inside, probs: value.probs }, cached };
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
    tokenizer(m: ModelUnderTest) {
      let t = tokenizers.get(m.role);
      if (!t) {
        t = loadTokenizer(hfSpec(m).path);
        tokenizers.set(m.role, t);
      }
      return t;
    },

    async tokenSignals(m: ModelUnderTest, texts: string[], o: { stats?: boolean } = {}): Promise<TokenSignals[]> {
      const tok = await api.tokenizer(m);
      const stats = o.stats ?? false;
      // Texts longer than the context window are scored on their first maxLength tokens (counted).
      const encoded = texts.map((t) => tok.encode(t));
      countTruncated(m.role, encoded.filter((x) => x.length > tok.maxLength).length);
      const ids = encoded.map((x) => (x.length > tok.maxLength ? x.slice(0, tok.maxLength) : x));
      const parts = chunks(ids, SCORE_BATCH);
      let done = 0;
      const results = await Promise.all(
        parts.map(async (b) => {
          const key = sha256(JSON.stringify(['score/v1', m.sha256, stats, b]));
          const { value: r, cached } = await batch(
            key,
            async () => {
              const res = await opts.pool.run({ op: 'score', model: hfSpec(m), batch: b, stats });
              tokensScored += b.reduce((s, x) => s + x.length, 0);
              return res.signals;
            },
            (sig) =>
              sig.map((s): StoredSignals => ({
                logprobs: Array.from(s.logprobs),
                ...(s.mu ? { mu: Array.from(s.mu) } : {}),
                ...(s.sigma ? { sigma: Array.from(s.sigma) } : {}),
              })),
            (stored: StoredSignals[]) =>
              stored.map((s) => ({
                logprobs: Float32Array.from(s.logprobs),
                ...(s.mu ? { mu: Float32Array.from(s.mu) } : {}),
                ...(s.sigma ? { sigma: Float32Array.from(s.sigma) } : {}),
              })),
          );
          opts.progress?.({ op: 'score', model: m.role, done: ++done, total: parts.length, cached });
          return r;
        }),
      );
      return results.flat();
    },

    async generate(m: ModelUnderTest, promptsIn: number[][], maxNewTokens: number): Promise<number[][]> {
      // A prompt plus its continuation must fit the context: a longer prompt keeps its start token(s)
      // and its last tokens, the ones nearest what the model is asked to continue (counted).
      const tok = await api.tokenizer(m);
      const room = tok.maxLength - maxNewTokens;
      if (room <= tok.leading) throw new Error(`generate: ${maxNewTokens} new tokens leave no room for a prompt in the ${tok.maxLength}-token context of ${m.role}`);
      countTruncated(m.role, promptsIn.filter((p) => p.length > room).length);
      const prompts = promptsIn.map((p) => (p.length > room ? [...p.slice(0, tok.leading), ...p.slice(p.length - (room - tok.leading))] : p));
      // Prompts are sorted by length before cutting batches, so left padding stays short. The model's
      // positions come from the attention mask, so padding does not change a continuation.
      const order = prompts.map((p, i) => i).sort((a, b) => prompts[a]!.length - prompts[b]!.length || a - b);
      const parts = chunks(order, GENERATE_BATCH);
      const out: number[][] = new Array(prompts.length);
      let done = 0;
      await Promise.all(
        parts.map(async (idx) => {
          const b = idx.map((i) => prompts[i]!);
          const key = sha256(JSON.stringify(['generate/v1', m.sha256, maxNewTokens, b]));
          const { value: r, cached } = await batch(
            key,
            async () => {
              return (await opts.pool.run({ op: 'generate', model: hfSpec(m), prompts: b, maxNewTokens })).tokens;
            },
            (t) => t,
            (t: number[][]) => t,
          );
          idx.forEach((i, j) => (out[i] = r[j]!));
          opts.progress?.({ op: 'generate', model: m.role, done: ++done, total: parts.length, cached });
        }),
      );
      return out;
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
        parts.map(async (b) => {
          let request: () => Promise<{ probs: Float32Array; classes: number }>;
          let content: string;
          if (text) {
            const texts = b.map((r) => r.text);
            content = sha256(JSON.stringify(texts));
            request = () => opts.pool.run({ op: 'classify-text', model: s, texts });
          } else {
            for (const r of b) {
              if (r.features?.length !== dim) {
                throw new InputError(`record "${r.id}" has ${r.features?.length ?? 'no'} features, expected ${dim}`, whereOf(r, 'features'));
              }
            }
            const features = packFeatures(b, dim);
            content = sha256(Buffer.from(features.buffer));
            request = () => opts.pool.run({ op: 'classify', model: s, features, n: b.length, dim });
          }
          const key = sha256(JSON.stringify(['classify/v1', m.sha256, s.outputs, text ? 'text' : dim, content]));
          const { value: r, cached } = await batch(
            key,
            request,
            (v) => ({ classes: v.classes, probs: f32ToBase64(v.probs) }),
            (v: { classes: number; probs: string }) => ({ classes: v.classes, probs: base64ToF32(v.probs) }),
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
        JSON.stringify(['fit/v2', req.architecture, req.training, req.seed, req.dim, req.classes, req.features.length, req.labels.length, req.query.length]) +
          sha256(Buffer.concat([Buffer.from(req.features.buffer), Buffer.from(req.labels.buffer), Buffer.from(req.query.buffer)])),
      );
      return (await batch(key, async () => (await opts.pool.run({ op: 'train', ...req })).probs, f32ToBase64, base64ToF32)).value;
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
