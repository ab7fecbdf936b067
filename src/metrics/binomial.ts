/** Exact (Clopper–Pearson) binomial confidence interval, for extraction rates and TPR/FPR at a threshold. */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import { checkOpenUnit } from './validate.ts';

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * Two-sided Clopper–Pearson interval for k successes in n trials: the beta quantiles
 * B(α/2; k, n−k+1) and B(1−α/2; k+1, n−k), with lo = 0 at k = 0 and hi = 1 at k = n
 * (statsmodels proportion_confint(method='beta')).
 */
export function clopperPearson(k: number, n: number, level = 0.95): Interval {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`clopperPearson: n must be an integer >= 1, got ${String(n)}`);
  if (!Number.isSafeInteger(k) || k < 0 || k > n) throw new Error(`clopperPearson: k must be an integer in [0, n], got ${String(k)}`);
  checkOpenUnit(level, 'clopperPearson level');
  const alpha = 1 - level;
  const lo = k === 0 ? 0 : betaQuantile(alpha / 2, k, n - k + 1);
  const hi = k === n ? 1 : betaQuantile(1 - alpha / 2, k + 1, n - k);
  return { lo, hi };
}
