/**
 * Collect: on a causal LM, teacher-forced token log-probabilities of every forget/retain/holdout
 * record; on a classifier, the class probabilities of those records (the score needs p_y only).
 */
import { collectTokenSignals, MEMBERSHIP_SPLITS, type LmEvidence } from '../lm-membership.ts';
import type { CollectContext, MembershipObservation, SplitName } from '../types.ts';
import { trueClassConfidence } from '../../src/shadow/bank.ts';

export interface ClassifierLossEvidence {
  kind: 'classifier';
  /** Per role and split: log p_y per record (−cross-entropy of the true label). */
  models: { role: MembershipObservation['model']; scores: Partial<Record<SplitName, number[]>> }[];
}

export type LossEvidence = LmEvidence | ClassifierLossEvidence;

export async function collect<O>(ctx: CollectContext<O>): Promise<LossEvidence> {
  if (!ctx.models.every((m) => m.capabilities.has('probabilities'))) return collectTokenSignals(ctx);
  const models: ClassifierLossEvidence['models'] = [];
  for (const model of ctx.models) {
    const scores: ClassifierLossEvidence['models'][number]['scores'] = {};
    for (const split of MEMBERSHIP_SPLITS) {
      const records = ctx.splits[split];
      if (records.length === 0) continue;
      const probs = await ctx.signals.probabilities(model, records);
      // log p_y with p_y from the other classes' mass (see trueClassConfidence); 0 → a very confident non-member.
      scores[split] = records.map((r, i) => Math.log(Math.max(trueClassConfidence(probs[i]!, r.label!), Number.MIN_VALUE)));
    }
    models.push({ role: model.role, scores });
  }
  return { kind: 'classifier', models };
}
