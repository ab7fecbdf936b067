import { z } from 'zod';
import { liraScores } from '../../src/shadow/scores.ts';
import { evenCount, shadowObservations, type ShadowEvidence } from '../shadow-membership.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const liraOptions = z.strictObject({
  shadows: z.int().check(evenCount('shadows')).default(16).meta({ description: 'shadow models (even; each record is IN for half)' }),
  offline: z.boolean().default(false).meta({ description: 'use only the OUT shadows of each record (one-sided test, paper §IV-D)' }),
  fixedVariance: z
    .union([z.boolean(), z.literal('auto')])
    .default('auto')
    .meta({ description: 'pool the IN and OUT variances over records; "auto" = when fewer than 64 shadows (paper §IV-C)' }),
});
export type LiraOptions = z.infer<typeof liraOptions>;

/** LiRA (Carlini et al., IEEE S&P 2022): a per-record Gaussian likelihood ratio on logit-scaled confidence. */
export const lira = defineAttack<LiraOptions, ShadowEvidence>({
  meta: {
    id: 'lira',
    title: 'LiRA does not tell deleted records from unseen ones',
    failureTitle: 'LiRA tells deleted records from unseen ones',
    description:
      'The likelihood-ratio attack compares the model’s confidence on each record with what shadow models trained with ' +
      'and without that record give, so it catches records that are easy or hard for every model and not only the ' +
      'average case. It is the strongest standard membership test at low false-positive rates.',
    family: 'membership',
    requires: ['probabilities'],
    reference: 'Carlini, Chien, Nasr, Song, Terzis, Tramèr. Membership Inference Attacks From First Principles. IEEE S&P 2022, §IV (Algorithm 1).',
  },
  options: liraOptions,
  collect,
  evaluate: (evidence, ctx) => {
    const { offline, fixedVariance } = ctx.options;
    const fixed = fixedVariance === 'auto' ? evidence.count < 64 : fixedVariance;
    return shadowObservations(evidence, ctx.splits, (records) => liraScores(records, { offline, fixedVariance: fixed }), { wholePool: true });
  },
});
