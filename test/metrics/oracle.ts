/** Loads the shared scikit-learn/SciPy oracle: always <repo>/../shared/oracles/metrics.json. */
import { readFileSync } from 'node:fs';

export interface MembershipCase {
  name: string;
  positives: number[];
  negatives: number[];
  expected: {
    auc: number;
    tprAtFpr: Record<string, number>;
    advantage: number;
    ks: { statistic: number; pvalue: number };
  };
}

export interface ClopperPearsonCase {
  k: number;
  n: number;
  level: number;
  lo: number;
  hi: number;
}

export interface MetricsOracle {
  generatedBy: string;
  conventions: string;
  membership: MembershipCase[];
  clopperPearson: ClopperPearsonCase[];
}

export const oracle: MetricsOracle = JSON.parse(
  readFileSync(new URL('../../../shared/oracles/metrics.json', import.meta.url), 'utf8'),
) as MetricsOracle;

/** |actual − expected| <= tol·|expected| (exact equality also accepted, e.g. both 0). */
export function relErr(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}
