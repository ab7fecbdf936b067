import { z } from 'zod';
import { rmiaScores } from '../../src/shadow/scores.ts';
import { evenCount, poolIndex, shadowObservations, type ShadowEvidence } from '../shadow-membership.ts';
import { shadowConfidences, trueClassConfidence } from '../../src/shadow/bank.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const rmiaOptions = z.strictObject({
  references: z.int().check(evenCount('references')).default(4).meta({ description: 'reference models (even; each record is IN for half)' }),
  offline: z.boolean().default(false).meta({ description: 'use only the references that did not train on the record, with the scaling a' }),
  gamma: z.number().positive().default(2).meta({ description: 'likelihood-ratio threshold γ' }),
  a: z.number().min(0).max(1).default(0.3).meta({ description: 'offline scaling: Pr(x) = ½((1 + a)·mean_OUT(x) + (1 − a))' }),
});
export type RmiaOptions = z.infer<typeof rmiaOptions>;

/** RMIA (Zarifzadeh, Liu, Shokri, ICML 2024): pairwise likelihood ratios against population points z. */
export const rmia = defineAttack<RmiaOptions, ShadowEvidence>({
  meta: {
    id: 'rmia',
    title: 'RMIA does not tell deleted records from unseen ones',
    failureTitle: 'RMIA tells deleted records from unseen ones',
    description:
      'The robust membership attack asks, for each record, how much more the model prefers it than reference models do, ' +
      'relative to random population records. It stays strong with very few reference models, so it is the cheap ' +
      'shadow-model test.',
    family: 'membership',
    requires: ['probabilities'],
    needsPopulation: true,
    reference: 'Zarifzadeh, Liu, Shokri. Low-Cost High-Power Membership Inference Attacks. ICML 2024, §3 (Eq. 4–5) and §4 (offline scaling).',
  },
  options: rmiaOptions,
  collect,
  evaluate: (evidence, ctx) => {
    const { offline, gamma, a } = ctx.options;
    const zs = ctx.splits.population ?? [];
    return shadowObservations(evidence, ctx.splits, (records, role) => {
      const probs = evidence.models.find((m) => m.role === role)!.probs;
      // Population points z: every reference (online) or the ones that did not train on z (offline).
      const population = zs.map((r) => {
        const i = poolIndex(evidence.bank, r);
        const { inside, outside } = shadowConfidences(evidence.bank, evidence.count, i);
        return { target: trueClassConfidence(probs[i]!, r.label!), references: offline ? outside : [...inside, ...outside] };
      });
      return rmiaScores(records, population, { offline, gamma, a });
    }, { wholePool: false });
  },
});
