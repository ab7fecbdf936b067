import { z } from 'zod';
import { scoreSplits, type LmEvidence } from '../lm-membership.ts';
import { minKMean } from '../min-k/index.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const minKPlusPlusOptions = z.strictObject({
  /** Fraction of the lowest normalised token scores to average (Zhang et al. use k = 20%). */
  k: z.number().gt(0).lte(1).default(0.2),
});

/** z_t = (log p(x_t | x_<t) − μ_t) / σ_t for every scored position (σ² floored at 1e-6 in the worker, as open-unlearning does). */
export function normalisedTokenScores(s: { logprobs: Float32Array; mu?: Float32Array; sigma?: Float32Array }): Float64Array {
  if (!s.mu || !s.sigma) throw new Error('min-k-plus-plus needs the per-token vocabulary statistics (tokenStats)');
  const z = new Float64Array(s.logprobs.length);
  for (let t = 0; t < z.length; t++) z[t] = (s.logprobs[t]! - s.mu[t]!) / s.sigma[t]!;
  return z;
}

/**
 * Min-K%++ (Zhang et al., ICLR 2025, §3): each token's log-probability is standardised against the
 * model's own distribution at that position, z_t = (log p(x_t) − μ_t) / σ_t with μ_t = E_v[log p(v)]
 * and σ_t² = Var_v[log p(v)] under p(·|x_<t); the score is the mean of the k% lowest z_t. Training
 * tokens sit near a local maximum of the likelihood, so their z_t are high. Higher = member.
 */
export const minKPlusPlus = defineAttack<z.infer<typeof minKPlusPlusOptions>, LmEvidence>({
  meta: {
    id: 'min-k-plus-plus',
    title: 'Min-K%++ does not separate deleted records from unseen ones',
    failureTitle: 'Min-K%++ separates deleted records from unseen ones',
    description:
      'Like Min-K% Prob, but each token is judged against everything the model could have said there: ' +
      'a memorised token is not just likely, it is the mode of the model’s distribution.',
    family: 'membership',
    requires: ['tokenStats'],
    reference:
      'Zhang et al. Min-K%++: Improved Baseline for Detecting Pre-Training Data from Large Language Models. ICLR 2025, §3 (Eq. 2–3).',
  },
  options: minKPlusPlusOptions,
  collect,
  evaluate: (evidence, ctx) => scoreSplits(evidence, ctx, (s) => minKMean(normalisedTokenScores(s), ctx.options.k)),
});
