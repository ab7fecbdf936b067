/**
 * The measure stage: one place that turns observations from any attack into findings with intervals.
 * Pure: same observations and seed → same numbers.
 */
import type { ExposureObservation, ExtractionObservation, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { subjectMeans } from './subjects.ts';
import { sha256 } from '../cache.ts';
import { bootstrapMembership, clopperPearson, epsilonLowerBound, membershipMetrics, minDetectableAuc, rocCurve } from '../metrics/index.ts';
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
  /**
   * How the intervals were resampled: by subject (cluster bootstrap) when every record names one,
   * since a person's records share their PII and are not independent; else by record.
   */
  bootstrap: { unit: 'subject' | 'record'; iterations: number; clusters?: { positive: number; negative: number } };
  /**
   * Smallest AUC this n detects with 80% power at α = 0.05 (Hanley–McNeil), on the effective n
   * (records ÷ design effect, the cluster-to-record bootstrap variance ratio): what "no signal" can mean.
   */
  power: { minDetectableAuc: number; designEffect: number };
  /**
   * Empirical ε lower bound (δ = 0) from this attack's errors at a threshold chosen on a held-out half;
   * `cap` is the most this n could show (a perfect attack).
   */
  epsilon?: { lowerBound: number; cap: number; delta: number };
  /** The ROC curve, thinned to at most ~100 points (for the report's log-log plot). */
  roc?: { fpr: number[]; tpr: number[] };
  /** Score histograms of both sides over shared bins (for the report). */
  histogram?: { edges: number[]; positive: number[]; negative: number[] };
}

/** Keeps the ROC's corners that matter on log axes: every point below FPR 1%, then ~80 spread in log FPR. */
export function thinRoc(roc: { fpr: number[]; tpr: number[] }, max = 100): { fpr: number[]; tpr: number[] } {
  const n = roc.fpr.length;
  if (n <= max) return { fpr: roc.fpr, tpr: roc.tpr };
  const keep = new Set<number>([0, n - 1]);
  for (let i = 0; i < n && keep.size < max / 5; i++) if (roc.fpr[i]! <= 0.01) keep.add(i);
  const positive = roc.fpr.map((f, i) => [f, i] as const).filter(([f]) => f > 0);
  const lo = Math.log(positive[0]?.[0] ?? 1e-3);
  const steps = max - keep.size;
  let j = 0;
  for (let k = 0; k <= steps; k++) {
    const target = Math.exp(lo + ((0 - lo) * k) / steps);
    while (j < positive.length - 1 && positive[j]![0] < target) j++;
    // the last point at this FPR has the highest TPR: the curve's upper envelope
    let idx = positive[j]![1];
    while (idx + 1 < n && roc.fpr[idx + 1] === roc.fpr[idx]) idx++;
    keep.add(idx);
  }
  const idx = [...keep].sort((a, b) => a - b);
  return { fpr: idx.map((i) => roc.fpr[i]!), tpr: idx.map((i) => roc.tpr[i]!) };
}

export function histogram(pos: number[], neg: number[], bins = 30): NonNullable<Finding['histogram']> {
  const all = [...pos, ...neg];
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (min === max) (min -= 0.5), (max += 0.5);
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + ((max - min) * i) / bins);
  const count = (xs: number[]) => {
    const c = new Array<number>(bins).fill(0);
    for (const x of xs) c[Math.min(bins - 1, Math.floor(((x - min) / (max - min)) * bins))]! += 1;
    return c;
  };
  return { edges, positive: count(pos), negative: count(neg) };
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

export interface ScoredSplit {
  name: string;
  scores: number[];
  /** Subject of each record; when every record has one, intervals resample subjects. */
  subjects?: (string | undefined)[];
}

export function membershipFinding(
  attack: string,
  model: string,
  positive: ScoredSplit,
  negative: ScoredSplit,
  opts: { seed: number; iterations: number },
): Finding {
  const seed = derivedSeed(opts.seed, attack, model, positive.name, negative.name);
  const clustered = (s: ScoredSplit): s is ScoredSplit & { subjects: string[] } =>
    s.subjects !== undefined && s.subjects.length === s.scores.length && s.subjects.every((x) => x !== undefined);
  const clusters =
    clustered(positive) && clustered(negative) ? { pos: positive.subjects, neg: negative.subjects } : undefined;
  const m = membershipMetrics(positive.scores, negative.scores, { seed, iterations: opts.iterations, clusters });
  let designEffect = 1;
  if (clusters) {
    const plain = bootstrapMembership(positive.scores, negative.scores, { seed, iterations: opts.iterations });
    const w = plain.auc.hi - plain.auc.lo;
    if (w > 0) designEffect = Math.max(1, ((m.auc.hi - m.auc.lo) / w) ** 2);
  }
  const effective = (n: number) => Math.max(1, Math.floor(n / designEffect));
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
    bootstrap: clusters
      ? { unit: 'subject', iterations: opts.iterations, clusters: { positive: new Set(clusters.pos).size, negative: new Set(clusters.neg).size } }
      : { unit: 'record', iterations: opts.iterations },
    power: { minDetectableAuc: minDetectableAuc(effective(m.n.positive), effective(m.n.negative)), designEffect },
    epsilon: (({ lowerBound, cap, delta }) => ({ lowerBound, cap, delta }))(
      epsilonLowerBound(positive.scores, negative.scores, { seed: derivedSeed(opts.seed, 'epsilon', attack, model, positive.name, negative.name) }),
    ),
    roc: thinRoc(rocCurve(positive.scores, negative.scores)),
    histogram: histogram(positive.scores, negative.scores),
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
        membershipFinding(
          attack,
          o.model,
          { name: pos, scores: p.scores, subjects: p.subjects },
          { name: 'holdout', scores: holdout.scores, subjects: holdout.subjects },
          opts,
        ),
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

/**
 * Subject-level findings: each person's score is the mean of their records' scores, and the ROC is
 * over people (forget subjects vs holdout subjects), because deletion requests are per person.
 */
export function subjectFindings(
  attack: string,
  observations: MembershipObservation[],
  opts: { seed: number; iterations: number },
): Finding[] {
  const out: Finding[] = [];
  for (const o of observations) {
    const f = o.splits.forget;
    const h = o.splits.holdout;
    if (!f || !h) continue;
    if (!f.subjects.some((s) => s !== undefined) || !h.subjects.some((s) => s !== undefined)) continue;
    const pos = [...subjectMeans(f).values()];
    const neg = [...subjectMeans(h).values()];
    out.push(membershipFinding(attack, o.model, { name: 'forget-subjects', scores: pos }, { name: 'holdout-subjects', scores: neg }, opts));
  }
  return out;
}

export interface ExposureSummary {
  attack: string;
  model: string;
  canaries: ExposureObservation['canaries'];
  /**
   * The never-inserted control canaries (insertions 0): their mean exposure, an approximate 95%
   * interval for it (the null exposure −log2 U has standard deviation 1/ln 2), and what it should be
   * if the model treats them like any other secret.
   */
  controls?: { n: number; meanExposure: Estimate; expected: number };
}

/** E[exposure] for a canary exchangeable with m candidates: rank uniform on 1..m+1. */
export function nullExposure(m: number): number {
  let s = 0;
  for (let k = 1; k <= m + 1; k++) s += Math.log2(k);
  return Math.log2(m) - s / (m + 1);
}

export function exposureSummaries(attack: string, observations: ExposureObservation[]): ExposureSummary[] {
  return observations.map((o) => {
    const controls = o.canaries.filter((c) => c.insertions === 0);
    if (controls.length === 0) return { attack, model: o.model, canaries: o.canaries };
    const mean = controls.reduce((s, c) => s + c.exposure, 0) / controls.length;
    const half = (1.959963984540054 * (1 / Math.LN2)) / Math.sqrt(controls.length);
    const m = Math.round(controls.reduce((s, c) => s + c.candidates, 0) / controls.length);
    return {
      attack,
      model: o.model,
      canaries: o.canaries,
      controls: { n: controls.length, meanExposure: { value: mean, lo: Math.max(0, mean - half), hi: mean + half }, expected: nullExposure(m) },
    };
  });
}
