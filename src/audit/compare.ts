/**
 * Before/after comparisons. Every one is paired: the models scored the same records of the same
 * people, so their AUCs are correlated and the comparison's variance says so.
 *
 * - auc-delta: forget-vs-holdout AUC of `to` minus that of `from` (after − before, retrained −
 *   before), with a 95% interval: how much the deletion changed what the attack sees.
 * - equivalence: ΔAUC = AUC(after) − AUC(retrained) on forget-vs-holdout, with a 90% interval (two
 *   one-sided tests at α = 0.05). The primary unlearning test when a retrained model is given: the
 *   gate passes when the interval lies within ±δ, fails when it lies wholly beyond +δ
 *   (under-forgetting) or −δ (over-forgetting: the deleted people now stand out by looking *less*
 *   like members than after exact retraining, which singles them out).
 * - privleak: MUSE PrivLeak = (AUC_after − AUC_retrained) / AUC_retrained (Shi et al. 2024, MUSE
 *   §3.2, here as a fraction, not ×100), 90% interval by the delta method; same rule as equivalence.
 * - rate-delta: share of people leaked by an extraction attack on `to` minus on `from`, the same
 *   people prompted the same way, 95% paired bootstrap over people.
 *
 * AUC comparisons use the clustered DeLong covariance of the two AUCs (people as clusters, src/metrics/
 * delong.ts): no resampling, so no seed. The rate bootstrap is seeded from the run seed and the people.
 */
import type { ExtractionObservation, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { pairedBootstrap } from '../metrics/index.ts';
import { clusteredDelong, deltaInterval, pairedDelta, type DeltaInference } from '../metrics/delong.ts';
import type { MaybeEstimate } from '../types.ts';
import { peopleOf, peopleSeed } from './measure.ts';

export interface Comparison {
  kind: 'auc-delta' | 'equivalence' | 'privleak' | 'rate-delta';
  attack: string;
  from: string;
  to: string;
  /** For AUCs: the positive split against holdout; for rates: the split of the prompts. */
  split: SplitName;
  /** The estimate and its interval at `level` (null bounds: too few people on a side). */
  estimate: MaybeEstimate;
  level: number;
  /** What a gate needs to test any margin (AUC comparisons only). */
  inference?: DeltaInference;
  /** People on each side (AUC comparisons) or people prompted (rates). */
  people: { positive: number; negative: number } | { prompted: number };
}

const PAIRS: [string, string][] = [
  ['before', 'after'],
  ['before', 'retrained'],
];

const estimateOf = (d: DeltaInference, level: number): MaybeEstimate => {
  const ci = deltaInterval(d, level);
  return { value: d.value, lo: ci ? ci.lo : null, hi: ci ? ci.hi : null };
};

export function membershipComparisons(attack: string, observations: MembershipObservation[]): Comparison[] {
  const by = new Map(observations.map((o) => [o.model as string, o]));
  const scores = (role: string) => {
    const o = by.get(role);
    const f = o?.splits.forget;
    const h = o?.splits.holdout;
    if (!f || !h || f.scores.length === 0 || h.scores.length === 0) return undefined;
    return { pos: f.scores, neg: h.scores, clusters: { pos: peopleOf({ name: 'forget', ...f }), neg: peopleOf({ name: 'holdout', ...h }) } };
  };
  const out: Comparison[] = [];
  const compare = (kind: Comparison['kind'], from: string, to: string, stat: 'difference' | 'ratio', level: number) => {
    const a = scores(from);
    const b = scores(to);
    if (!a || !b || a.pos.length !== b.pos.length || a.neg.length !== b.neg.length) return;
    const r = clusteredDelong([a, b], a.clusters);
    const inference = pairedDelta(r, stat);
    out.push({ kind, attack, from, to, split: 'forget', estimate: estimateOf(inference, level), level, inference, people: r.people });
  };
  for (const [from, to] of PAIRS) compare('auc-delta', from, to, 'difference', 0.95);
  compare('equivalence', 'retrained', 'after', 'difference', 0.9);
  compare('privleak', 'retrained', 'after', 'ratio', 0.9);
  return out;
}

export function extractionComparisons(attack: string, observations: ExtractionObservation[], opts: { seed: number; iterations: number }): Comparison[] {
  const by = new Map(observations.map((o) => [o.model as string, o]));
  const out: Comparison[] = [];
  const person = (t: { subject: string | undefined; recordId: string }) => t.subject ?? `record:${t.recordId}`;
  const leakedPeople = (o: ExtractionObservation, split: SplitName) => {
    const m = new Map<string, number>();
    for (const t of o.trials) if (t.split === split) m.set(person(t), Math.max(m.get(person(t)) ?? 0, t.hit ? 1 : 0));
    return m;
  };
  for (const [from, to] of PAIRS) {
    const a = by.get(from);
    const b = by.get(to);
    if (!a || !b) continue;
    for (const split of ['forget', 'holdout'] as const) {
      const la = leakedPeople(a, split);
      const lb = leakedPeople(b, split);
      // The same people prompted on both models (the attack's collect guarantees it).
      const people = [...la.keys()];
      if (people.length === 0 || people.length !== lb.size || people.some((p) => !lb.has(p))) continue;
      const ha = Int8Array.from(people, (p) => la.get(p)!);
      const hb = Int8Array.from(people, (p) => lb.get(p)!);
      const e = pairedBootstrap(
        people.length,
        (w) => {
          let n = 0;
          let d = 0;
          for (let i = 0; i < w.length; i++) {
            n += w[i]!;
            d += w[i]! * (hb[i]! - ha[i]!);
          }
          return d / n;
        },
        { seed: peopleSeed(opts.seed, people, [split]), iterations: opts.iterations },
      );
      out.push({ kind: 'rate-delta', attack, from, to, split, estimate: e, level: 0.95, people: { prompted: people.length } });
    }
  }
  return out;
}
