/**
 * What the shadow-model attacks (shadow, lira, rmia) share: the audit's shadow bank (the first
 * `count` shadows, src/shadow/bank.ts) and every target role's class probabilities on the bank's
 * pool. The same shadows serve every model role, so before/after comparisons are like for like.
 */
import { z } from 'zod';
import { InputError } from '../src/errors.ts';
import type { ShadowBank } from '../src/shadow/bank.ts';
import { shadowConfidences, trueClassConfidence } from '../src/shadow/bank.ts';
import type { RecordShadows } from '../src/shadow/scores.ts';
import type { DataRecord } from '../src/types.ts';
import { MEMBERSHIP_SPLITS } from './lm-membership.ts';
import type { CollectContext, MembershipObservation, SplitName } from './types.ts';

export interface ShadowEvidence {
  bank: ShadowBank;
  count: number;
  /** Per target role: probabilities on every pool record (pool order). */
  models: { role: MembershipObservation['model']; probs: Float32Array[] }[];
}

/** An even number of shadows ≥ 2: every record is then IN for exactly half of them (paired bank). */
/** Each shadow is a trained model: beyond this many a run takes days, so it is a typo, not a plan. */
export const MAX_SHADOWS = 1024;

export const evenCount = (what: string) =>
  z.refine((n: unknown) => typeof n === 'number' && n >= 2 && n <= MAX_SHADOWS && n % 2 === 0, {
    message: `${what} must be an even number from 2 to ${MAX_SHADOWS} (shadows come in IN/OUT pairs)`,
  });

export async function collectShadowEvidence<O>(ctx: CollectContext<O>, count: number): Promise<ShadowEvidence> {
  const bank = await ctx.signals.shadows(count);
  const models: ShadowEvidence['models'] = [];
  for (const m of ctx.models) {
    const probs = await ctx.signals.probabilities(m, bank.pool);
    // One class space for every role: the shadows (and Shokri's attack models) are built for it.
    if (probs[0]!.length !== bank.classes) {
      throw new InputError(`the ${m.role} model outputs ${probs[0]!.length} classes but the ${ctx.models[0]!.role} model outputs ${bank.classes}; every model of an audit must share the label space`, {
        field: `models.${m.role}`,
      });
    }
    models.push({ role: m.role, probs });
  }
  return { bank, count, models };
}

/** Pool index of an audited record (always present: the pool is built from the audited splits). */
export function poolIndex(bank: ShadowBank, r: DataRecord): number {
  const i = bank.indexOf.get(r.id);
  if (i === undefined) throw new Error(`record "${r.id}" is not in the shadow pool`);
  return i;
}

/** LiRA/RMIA inputs for one record on one target: p_target(y) and the shadows' IN/OUT confidences. */
export function recordShadows(e: ShadowEvidence, probs: Float32Array[], r: DataRecord): RecordShadows {
  const i = poolIndex(e.bank, r);
  return { id: r.id, target: trueClassConfidence(probs[i]!, r.label!), ...shadowConfidences(e.bank, e.count, i) };
}

/**
 * One membership observation per role. With `wholePool`, `score` sees every record of the shadow
 * pool at once (pool order), so statistics it pools over records (LiRA's fixed variance) are the
 * same for every split and role; otherwise only the audited records (RMIA: per-record scores, and
 * |pool| × |z| comparisons would be wasted). The audited records' scores are picked out per split.
 */
export function shadowObservations(
  e: ShadowEvidence,
  splits: Record<SplitName, DataRecord[]>,
  score: (records: RecordShadows[], role: MembershipObservation['model']) => number[],
  { wholePool }: { wholePool: boolean },
): MembershipObservation[] {
  const scored = wholePool ? e.bank.pool : uniqueById(MEMBERSHIP_SPLITS.flatMap((s) => splits[s]));
  const at = new Map(scored.map((r, i) => [r.id, i]));
  return e.models.map(({ role, probs }) => {
    const all = score(scored.map((r) => recordShadows(e, probs, r)), role);
    const out: MembershipObservation['splits'] = {};
    for (const split of MEMBERSHIP_SPLITS) {
      const records = splits[split];
      if (records.length === 0) continue;
      out[split] = {
        ids: records.map((r) => r.id),
        subjects: records.map((r) => r.subject),
        scores: records.map((r) => all[at.get(r.id)!]!),
      };
    }
    return { family: 'membership', model: role, splits: out };
  });
}

function uniqueById(records: DataRecord[]): DataRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
}
