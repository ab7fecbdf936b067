/**
 * The `Signals` door of the collect stage: turns attack requests into fixed batches, de-duplicates
 * identical requests across attacks, serves finished batches from the cache and runs the rest on the
 * pool. Batches depend only on the request, never on the number of workers.
 */
import type { ModelUnderTest, Signals } from '../../attacks/types.ts';
import { sha256, type Cache } from '../cache.ts';
import { loadTokenizer, type Tokenizer, type TokenSignals } from '../models/hf.ts';
import type { Pool } from '../pool/index.ts';
import type { ModelSpec } from '../pool/protocol.ts';

export const SCORE_BATCH = 16;
export const GENERATE_BATCH = 32;

export interface Progress {
  (event: { op: 'score' | 'generate'; model: string; done: number; total: number; cached: boolean }): void;
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
}): Signals & { tokensScored: number } {
  const tokenizers = new Map<string, Promise<Tokenizer>>();
  const inflight = new Map<string, Promise<unknown>>();
  let tokensScored = 0;

  const spec = (m: ModelUnderTest): ModelSpec => {
    const s = opts.specs.get(m.role);
    if (!s) throw new Error(`no model loaded for role ${m.role}`);
    return s;
  };

  /** One batch: memory de-duplication, then the disk cache, then the pool. */
  function batch<T>(key: string, compute: () => Promise<T>, encode: (t: T) => unknown, decode: (s: any) => T): Promise<T> {
    let p = inflight.get(key) as Promise<T> | undefined;
    if (!p) {
      p = (async () => {
        const stored = await opts.cache.get<unknown>(key);
        if (stored !== undefined) return decode(stored);
        const value = await compute();
        await opts.cache.set(key, encode(value));
        return value;
      })();
      inflight.set(key, p);
    }
    return p;
  }

  const api = {
    get tokensScored() {
      return tokensScored;
    },
    tokenizer(m: ModelUnderTest) {
      let t = tokenizers.get(m.role);
      if (!t) {
        t = loadTokenizer(spec(m).path);
        tokenizers.set(m.role, t);
      }
      return t;
    },

    async tokenSignals(m: ModelUnderTest, texts: string[], o: { stats?: boolean } = {}): Promise<TokenSignals[]> {
      const tok = await api.tokenizer(m);
      const stats = o.stats ?? false;
      // Texts longer than the context window are scored on their first maxLength tokens.
      const ids = texts.map((t) => tok.encode(t).slice(0, tok.maxLength));
      const parts = chunks(ids, SCORE_BATCH);
      let done = 0;
      const results = await Promise.all(
        parts.map(async (b) => {
          const key = sha256(JSON.stringify(['score/v1', m.sha256, stats, b]));
          let cached = true;
          const r = await batch(
            key,
            async () => {
              cached = false;
              const res = await opts.pool.run({ op: 'score', model: spec(m), batch: b, stats });
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

    async generate(m: ModelUnderTest, prompts: number[][], maxNewTokens: number): Promise<number[][]> {
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
          let cached = true;
          const r = await batch(
            key,
            async () => {
              cached = false;
              return (await opts.pool.run({ op: 'generate', model: spec(m), prompts: b, maxNewTokens })).tokens;
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
  };
  return api;
}
