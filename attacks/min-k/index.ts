import { z } from 'zod';
import { scoreSplits, type LmEvidence } from '../lm-membership.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const minKOptions = z.strictObject({
  /** Fraction of the least likely tokens to average (the paper's k%; 0.2 in Shi et al., 0.4 in MUSE). */
  k: z.number().gt(0).lte(1).default(0.2),
});

/** Mean of the ⌊k·n⌋ lowest values (at least one), in float64. */
export function minKMean(values: ArrayLike<number>, k: number): number {
  if (values.length === 0) return NaN;
  // The constructor copies a typed array or array directly (Float64Array.from iterates: slower).
  const sorted = new Float64Array(values as ArrayLike<number>).sort();
  const m = Math.max(1, Math.floor(k * sorted.length));
  let s = 0;
  for (let i = 0; i < m; i++) s += sorted[i]!;
  return s / m;
}

/**
 * Min-K% Prob (Shi et al., ICLR 2024, §3): the mean log-probability of the k% least likely tokens.
 * An unseen text has a few very unlikely tokens; a memorised one has none. Higher = member.
 */
export const minK = defineAttack<z.infer<typeof minKOptions>, LmEvidence>({
  meta: {
    id: 'min-k',
    title: 'Min-K% Prob does not separate deleted records from unseen ones',
    failureTitle: 'Min-K% Prob separates deleted records from unseen ones',
    description:
      'Looks only at the least likely tokens of a record: a name, an e-mail address, an order number. ' +
      'A model that memorised the record finds even those tokens likely.',
    family: 'membership',
    requires: ['tokenLogprobs'],
    reference:
      'Shi et al. Detecting Pretraining Data from Large Language Models. ICLR 2024, §3 (Min-K% Prob).',
  },
  options: minKOptions,
  collect,
  evaluate: (evidence, ctx) => scoreSplits(evidence, ctx, (s) => minKMean(s.logprobs, ctx.options.k)),
});
