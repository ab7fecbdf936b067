/** Hand-made inputs for the attack tests (not a test file itself): records, splits, token signals, a fake tokenizer, classifier fakes (probabilities, shadow bank, fit). */
import type { AuditSplits, FitRequest, ModelUnderTest, Signals } from '../../attacks/types.ts';
import { shadowMembership, trueClassConfidence, type ShadowBank } from '../../src/shadow/bank.ts';
import type { RecordShadows } from '../../src/shadow/scores.ts';
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

const notUsed = async (): Promise<never> => {
  throw new Error('not used');
};

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
    sample: notUsed,
    probabilities: notUsed,
    shadows: notUsed,
    fit: notUsed,
  };
  return { signals, calls };
}

// ---------------------------------------------------------------------------------------------
// Classifier attacks (loss on a classifier, shadow, lira, rmia): records with a label, a fake
// `probabilities`, a hand-made shadow bank and a fake `fit`.

/** A tabular classifier record: a label and a (one-number) feature vector the fakes never look at. */
export const crec = (id: string, label: number, subject?: string): DataRecord => ({
  id,
  text: '',
  features: [0],
  label,
  ...(subject === undefined ? {} : { subject }),
});

export const classifier = (role: ModelRole): ModelUnderTest => ({
  role,
  sha256: `sha-${role}`,
  capabilities: new Set(['probabilities']),
});

/** A probability vector over `classes`: `p` on class `y`, the rest spread evenly over the other classes. */
export function probsWith(classes: number, y: number, p: number): number[] {
  return Array.from({ length: classes }, (_, c) => (c === y ? p : (1 - p) / (classes - 1)));
}

/**
 * A hand-made shadow bank. `shadow(s, i)` gives shadow s's probability vector on pool record i;
 * `inside(s, i)` whether shadow s trained on it (default: the real paired protocol, `shadowMembership`
 * with seed 1, so every record is IN for exactly half of any even prefix).
 */
export function makeBank(
  pool: DataRecord[],
  classes: number,
  count: number,
  shadow: (s: number, i: number) => number[],
  inside?: (s: number, i: number) => boolean,
): ShadowBank {
  const ids = pool.map((r) => r.id);
  const models = Array.from({ length: count }, (_, s) => {
    const paired = shadowMembership(ids, s, 1);
    return {
      inside: inside ? Uint8Array.from(pool, (_, i) => (inside(s, i) ? 1 : 0)) : paired,
      probs: Float32Array.from(pool.flatMap((_, i) => shadow(s, i))),
    };
  });
  return { pool, indexOf: new Map(ids.map((id, i) => [id, i])), classes, models };
}

/**
 * Signals for the classifier attacks, logging every call: `probabilities` from a per-role function of
 * the record, `shadows(count)` the first `count` models of `bank` (as the real bank does), and `fit`.
 */
export function classifierSignals(opts: {
  probs: Partial<Record<ModelRole, (r: DataRecord) => number[]>>;
  bank?: ShadowBank;
  fit?: (req: FitRequest) => Float32Array;
}) {
  const calls = {
    probabilities: [] as { role: ModelRole; records: DataRecord[] }[],
    shadows: [] as number[],
    fit: [] as FitRequest[],
  };
  const signals: Signals = {
    tokenizer: notUsed,
    tokenSignals: notUsed,
    generate: notUsed,
    sample: notUsed,
    probabilities: async (m, records) => {
      calls.probabilities.push({ role: m.role, records });
      const p = opts.probs[m.role];
      if (!p) throw new Error(`no probabilities for role ${m.role}`);
      return records.map((r) => Float32Array.from(p(r)));
    },
    shadows: async (count) => {
      calls.shadows.push(count);
      const bank = opts.bank;
      if (!bank) throw new Error('no shadow bank');
      if (count > bank.models.length) throw new Error(`asked for ${count} shadows, the bank has ${bank.models.length}`);
      return { ...bank, models: bank.models.slice(0, count) };
    },
    fit: async (req) => {
      calls.fit.push(req);
      if (!opts.fit) throw new Error('fit not used');
      return opts.fit(req);
    },
  };
  return { signals, calls };
}

/** The confidence an attack reads from the float32 vector probsWith(classes, y, p): p_y / Σ p (trueClassConfidence). */
export const readConfidence = (classes: number, p: number): number => trueClassConfidence(Float32Array.from(probsWith(classes, 0, p)), 0);

/**
 * What LiRA/RMIA must be given for pool record r, computed from a test's tables (not through the bank):
 * the target's confidence `target` and the first `count` shadows' confidences split by `inside`.
 */
export function shadowsFromTables(
  pool: DataRecord[],
  classes: number,
  conf: (s: number, i: number) => number,
  inside: (s: number, i: number) => boolean,
  target: number,
  r: DataRecord,
  count: number,
): RecordShadows {
  const i = pool.indexOf(r);
  const ks = Array.from({ length: count }, (_, k) => k);
  return {
    id: r.id,
    target: readConfidence(classes, target),
    inside: ks.filter((k) => inside(k, i)).map((k) => readConfidence(classes, conf(k, i))),
    outside: ks.filter((k) => !inside(k, i)).map((k) => readConfidence(classes, conf(k, i))),
  };
}
