/** One call producing every membership number the report needs, each with n and an interval. */
import { bootstrapMembership, DEFAULT_FPRS, type BootstrapOptions } from './bootstrap.ts';
import { ks2samp, type KsResult } from './ks.ts';
import { maxFpCount, rankTable, summarizeCounts } from './roc.ts';

export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

export interface MembershipMetrics {
  n: { positive: number; negative: number };
  auc: Estimate;
  /** Keyed by String(fpr): "0.001", "0.01", "0.1" by default. */
  tprAtFpr: Record<string, Estimate>;
  advantage: Estimate;
  ks: KsResult;
}

/** The bootstrap's options: seed, iterations, level, FPRs and optional cluster labels (see bootstrap.ts). */
export type MembershipOptions = BootstrapOptions;

/**
 * Point estimates from all the data, percentile intervals from the stratified bootstrap, and a
 * two-sample KS test of member vs non-member scores. Throws on empty input or NaN scores.
 */
export function membershipMetrics(
  pos: ArrayLike<number>,
  neg: ArrayLike<number>,
  options: MembershipOptions,
): MembershipMetrics {
  const fprs = options.fprs ?? DEFAULT_FPRS;
  const boot = bootstrapMembership(pos, neg, { ...options, fprs }); // validates everything first
  const t = rankTable(pos, neg);
  const nPos = t.posGroup.length;
  const nNeg = t.negGroup.length;
  const point = summarizeCounts(
    t.posCount,
    t.negCount,
    nPos,
    nNeg,
    fprs.map((x) => maxFpCount(x, nNeg)),
  );
  const tprAtFpr: Record<string, Estimate> = {};
  fprs.forEach((x, k) => {
    const key = String(x);
    const ci = boot.tprAtFpr[key];
    if (!ci) throw new Error(`internal: no bootstrap interval for FPR ${key}`);
    tprAtFpr[key] = { value: point.tpr[k] as number, lo: ci.lo, hi: ci.hi };
  });
  return {
    n: { positive: nPos, negative: nNeg },
    auc: { value: point.auc, ...boot.auc },
    tprAtFpr,
    advantage: { value: point.advantage, ...boot.advantage },
    ks: ks2samp(pos, neg),
  };
}
