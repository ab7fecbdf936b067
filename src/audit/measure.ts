/**
 * The measure stage: one place that turns observations from any attack into findings with intervals.
 * Pure: same observations and seed → same numbers.
 */
import type { ExtractionObservation, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { sha256 } from '../cache.ts';
import { clopperPearson, membershipMetrics, minDetectableAuc } from '../metrics/index.ts';
import type { Estimate, ModelRole } from '../types.ts';

export const FPRS = ['0.001', '0.01', '0.1'] as const;

export interface Finding {
  attack: string;
  model: string;
  positive: string;
  negative: string;
  status: 'ok';
  n: { positive: number; negative: number };
  auc: Estimate;
  tprAtFpr: Record<(typeof FPRS)[number], Estimate>;
  advantage: Estimate;
  ks: { statistic: number; pvalue: number };
  /** Smallest AUC this n detects with 80% power at α = 0.05 (Hanley–McNeil): what "no signal" can mean. */
  power: { minDetectableAuc: number };
}

export interface ExtractionSummary {
  attack: string;
  model: ModelRole;
  split: SplitName;
  trials: number;
  hits: number;
  rate: Estimate;
  near: { hits: number; rate: Estimate };
  skipped: number;
  subjects: { total: number; leaked: number };
}

/** A per-comparison bootstrap seed, so adding an attack never changes another attack's intervals. */
export function derivedSeed(seed: number, ...parts: string[]): number {
  return parseInt(sha256(JSON.stringify([seed, ...parts])).slice(0, 8), 16);
}

export function membershipFinding(
  attack: string,
  model: string,
  positive: { name: string; scores: number[] },
  negative: { name: string; scores: number[] },
  opts: { seed: number; iterations: number },
): Finding {
  const m = membershipMetrics(positive.scores, negative.scores, {
    seed: derivedSeed(opts.seed, attack, model, positive.name, negative.name),
    iterations: opts.iterations,
  });
  return {
    attack,
    model,
    positive: positive.name,
    negative: negative.name,
    status: 'ok',
    n: m.n,
    auc: m.auc,
    tprAtFpr: m.tprAtFpr,
    advantage: m.advantage,
    ks: m.ks,
    power: { minDetectableAuc: minDetectableAuc(m.n.positive, m.n.negative) },
  };
}

/** Forget-vs-holdout (the deletion question) and retain-vs-holdout (the positive control). */
export function membershipFindings(
  attack: string,
  observations: MembershipObservation[],
  opts: { seed: number; iterations: number },
): Finding[] {
  const out: Finding[] = [];
  for (const o of observations) {
    const holdout = o.splits.holdout;
    if (!holdout) continue;
    for (const pos of ['forget', 'retain'] as const) {
      const p = o.splits[pos];
      if (!p || p.scores.length === 0) continue;
      out.push(
        membershipFinding(attack, o.model, { name: pos, scores: p.scores }, { name: 'holdout', scores: holdout.scores }, opts),
      );
    }
  }
  return out;
}

export function extractionSummaries(attack: string, observations: ExtractionObservation[]): ExtractionSummary[] {
  const out: ExtractionSummary[] = [];
  for (const o of observations) {
    for (const split of ['forget', 'retain', 'holdout'] as const) {
      const trials = o.trials.filter((t) => t.split === split);
      const skipped = o.skipped[split] ?? 0;
      if (trials.length === 0 && skipped === 0) continue;
      const hits = trials.filter((t) => t.hit).length;
      const near = trials.filter((t) => t.near).length;
      const subjects = new Set(trials.map((t) => t.subject ?? `record:${t.recordId}`));
      const leaked = new Set(trials.filter((t) => t.hit).map((t) => t.subject ?? `record:${t.recordId}`));
      out.push({
        attack,
        model: o.model,
        split,
        trials: trials.length,
        hits,
        rate: rate(hits, trials.length),
        near: { hits: near, rate: rate(near, trials.length) },
        skipped,
        subjects: { total: subjects.size, leaked: leaked.size },
      });
    }
  }
  return out;
}

function rate(k: number, n: number): Estimate {
  if (n === 0) return { value: 0, lo: 0, hi: 1 };
  const ci = clopperPearson(k, n, 0.95);
  return { value: k / n, lo: ci.lo, hi: ci.hi };
}
