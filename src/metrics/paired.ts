/**
 * Paired bootstrap for comparing models on the same records (before vs after, after vs retrained):
 * each replicate resamples the records (or their subjects) once and recomputes every model's AUC on
 * that same resample, so the interval of a difference or ratio reflects that the models were scored
 * on identical data.
 */
import { unsafeUniformIntDistribution } from 'pure-rand';
import type { Estimate } from './membership.ts';
import { seededRng } from './bootstrap.ts';
import { quantile } from './quantile.ts';
import { rankTable, summarizeCounts, type RankTable } from './roc.ts';
import { checkCount, checkOpenUnit } from './validate.ts';

export interface PairedScores {
  pos: ArrayLike<number>;
  neg: ArrayLike<number>;
}

export interface PairedOptions {
  seed: number;
  iterations?: number;
  level?: number;
  /** Cluster label (subject) of each positive and negative record, shared by every model. */
  clusters?: { pos: ArrayLike<string | number>; neg: ArrayLike<string | number> };
}

/** Record indices of each cluster, clusters in order of first appearance (singletons without labels). */
function clusterIndices(n: number, labels?: ArrayLike<string | number>): Int32Array[] {
  if (!labels) return Array.from({ length: n }, (_, i) => Int32Array.of(i));
  const by = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i] as string | number;
    const list = by.get(l);
    if (list) list.push(i);
    else by.set(l, [i]);
  }
  return [...by.values()].map((x) => Int32Array.from(x));
}

/**
 * `stat(aucs)` on the full data, with a percentile interval from resampling positives and
 * negatives (stratified; by cluster when labels are given) identically for every model.
 */
export function pairedAucStatistic(
  models: PairedScores[],
  stat: (aucs: number[]) => number,
  options: PairedOptions,
): Estimate {
  const iterations = options.iterations ?? 1000;
  const level = options.level ?? 0.95;
  checkCount(iterations, 'bootstrap iterations');
  checkOpenUnit(level, 'bootstrap level');
  if (models.length === 0) throw new Error('paired bootstrap: no models');
  const nPos = models[0]!.pos.length;
  const nNeg = models[0]!.neg.length;
  if (models.some((m) => m.pos.length !== nPos || m.neg.length !== nNeg))
    throw new Error('paired bootstrap: every model must score the same records');
  const tables: RankTable[] = models.map((m) => rankTable(m.pos, m.neg));
  const full = tables.map((t) => summarizeCounts(t.posCount, t.negCount, nPos, nNeg, []).auc);
  const posC = clusterIndices(nPos, options.clusters?.pos);
  const negC = clusterIndices(nNeg, options.clusters?.neg);
  const rng = seededRng(options.seed);
  const cntP = tables.map((t) => new Int32Array(t.values.length));
  const cntN = tables.map((t) => new Int32Array(t.values.length));
  const samples = new Float64Array(iterations);
  const aucs = new Array<number>(models.length);
  for (let it = 0; it < iterations; it++) {
    cntP.forEach((c) => c.fill(0));
    cntN.forEach((c) => c.fill(0));
    let np = 0;
    let nn = 0;
    for (let i = 0; i < posC.length; i++) {
      const c = posC[unsafeUniformIntDistribution(0, posC.length - 1, rng)]!;
      for (const r of c) tables.forEach((t, m) => (cntP[m]![t.posGroup[r]!]! += 1));
      np += c.length;
    }
    for (let i = 0; i < negC.length; i++) {
      const c = negC[unsafeUniformIntDistribution(0, negC.length - 1, rng)]!;
      for (const r of c) tables.forEach((t, m) => (cntN[m]![t.negGroup[r]!]! += 1));
      nn += c.length;
    }
    for (let m = 0; m < models.length; m++) aucs[m] = summarizeCounts(cntP[m]!, cntN[m]!, np, nn, []).auc;
    samples[it] = stat(aucs);
  }
  samples.sort();
  return { value: stat(full), lo: quantile(samples, (1 - level) / 2), hi: quantile(samples, (1 + level) / 2) };
}

/**
 * The general form: `stat(weights)` where weights[i] is how often unit i was drawn in a replicate
 * (all ones on the full data). Units are resampled by cluster when labels are given. For paired
 * rates (extraction before vs after on the same prompts), differences of means, and the like.
 */
export function pairedBootstrap(
  units: number,
  stat: (weights: Int32Array) => number,
  options: { seed: number; iterations?: number; level?: number; clusters?: ArrayLike<string | number> },
): Estimate {
  const iterations = options.iterations ?? 1000;
  const level = options.level ?? 0.95;
  checkCount(iterations, 'bootstrap iterations');
  checkOpenUnit(level, 'bootstrap level');
  const clusters = clusterIndices(units, options.clusters);
  const rng = seededRng(options.seed);
  const w = new Int32Array(units);
  const samples = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    w.fill(0);
    for (let i = 0; i < clusters.length; i++) {
      const c = clusters[unsafeUniformIntDistribution(0, clusters.length - 1, rng)]!;
      for (const r of c) w[r]! += 1;
    }
    samples[it] = stat(w);
  }
  w.fill(1);
  const value = stat(w);
  // Replicates where the statistic is undefined (e.g. no trials drawn) are left out.
  const finite = Float64Array.from(samples.filter((x) => Number.isFinite(x))).sort();
  if (finite.length === 0) return { value, lo: NaN, hi: NaN };
  return { value, lo: quantile(finite, (1 - level) / 2), hi: quantile(finite, (1 + level) / 2) };
}
