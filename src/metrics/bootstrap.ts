/**
 * Seeded, stratified percentile bootstrap for AUC, TPR@FPR and advantage.
 * Positives and negatives are resampled separately with replacement (keeps n⁺/n⁻ fixed, as the
 * audit's design fixes them). Scores are ranked once; each replicate only redraws how many copies
 * of each rank it holds, so an iteration costs O(n⁺ + n⁻ + distinct scores) with no sorting.
 */
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { quantile } from './quantile.ts';
import { checkFpr, maxFpCount, rankTable, summarizeCounts } from './roc.ts';
import { checkCount, checkOpenUnit } from './validate.ts';
import type { Interval } from './binomial.ts';

export const DEFAULT_FPRS: readonly number[] = [0.001, 0.01, 0.1];

export interface BootstrapOptions {
  /** Any safe integer; the same seed gives bit-identical output. */
  seed: number;
  iterations?: number;
  level?: number;
  fprs?: readonly number[];
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
  const cntP = new Int32Array(groups);
  const cntN = new Int32Array(groups);
  const tprBuf = new Float64Array(fprs.length);
  const aucS = new Float64Array(iterations);
  const advS = new Float64Array(iterations);
  const tprS = fprs.map(() => new Float64Array(iterations));

  for (let it = 0; it < iterations; it++) {
    cntP.fill(0);
    cntN.fill(0);
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
