/**
 * What the causal-LM membership attacks (loss, zlib, min-k) share: teacher-forced token signals on
 * every split of every model, and a per-record score. The signals are requested through `Signals`,
 * which de-duplicates them, so running all three attacks scores each record once per model.
 */
import type { TokenSignals } from '../src/models/hf.ts';
import type { DataRecord } from '../src/types.ts';
import type { CollectContext, EvaluateContext, MembershipObservation, SplitName } from './types.ts';

export const MEMBERSHIP_SPLITS: SplitName[] = ['forget', 'retain', 'holdout'];

export interface LmEvidence {
  models: { role: MembershipObservation['model']; splits: Partial<Record<SplitName, TokenSignals[]>> }[];
}

/**
 * Every LM membership attack asks for the vocabulary statistics too (Min-K%++ needs them): one
 * request shape means one scoring pass per model, shared by all of them through the cache, for the
 * price of one more pass over the logits in the worker. A model without them (served over HTTP) is
 * asked for the log-probabilities alone.
 */
export async function collectTokenSignals<O>(ctx: CollectContext<O>, stats = true): Promise<LmEvidence> {
  // Every split of every model is asked for at once: the next split is tokenised while the pool
  // scores the batches already sent (src/audit/signals.ts). The evidence keeps the config's order.
  const models = await Promise.all(
    ctx.models.map(async (model) => {
      const splits: LmEvidence['models'][number]['splits'] = {};
      const asked = MEMBERSHIP_SPLITS.filter((split) => ctx.splits[split].length > 0);
      const got = await Promise.all(
        asked.map((split) =>
          ctx.signals.tokenSignals(
            model,
            ctx.splits[split].map((r) => r.text),
            // A served model has no statistics to give (its endpoint returns the top few alternatives only).
            { stats: stats && model.capabilities.has('tokenStats') },
          ),
        ),
      );
      asked.forEach((split, i) => (splits[split] = got[i]!));
      return { role: model.role, splits };
    }),
  );
  return { models };
}

export function scoreSplits<O>(
  evidence: LmEvidence,
  ctx: EvaluateContext<O>,
  score: (signals: TokenSignals, record: DataRecord) => number,
): MembershipObservation[] {
  return evidence.models.map(({ role, splits }) => {
    const out: MembershipObservation['splits'] = {};
    for (const split of MEMBERSHIP_SPLITS) {
      const signals = splits[split];
      if (!signals) continue;
      const records = ctx.splits[split];
      out[split] = {
        ids: records.map((r) => r.id),
        subjects: records.map((r) => r.subject),
        scores: records.map((r, i) => score(signals[i]!, r)),
      };
    }
    return { family: 'membership', model: role, splits: out };
  });
}

/** Mean of an array in float64 (token signals are float32). NaN for an empty array. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}
