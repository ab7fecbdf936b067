/** Statistics for membership and extraction audits (DESIGN.md "Statistics conventions"). */
export { quantile } from './quantile.ts';
export { rocCurve, auc, tprAtFpr, advantage, type RocCurve } from './roc.ts';
export { ks2samp, type KsResult, type KsOptions } from './ks.ts';
export { kstwoSf, kstwoCdf, smirnovSf } from './kolmogorov.ts';
export { clopperPearson, type Interval } from './binomial.ts';
export { normalQuantile } from './normal.ts';
export { hanleyMcNeilSE, aucHalfWidth, minDetectableAuc, type PowerOptions } from './power.ts';
export {
  bootstrapMembership,
  seededRng,
  DEFAULT_FPRS,
  type BootstrapOptions,
  type BootstrapResult,
} from './bootstrap.ts';
export {
  membershipMetrics,
  type MembershipMetrics,
  type MembershipOptions,
  type Estimate,
} from './membership.ts';
export { pairedAucStatistic, pairedBootstrap, type PairedScores, type PairedOptions } from './paired.ts';
export { epsilonFromCounts, epsilonLowerBound, type EpsilonResult } from './epsilon.ts';
