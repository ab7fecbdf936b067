/** Worker side: teacher-forced token log-probabilities of every forget/retain/holdout record. */
import { collectTokenSignals } from '../lm-membership.ts';
import type { CollectContext } from '../types.ts';

export const collect = <O>(ctx: CollectContext<O>) => collectTokenSignals(ctx);
