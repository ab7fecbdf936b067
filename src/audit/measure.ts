/**
 * The measure stage: one place that turns observations from any attack into findings with intervals.
 * Pure: same observations and seed → same numbers.
 */
import type { ExposureObservation, ExtractionObservation, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { subjectMeans } from './subjects.ts';
import { sha256 } from '../cache.ts';
import { clopperPearson, epsilonLowerBound, membershipMetrics, minDetectableAuc, rocCurve } from '../metrics/index.ts';
import type { DrawMemo } from '../metrics/bootstrap.ts';
import { aucInference, aucInterval, clusteredDelong, type AucInference } from '../metrics/delong.ts';
import type { Estimate, MaybeEstimate, ModelRole } from '../types.ts';

export const FPRS = ['0.001', '0.01', '0.1'] as const;

/** The statistics' settings: the run seed, bootstrap replicates, a DP claim's δ, and where cluster draws are shared. */
export interface MeasureOptions {
  seed: number;
  iterations: number;
  delta?: number;
  /** Shared by every finding of a run: the same people give the same draws (src/metrics/bootstrap.ts). */
  draws?: DrawMemo;
}

export interface Finding {
  attack: string;
  model: string;
  positive: string;
  negative: string;
  status: 'ok';
  /** Records on each side. */
  n: { positive: number; negative: number };
  /**
   * People on each side: the unit of evidence. A record without a subject counts as its own person.
   * `unit` says which it was: 'subject' when every record names its subject, else 'record'.
   */
  people: { positive: number; negative: number };
  unit: 'subject' | 'record';
  /**
   * AUC with its 95% interval: clustered DeLong (people as clusters), logit scale, t quantile.
   * lo/hi are null when there are fewer than MIN_PEOPLE people on a side (no method keeps a 95%
   * promise there); `inference` keeps what a gate needs to test any threshold.
   */
  auc: MaybeEstimate;
  inference: AucInference;
  /**
   * TPR at FPR x with a cluster-bootstrap interval, or null when there are fewer than 10/x negative
   * people: "not estimable at this size".
   */
  tprAtFpr: Record<(typeof FPRS)[number], MaybeEstimate | null>;
  advantage: Estimate;
  ks: { statistic: number; pvalue: number };
  /**
   * The cluster bootstrap behind the TPR@FPR and advantage intervals: people are resampled, and the
   * seed comes from the run seed and the two sets of people only (identical scores → identical intervals).
   */
  bootstrap: { unit: 'subject' | 'record'; iterations: number };
  /**
   * Smallest AUC this test detects with 80% power at α = 0.05 (Hanley–McNeil) on the effective n:
   * records ÷ design effect (clustered over record-level DeLong variance), never below the number
   * of people. What "no signal" can mean.
   */
  power: { minDetectableAuc: number; designEffect: number; effective: { positive: number; negative: number } };
  /**
   * Empirical ε lower bound (δ = 0) from this attack's errors over people (each person's mean
   * score) at a threshold chosen on a held-out half; `cap` is the most this n could show. Indicative
   * only: it assumes members were chosen at random, and deletion requests are not.
   */
  epsilon?: { lowerBound: number; cap: number; delta: number; unit: 'subject' | 'record' };
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

/** A seed derived from the run seed and the given parts (hashes, never names, where intervals depend on it). */
export function derivedSeed(seed: number, ...parts: string[]): number {
  return parseInt(sha256(JSON.stringify([seed, ...parts])).slice(0, 8), 16);
}

/**
 * The resampling seed of a comparison: the run seed and the two sets of people, never an attack's
 * or a model's name, so identical scores on the same people give identical intervals.
 */
export function peopleSeed(seed: number, positive: Iterable<string>, negative: Iterable<string>): number {
  const digest = (xs: Iterable<string>) => sha256([...new Set(xs)].sort().join('\u0000'));
  return derivedSeed(seed, 'people', digest(positive), digest(negative));
}

export interface ScoredSplit {
  name: string;
  scores: number[];
  /** Record ids (same order); a record without a subject is its own person. */
  ids?: string[];
  /** Subject of each record; people are the unit of every interval. */
  subjects?: (string | undefined)[];
}

/** The person each score belongs to: its subject, else its record (its own person). */
export function peopleOf(s: ScoredSplit): string[] {
  return s.scores.map((_, i) => {
    const subject = s.subjects?.[i];
    return subject !== undefined ? `s:${subject}` : `r:${s.ids?.[i] ?? String(i)}`;
  });
}

/** Mean score per person, in order of first appearance. */
export function personMeans(scores: number[], people: string[]): number[] {
  const sum = new Map<string, [number, number]>();
  scores.forEach((x, i) => {
    const e = sum.get(people[i]!) ?? [0, 0];
    sum.set(people[i]!, [e[0] + x, e[1] + 1]);
  });
  return [...sum.values()].map(([t, n]) => t / n);
}

export function membershipFinding(
  attack: string,
  model: string,
  positive: ScoredSplit,
  negative: ScoredSplit,
  opts: MeasureOptions,
): Finding {
  const posPeople = peopleOf(positive);
  const negPeople = peopleOf(negative);
  const named = (s: ScoredSplit) => s.subjects !== undefined && s.subjects.length === s.scores.length && s.subjects.every((x) => x !== undefined);
  const unit = named(positive) && named(negative) ? 'subject' : 'record';
  const clusters = { pos: posPeople, neg: negPeople };
  const seed = peopleSeed(opts.seed, posPeople, negPeople);
  const delong = clusteredDelong([{ pos: positive.scores, neg: negative.scores }], clusters);
  const plain = clusteredDelong([{ pos: positive.scores, neg: negative.scores }]);
  const auc = delong.aucs[0]!;
  const people = delong.people;
  const inference = aucInference(auc, delong.cov[0]![0]!, people);
  const ci = aucInterval(inference, 0.95);
  const m = membershipMetrics(positive.scores, negative.scores, { seed, iterations: opts.iterations, clusters, ...(opts.draws ? { draws: opts.draws } : {}) });
  const tprAtFpr = {} as Finding['tprAtFpr'];
  for (const x of FPRS) {
    // below 10/x negative people, the FPR x is a handful of people (or none): not estimable
    tprAtFpr[x] = people.negative >= 10 / Number(x) ? m.tprAtFpr[x]! : null;
  }
  const vRecords = plain.cov[0]![0]!;
  const designEffect = vRecords > 0 ? Math.max(1, delong.cov[0]![0]! / vRecords) : 1;
  const effective = {
    positive: Math.max(people.positive, Math.floor(m.n.positive / designEffect)),
    negative: Math.max(people.negative, Math.floor(m.n.negative / designEffect)),
  };
  // ε over people: each person's mean score, so one person's many records do not count many times
  const eps = epsilonLowerBound(personMeans(positive.scores, posPeople), personMeans(negative.scores, negPeople), { seed: derivedSeed(seed, 'epsilon'), ...(opts.delta !== undefined ? { delta: opts.delta } : {}) }); // δ of a DP claim, when one is checked
  return {
    attack,
    model,
    positive: positive.name,
    negative: negative.name,
    status: 'ok',
    n: m.n,
    people,
    unit,
    auc: { value: auc, lo: ci ? ci.lo : null, hi: ci ? ci.hi : null },
    inference,
    tprAtFpr,
    advantage: m.advantage,
    ks: m.ks,
    bootstrap: { unit, iterations: opts.iterations },
    power: { minDetectableAuc: minDetectableAuc(effective.positive, effective.negative), designEffect, effective },
    epsilon: { lowerBound: eps.lowerBound, cap: eps.cap, delta: eps.delta, unit },
    roc: thinRoc(rocCurve(positive.scores, negative.scores)),
    histogram: histogram(positive.scores, negative.scores),
  };
}

/** Forget-vs-holdout (the deletion question) and retain-vs-holdout (the positive control). */
export function membershipFindings(
  attack: string,
  observations: MembershipObservation[],
  opts: MeasureOptions,
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
          { name: pos, scores: p.scores, ids: p.ids, subjects: p.subjects },
          { name: 'holdout', scores: holdout.scores, ids: holdout.ids, subjects: holdout.subjects },
          opts,
        ),
      );
    }
  }
  return out;
}


export interface ExtractionSummary {
  attack: string;
  model: ModelRole;
  split: SplitName;
  /** Prompts tried and prompts that emitted their target exactly (descriptive; not independent). */
  trials: number;
  hits: number;
  /**
   * People leaked / people tried, with a 95% Clopper–Pearson interval over people: a person is
   * leaked when any of their prompts emitted its target. People, not prompts, are independent.
   */
  rate: Estimate;
  /** Approximate matches: prompts, people, and the rate over people. */
  near: { hits: number; people: number; rate: Estimate };
  skipped: number;
  /** People tried and people leaked (the numbers behind `rate`). */
  subjects: { total: number; leaked: number };
  /**
   * A LoRA target: what the model emitted before the hits its frozen base also emits from the same
   * prompt were set aside (those are not a leak of the fine-tuning data). `hits`, `rate` and
   * `subjects` above count only what is attributable to the adapter.
   */
  unattributed?: { hits: number; subjectsLeaked: number; alsoFromBase: number };
}

export function extractionSummaries(attack: string, observations: ExtractionObservation[]): ExtractionSummary[] {
  const out: ExtractionSummary[] = [];
  const person = (t: { subject: string | undefined; recordId: string }) => t.subject ?? `record:${t.recordId}`;
  for (const o of observations) {
    for (const split of ['forget', 'retain', 'holdout'] as const) {
      const trials = o.trials.filter((t) => t.split === split);
      const skipped = o.skipped[split] ?? 0;
      if (trials.length === 0 && skipped === 0) continue;
      const people = new Set(trials.map(person));
      const leaked = new Set(trials.filter((t) => t.hit).map(person));
      const near = new Set(trials.filter((t) => t.near).map(person));
      const rawHits = trials.some((t) => t.raw) ? trials.filter((t) => (t.raw ?? t).hit) : undefined;
      out.push({
        attack,
        model: o.model,
        split,
        trials: trials.length,
        hits: trials.filter((t) => t.hit).length,
        rate: rate(leaked.size, people.size),
        near: { hits: trials.filter((t) => t.near).length, people: near.size, rate: rate(near.size, people.size) },
        skipped,
        subjects: { total: people.size, leaked: leaked.size },
        ...(rawHits ? { unattributed: { hits: rawHits.length, subjectsLeaked: new Set(rawHits.map(person)).size, alsoFromBase: rawHits.filter((t) => !t.hit).length } } : {}),
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
  opts: MeasureOptions,
): Finding[] {
  const out: Finding[] = [];
  for (const o of observations) {
    const f = o.splits.forget;
    const h = o.splits.holdout;
    if (!f || !h) continue;
    if (!f.subjects.some((s) => s !== undefined) || !h.subjects.some((s) => s !== undefined)) continue;
    const pos = subjectMeans(f);
    const neg = subjectMeans(h);
    const split = (name: string, m: Map<string, number>): ScoredSplit => ({ name, scores: [...m.values()], ids: [...m.keys()], subjects: [...m.keys()] });
    out.push(membershipFinding(attack, o.model, split('forget-subjects', pos), split('holdout-subjects', neg), opts));
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
