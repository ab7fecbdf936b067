/**
 * Before/after comparisons (issue: unlearning verification). All intervals are paired: each bootstrap
 * replicate resamples the subjects once and rescores every model on that same resample.
 *
 * - auc-delta: forget-vs-holdout AUC of `to` minus that of `from` (e.g. after − before).
 * - privleak: MUSE PrivLeak = (AUC_after − AUC_retrained) / AUC_retrained (Shi et al. 2024, MUSE
 *   §3.2, here as a fraction, not ×100). An interval above 0 flags under-forgetting (the deleted
 *   subjects are still more visible than after exact retraining), below 0 over-forgetting (they now
 *   stand out by being *less* member-like, which is itself a signal).
 * - rate-delta: extraction hit rate of `to` minus `from`, on the same prompts.
 */
import type { ExtractionObservation, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { pairedAucStatistic, pairedBootstrap } from '../metrics/index.ts';
import type { Estimate } from '../types.ts';
import { derivedSeed } from './measure.ts';

export interface Comparison {
  kind: 'auc-delta' | 'privleak' | 'rate-delta';
  attack: string;
  from: string;
  to: string;
  /** For AUCs: the positive split against holdout; for rates: the split of the prompts. */
  split: SplitName;
  estimate: Estimate;
  flag?: 'under-forgetting' | 'over-forgetting' | 'none';
}

const PAIRS: [string, string][] = [
  ['before', 'after'],
  ['before', 'retrained'],
];

const subjectsOf = (s: { ids: string[]; subjects: (string | undefined)[] }) => s.subjects.map((x, i) => x ?? `record:${s.ids[i]}`);

export function membershipComparisons(
  attack: string,
  observations: MembershipObservation[],
  opts: { seed: number; iterations: number },
): Comparison[] {
  const by = new Map(observations.map((o) => [o.model as string, o]));
  const scores = (role: string) => {
    const o = by.get(role);
    const f = o?.splits.forget;
    const h = o?.splits.holdout;
    return f && h ? { pos: f.scores, neg: h.scores, clusters: { pos: subjectsOf(f), neg: subjectsOf(h) } } : undefined;
  };
  const out: Comparison[] = [];
  for (const [from, to] of PAIRS) {
    const a = scores(from);
    const b = scores(to);
    if (!a || !b) continue;
    const estimate = pairedAucStatistic([a, b], ([x, y]) => y! - x!, {
      seed: derivedSeed(opts.seed, 'auc-delta', attack, from, to),
      iterations: opts.iterations,
      clusters: a.clusters,
    });
    out.push({ kind: 'auc-delta', attack, from, to, split: 'forget', estimate });
  }
  const after = scores('after');
  const retrained = scores('retrained');
  if (after && retrained) {
    const estimate = pairedAucStatistic([after, retrained], ([a, r]) => (a! - r!) / r!, {
      seed: derivedSeed(opts.seed, 'privleak', attack),
      iterations: opts.iterations,
      clusters: after.clusters,
    });
    const flag = estimate.lo > 0 ? 'under-forgetting' : estimate.hi < 0 ? 'over-forgetting' : 'none';
    out.push({ kind: 'privleak', attack, from: 'retrained', to: 'after', split: 'forget', estimate, flag });
  }
  return out;
}

export function extractionComparisons(
  attack: string,
  observations: ExtractionObservation[],
  opts: { seed: number; iterations: number },
): Comparison[] {
  const by = new Map(observations.map((o) => [o.model as string, o]));
  const out: Comparison[] = [];
  for (const [from, to] of PAIRS) {
    const a = by.get(from);
    const b = by.get(to);
    if (!a || !b) continue;
    for (const split of ['forget', 'holdout'] as const) {
      const ta = a.trials.filter((t) => t.split === split);
      const tb = b.trials.filter((t) => t.split === split);
      // The same prompts in the same order on both models (the attack's collect guarantees it).
      if (ta.length === 0 || ta.length !== tb.length) continue;
      const ha = Int8Array.from(ta, (t) => (t.hit ? 1 : 0));
      const hb = Int8Array.from(tb, (t) => (t.hit ? 1 : 0));
      const estimate = pairedBootstrap(
        ta.length,
        (w) => {
          let n = 0;
          let d = 0;
          for (let i = 0; i < w.length; i++) {
            n += w[i]!;
            d += w[i]! * (hb[i]! - ha[i]!);
          }
          return d / n;
        },
        {
          seed: derivedSeed(opts.seed, 'rate-delta', attack, from, to, split),
          iterations: opts.iterations,
          clusters: ta.map((t) => t.subject ?? `record:${t.recordId}`),
        },
      );
      out.push({ kind: 'rate-delta', attack, from, to, split, estimate });
    }
  }
  return out;
}
