import { z } from 'zod';
import { mean, scoreSplits } from '../lm-membership.ts';
import { defineAttack, membershipObservations, type MembershipObservation } from '../types.ts';
import { collect, type LossEvidence } from './tasks.ts';

export const lossOptions = z.strictObject({});

/**
 * LOSS attack (Yeom et al., CSF 2018, §3.2): members have lower loss. Score = −mean token NLL on a
 * causal LM, −cross-entropy of the true label (log p_y) on a classifier.
 */
export const loss = defineAttack<z.infer<typeof lossOptions>, LossEvidence>({
  meta: {
    id: 'loss',
    title: 'Loss does not separate deleted records from unseen ones',
    failureTitle: 'Loss separates deleted records from unseen ones',
    description:
      'The simplest membership test: a model is more confident (lower loss) on text it was trained on. ' +
      'If deleted records still have lower loss than holdout records, the model still carries them.',
    family: 'membership',
    requires: [['tokenLogprobs', 'probabilities']],
    reference: 'Yeom, Giacomelli, Fredrikson, Jha. Privacy Risk in Machine Learning. CSF 2018, §3.2 (Algorithm 1: threshold on loss).',
  },
  options: lossOptions,
  collect,
  evaluate: (evidence, ctx): MembershipObservation[] =>
    'kind' in evidence ? membershipObservations(evidence.models, ctx.splits) : scoreSplits(evidence, ctx, (s) => mean(s.logprobs)),
});
