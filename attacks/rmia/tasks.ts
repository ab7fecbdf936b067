/** Collect: the first `references` models of the shared shadow bank, and every target's probabilities on its pool (z included). */
import { collectShadowEvidence } from '../shadow-membership.ts';
import type { CollectContext } from '../types.ts';
import type { RmiaOptions } from './index.ts';

export const collect = (ctx: CollectContext<RmiaOptions>) => collectShadowEvidence(ctx, ctx.options.references);
