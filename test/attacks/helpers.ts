/** Hand-made inputs for the attack tests (not a test file itself): records, splits, token signals, a fake tokenizer. */
import type { AuditSplits, ModelUnderTest, Signals } from '../../attacks/types.ts';
import type { Tokenizer, TokenSignals } from '../../src/models/hf.ts';
import type { DataRecord, ModelRole } from '../../src/types.ts';

export const rec = (id: string, text: string, subject?: string, pii?: DataRecord['pii']): DataRecord => ({
  id,
  text,
  ...(subject === undefined ? {} : { subject }),
  ...(pii === undefined ? {} : { pii }),
});

export const splits = (s: Partial<AuditSplits>): AuditSplits => ({ forget: [], retain: [], holdout: [], ...s });

/** Token log-probabilities of one record (as the model adapter returns them: float32). */
export const lp = (...xs: number[]): TokenSignals => ({ logprobs: Float32Array.from(xs) });

export const model = (role: ModelRole): ModelUnderTest => ({
  role,
  sha256: `sha-${role}`,
  capabilities: new Set(['tokenLogprobs', 'generate']),
});

/** One token per UTF-16 code unit, with a leading BOS (id 0), like the fixture's byte-level tokenizer. */
export const BOS = 0;
export function charTokenizer(maxLength = 1024): Tokenizer {
  return {
    encode: (text) => [BOS, ...Array.from(text, (c) => c.charCodeAt(0))],
    leading: 1,
    decode: (ids) => String.fromCharCode(...ids.filter((i) => i !== BOS)),
    specialIds: new Set([BOS]),
    padId: BOS,
    eosId: BOS,
    maxLength,
  };
}

/**
 * Signals backed by a "model" that has memorised `corpus`: greedy decoding continues the first text whose
 * encoding starts with the prompt (or emits `fallback` tokens). Records every generate call.
 */
export function memorisingSignals(tok: Tokenizer, corpus: string[], fallback: number[] = []) {
  const calls: { role: ModelRole; prompts: number[][]; maxNewTokens: number }[] = [];
  const signals: Signals = {
    tokenizer: async () => tok,
    tokenSignals: async () => {
      throw new Error('not used');
    },
    generate: async (m, prompts, maxNewTokens) => {
      calls.push({ role: m.role, prompts, maxNewTokens });
      return prompts.map((p) => {
        for (const text of corpus) {
          const ids = tok.encode(text);
          // The prompt may be cut on the left (context window): match it anywhere, continue after it.
          for (let end = p.length; end < ids.length; end++) {
            if (p.every((t, i) => ids[end - p.length + i] === t)) return ids.slice(end, end + maxNewTokens);
          }
        }
        return fallback.slice(0, maxNewTokens);
      });
    },
  };
  return { signals, calls };
}
