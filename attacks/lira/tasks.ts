/** Collect: the first `shadows` models of the shared shadow bank, and every target's probabilities on its pool. */
import { collectShadowEvidence } from '../shadow-membership.ts';
import type { CollectContext } from '../types.ts';
import type { LiraOptions } from './index.ts';

export const collect = (ctx: CollectContext<LiraOptions>) => collectShadowEvidence(ctx, ctx.options.shadows);
