/**
 * Worker side: token signals of every split on each attacked model and, once, on the reference
 * (base) model; the reference's are shared by every role through the cache.
 */
import { collectTokenSignals, type LmEvidence } from '../lm-membership.ts';
import type { CollectContext } from '../types.ts';

export interface ReferenceEvidence {
  target: LmEvidence;
  reference: LmEvidence['models'][number];
}

export async function collect<O>(ctx: CollectContext<O>): Promise<ReferenceEvidence> {
  if (!ctx.reference) throw new Error('the reference attack needs models.reference');
  const target = await collectTokenSignals(ctx);
  const [reference] = (await collectTokenSignals({ ...ctx, models: [ctx.reference] })).models;
  return { target, reference: reference! };
}
