/**
 * Worker side: teacher-forced token log-probabilities plus, at every position, the mean and standard
 * deviation of log p(v | x_<t) over the vocabulary (computed in the worker from the full logits).
 */
import { collectTokenSignals } from '../lm-membership.ts';
import type { CollectContext } from '../types.ts';

export const collect = <O>(ctx: CollectContext<O>) => collectTokenSignals(ctx);
