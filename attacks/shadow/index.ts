import { z } from 'zod';
import { defineAttack, membershipObservations, type MembershipObservation } from '../types.ts';
import { collect, type ShokriEvidence } from './tasks.ts';
import { evenCount } from '../shadow-membership.ts';

export const shadowOptions = z.strictObject({
  shadows: z.int().check(evenCount('shadows')).default(8).meta({ description: 'shadow models whose IN/OUT outputs train the attack models' }),
  attackLayers: z.array(z.int().min(1).max(16384)).max(16).default([64]).meta({ description: 'hidden layers of each attack model' }),
  attackEpochs: z.int().min(1).max(100000).default(30).meta({ description: 'training epochs of each attack model' }),
  minPerClass: z
    .int()
    .min(2)
    .default(20)
    .meta({ description: 'a class with fewer shadow examples (or only IN or only OUT) is scored by one attack model trained on all classes' }),
});
export type ShadowOptions = z.infer<typeof shadowOptions>;

/** Shokri et al. 2017: attack models learn to tell IN from OUT from shadow models' prediction vectors, one per class. */
export const shadow = defineAttack<ShadowOptions, ShokriEvidence>({
  meta: {
    id: 'shadow',
    title: 'Shadow-model attack does not tell deleted records from unseen ones',
    failureTitle: 'Shadow-model attack tells deleted records from unseen ones',
    description:
      'The original shadow-model attack: models trained like the target, on data whose membership is known, teach a ' +
      'classifier what the target’s output looks like on a training record. If it still recognises deleted records, ' +
      'the model still behaves as if it had trained on them.',
    family: 'membership',
    requires: ['probabilities'],
    reference: 'Shokri, Stronati, Song, Shmatikov. Membership Inference Attacks Against Machine Learning Models. IEEE S&P 2017, §V (shadow training, per-class attack models).',
  },
  options: shadowOptions,
  collect,
  evaluate: (evidence, ctx): MembershipObservation[] => membershipObservations(evidence.models, ctx.splits),
});
