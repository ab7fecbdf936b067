/**
 * Seeded, stratified percentile bootstrap for AUC, TPR@FPR and advantage.
 * Positives and negatives are resampled separately with replacement (keeps n⁺/n⁻ fixed, as the
 * audit's design fixes them). Scores are ranked once; each replicate only redraws how many copies
 * of each rank it holds, so an iteration costs O(n⁺ + n⁻ + distinct scores) with no sorting.
 *
 * With `clusters` (e.g. the subject of each record), whole clusters are resampled instead of single
 * records (a cluster bootstrap): records of one person share their PII and are not independent, and
 * resampling them one by one would give intervals that are too narrow. n⁺/n⁻ then vary per replicate.
 */
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { quantile } from './quantile.ts';
import { checkFpr, maxFpCount, rankTable, summarizeCounts } from './roc.ts';
import { checkCount, checkOpenUnit } from './validate.ts';
import type { Interval } from './binomial.ts';

export const DEFAULT_FPRS: readonly number[] = [0.001, 0.01, 0.1];
/** The most a DrawMemo keeps by default (bytes of draws). */
export const DRAW_MEMO_BYTES = 24 * 2 ** 20;

export interface BootstrapOptions {
  /** Any safe integer; the same seed gives bit-identical output. */
  seed: number;
  iterations?: number;
  level?: number;
  fprs?: readonly number[];
  /** Cluster label of each positive and each negative score (same order); resample clusters. */
  clusters?: { pos: ArrayLike<string | number>; neg: ArrayLike<string | number> };
  /**
   * Where cluster draws are kept for the next call with the same seed, iterations and cluster
   * counts (see ClusterDraws): every attack scored on the same people draws them identically.
   */
  draws?: DrawMemo;
}

/**
 * A cluster bootstrap's draws: how many times each cluster was drawn in each replicate (replicate
 * after replicate, positives' clusters then negatives'). They depend only on the seed, the number of
 * replicates and the number of clusters on each side — not on the scores — so the findings of every
 * attack and every model on the same people share one set (the audit passes one DrawMemo).
 */
export interface ClusterDraws {
  pos: Uint8Array | Uint16Array;
  neg: Uint8Array | Uint16Array;
}
/** Cluster draws kept for reuse, up to `budget` bytes (beyond it, draws are made for each call and not kept). */
export class DrawMemo {
  readonly #kept = new Map<string, ClusterDraws>();
  #bytes = 0;
  constructor(readonly budget: number = DRAW_MEMO_BYTES) {}
  get(key: string): ClusterDraws | undefined {
    return this.#kept.get(key);
  }
  /** Keeps `draws` if they fit the budget. */
  offer(key: string, draws: ClusterDraws): void {
    const n = draws.pos.byteLength + draws.neg.byteLength;
    if (this.#bytes + n > this.budget) return;
    this.#kept.set(key, draws);
    this.#bytes += n;
  }
  get size(): number {
    return this.#kept.size;
  }
  clear(): void {
    this.#kept.clear();
    this.#bytes = 0;
  }
}

export interface BootstrapResult {
  seed: number;
  iterations: number;
  level: number;
  auc: Interval;
  /** Keyed by String(fpr), e.g. "0.001". */
  tprAtFpr: Record<string, Interval>;
  advantage: Interval;
}

/**
 * xoroshiro128+ seeded from a safe integer. For 0 <= seed < 2^32 this is exactly pure-rand's
 * xoroshiro128plus(seed); higher bits go into the otherwise constant words so they are not lost.
 */
export function seededRng(seed: number): RandomGenerator {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${String(seed)}`);
  const lo = seed | 0;
  const hi = Math.floor(seed / 2 ** 32) | 0;
  return xoroshiro128plus.fromState([~hi, ~lo, lo, hi]);
}

function interval(samples: Float64Array, level: number): Interval {
  samples.sort();
  return { lo: quantile(samples, (1 - level) / 2), hi: quantile(samples, (1 + level) / 2) };
}

export function bootstrapMembership(
  pos: ArrayLike<number>,
  neg: ArrayLike<number>,
  options: BootstrapOptions,
): BootstrapResult {
  const { seed } = options;
  const iterations = options.iterations ?? 1000;
  const level = options.level ?? 0.95;
  const fprs = options.fprs ?? DEFAULT_FPRS;
  checkCount(iterations, 'bootstrap iterations');
  checkOpenUnit(level, 'bootstrap level');
  fprs.forEach(checkFpr);
  const rng = seededRng(seed);

  const t = rankTable(pos, neg);
  const nPos = t.posGroup.length;
  const nNeg = t.negGroup.length;
  const groups = t.values.length;
  const maxFp = Int32Array.from(fprs, (x) => maxFpCount(x, nNeg));
  const clusters = options.clusters;
  if (clusters && (clusters.pos.length !== nPos || clusters.neg.length !== nNeg))
    throw new Error('bootstrap clusters: one label per score is needed on each side');
  const posClusters = clusters ? groupClusters(t.posGroup, clusters.pos) : undefined;
  const negClusters = clusters ? groupClusters(t.negGroup, clusters.neg) : undefined;
  const draws = posClusters && negClusters ? clusterDraws(seed, iterations, posClusters, negClusters, options.draws) : undefined;
  const maxFpIt = new Int32Array(fprs.length);
  const cntP = new Int32Array(groups);
  const cntN = new Int32Array(groups);
  const tprBuf = new Float64Array(fprs.length);
  const aucS = new Float64Array(iterations);
  const advS = new Float64Array(iterations);
  const tprS = fprs.map(() => new Float64Array(iterations));

  for (let it = 0; it < iterations; it++) {
    cntP.fill(0);
    cntN.fill(0);
    if (posClusters && negClusters && draws) {
      const np = addDrawn(posClusters, draws.pos, it, cntP);
      const nn = addDrawn(negClusters, draws.neg, it, cntN);
      fprs.forEach((x, k) => (maxFpIt[k] = maxFpCount(x, nn)));
      const s = summarizeCounts(cntP, cntN, np, nn, maxFpIt, tprBuf);
      aucS[it] = s.auc;
      advS[it] = s.advantage;
      for (let k = 0; k < fprs.length; k++) (tprS[k] as Float64Array)[it] = s.tpr[k] as number;
      continue;
    }
    // draw order is fixed (all positives, then all negatives) so output depends only on the seed
    for (let i = 0; i < nPos; i++) {
      const g = t.posGroup[unsafeUniformIntDistribution(0, nPos - 1, rng)] as number;
      cntP[g] = (cntP[g] as number) + 1;
    }
    for (let i = 0; i < nNeg; i++) {
      const g = t.negGroup[unsafeUniformIntDistribution(0, nNeg - 1, rng)] as number;
      cntN[g] = (cntN[g] as number) + 1;
    }
    const s = summarizeCounts(cntP, cntN, nPos, nNeg, maxFp, tprBuf);
    aucS[it] = s.auc;
    advS[it] = s.advantage;
    for (let k = 0; k < fprs.length; k++) (tprS[k] as Float64Array)[it] = s.tpr[k] as number;
  }

  const tprAtFpr: Record<string, Interval> = {};
  fprs.forEach((x, k) => {
    tprAtFpr[String(x)] = interval(tprS[k] as Float64Array, level);
  });
  return {
    seed,
    iterations,
    level,
    auc: interval(aucS, level),
    tprAtFpr,
    advantage: interval(advS, level),
  };
}

/**
 * The clusters as one flat list of rank-group indices (`groups`) cut by `start` (cluster c is
 * groups[start[c]..start[c+1]]), clusters in order of first appearance. Flat rather than one small
 * array per cluster: a replicate visits every cluster once, and the flat list stays in cache.
 */
interface Clusters {
  start: Int32Array;
  groups: Int32Array;
}

function groupClusters(groupOf: ArrayLike<number>, labels: ArrayLike<string | number>): Clusters {
  const clusterOf = new Int32Array(labels.length);
  const index = new Map<string | number, number>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as string | number;
    let c = index.get(l);
    if (c === undefined) index.set(l, (c = index.size));
    clusterOf[i] = c;
  }
  const start = new Int32Array(index.size + 1);
  for (let i = 0; i < labels.length; i++) {
    const c = (clusterOf[i] as number) + 1;
    start[c] = (start[c] as number) + 1;
  }
  for (let c = 0; c < index.size; c++) start[c + 1] = (start[c + 1] as number) + (start[c] as number);
  // Members keep their order within a cluster (a counting sort by cluster).
  const next = start.slice(0, index.size);
  const groups = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const c = clusterOf[i] as number;
    groups[next[c] as number] = groupOf[i] as number;
    next[c] = (next[c] as number) + 1;
  }
  return { start, groups };
}

/**
 * The draws for `seed` (the memo's, or made now and kept in it): for each replicate, all positive
 * clusters then all negative clusters, each one of k drawn uniformly with replacement k times.
 * One byte a cluster and replicate (a count above 255, which k draws of k essentially never give,
 * falls back to two bytes): 1,000 replicates of 16,700 people are 16.7 MB.
 */
function clusterDraws(seed: number, iterations: number, pos: Clusters, neg: Clusters, memo: DrawMemo | undefined): ClusterDraws {
  const kPos = pos.start.length - 1;
  const kNeg = neg.start.length - 1;
  const key = `${seed}:${iterations}:${kPos}:${kNeg}`;
  const kept = memo?.get(key);
  if (kept) return kept;
  const made = drawAll(seed, iterations, kPos, kNeg, Uint8Array) ?? drawAll(seed, iterations, kPos, kNeg, Uint16Array)!;
  // Kept within a budget: at 100k records the retain-vs-holdout draws would add another 16.7 MB
  // beside the forget-vs-holdout ones while the per-token signals are still held; past it, they are
  // drawn again for each finding (a fraction of a second), the same draws either way.
  memo?.offer(key, made);
  return made;
}

function drawAll(seed: number, iterations: number, kPos: number, kNeg: number, Counts: Uint8ArrayConstructor | Uint16ArrayConstructor): ClusterDraws | undefined {
  const rng = seededRng(seed);
  const max = Counts === Uint8Array ? 0xff : 0xffff;
  const pos = new Counts(iterations * kPos);
  const neg = new Counts(iterations * kNeg);
  for (let it = 0; it < iterations; it++) {
    for (const [k, counts] of [[kPos, pos], [kNeg, neg]] as const) {
      const at = it * k;
      for (let i = 0; i < k; i++) {
        const c = at + unsafeUniformIntDistribution(0, k - 1, rng);
        if ((counts[c] as number) === max) return undefined; // a count 65,535 would need k that large
        counts[c] = (counts[c] as number) + 1;
      }
    }
  }
  return { pos, neg };
}

/** Replicate `it`'s drawn clusters added to the rank counts, each as many times as drawn; returns n drawn. */
function addDrawn({ start, groups }: Clusters, drawn: Uint8Array | Uint16Array, it: number, counts: Int32Array): number {
  const k = start.length - 1;
  const at = it * k;
  let n = 0;
  for (let c = 0; c < k; c++) {
    const m = drawn[at + c] as number;
    if (m === 0) continue;
    const end = start[c + 1] as number;
    for (let j = start[c] as number; j < end; j++) {
      const g = groups[j] as number;
      counts[g] = (counts[g] as number) + m;
    }
    n += m * (end - (start[c] as number));
  }
  return n;
}
