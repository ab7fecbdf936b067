import { z } from 'zod';
import { liraScores, shadowCalibration } from '../../src/shadow/scores.ts';
import type { DataRecord } from '../../src/types.ts';
import { evenCount, recordShadows, shadowObservations, type ShadowEvidence } from '../shadow-membership.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const liraOptions = z.strictObject({
  shadows: z.int().check(evenCount('shadows')).default(16).meta({ description: 'shadow models (even; each record is IN for half)' }),
  offline: z.boolean().default(false).meta({ description: 'use only the OUT shadows of each record (one-sided test, paper §IV-D)' }),
  fixedVariance: z
    .union([z.boolean(), z.literal('auto')])
    .default('auto')
    .meta({ description: 'one global σ for the IN and OUT Gaussians, pooled over records; "auto" = when fewer than 64 shadows (paper §IV-C)' }),
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
    const observations = shadowObservations(evidence, ctx.splits, (records) => liraScores(records, { offline, fixedVariance: fixed }), { wholePool: true });
    return observations.map((o, k) => {
      const warning = calibrationWarning(evidence, evidence.models[k]!, ctx.splits.holdout);
      return warning ? { ...o, warnings: [warning] } : o;
    });
  },
});

/** KS p-value below which the shadows are said not to be calibrated to the target. */
export const CALIBRATION_ALPHA = 0.01;

/**
 * A warning when the target's φ on holdout records (which no target role trained on) does not look
 * like the OUT shadows' φ on the same records: LiRA's OUT Gaussian then misdescribes this model, and
 * its AUC/TPR understate what calibrated shadows would find.
 */
export function calibrationWarning(e: ShadowEvidence, model: ShadowEvidence['models'][number], holdout: DataRecord[]): string | undefined {
  if (holdout.length === 0) return undefined;
  const ks = shadowCalibration(holdout.map((r) => recordShadows(e, model.probs, r)));
  if (!(ks.pvalue < CALIBRATION_ALPHA)) return undefined;
  return (
    `${model.role}: the shadows are not calibrated to this model: its confidences on the ${ks.targets} holdout records do not look like ` +
    `the OUT shadows' confidences on them (KS D = ${ks.statistic.toFixed(3)}, p = ${ks.pvalue < 1e-3 ? ks.pvalue.toExponential(1) : ks.pvalue.toFixed(3)} < ${CALIBRATION_ALPHA}); ` +
    `LiRA's result on ${model.role} is a lower bound`
  );
}
