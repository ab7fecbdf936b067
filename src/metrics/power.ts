/**
 * Power of an AUC test from sample sizes alone (Hanley & McNeil 1982, Radiology 143:29–36).
 * Used to say how small an effect the audit could have seen: a clean-looking result from a test
 * without power is "inconclusive", not "pass" (DESIGN.md).
 */
import { normalQuantile } from './normal.ts';
import { checkCount, checkOpenUnit } from './validate.ts';

/**
 * Standard error of an empirical AUC A with n⁺ positives and n⁻ negatives:
 * SE² = [A(1−A) + (n⁺−1)(Q1−A²) + (n⁻−1)(Q2−A²)] / (n⁺n⁻), Q1 = A/(2−A), Q2 = 2A²/(1+A).
 */
export function hanleyMcNeilSE(auc: number, nPos: number, nNeg: number): number {
  if (!(auc >= 0 && auc <= 1)) throw new Error(`hanleyMcNeilSE: auc must be in [0, 1], got ${String(auc)}`);
  checkCount(nPos, 'hanleyMcNeilSE nPos');
  checkCount(nNeg, 'hanleyMcNeilSE nNeg');
  const a2 = auc * auc;
  const q1 = auc / (2 - auc);
  const q2 = (2 * a2) / (1 + auc);
  const v = (auc * (1 - auc) + (nPos - 1) * (q1 - a2) + (nNeg - 1) * (q2 - a2)) / (nPos * nNeg);
  return Math.sqrt(Math.max(v, 0));
}

/** Half-width z·SE of a two-sided `level` interval for an AUC near 0.5 (SE evaluated at 0.5). */
export function aucHalfWidth(nPos: number, nNeg: number, level = 0.95): number {
  checkOpenUnit(level, 'aucHalfWidth level');
  return normalQuantile((1 + level) / 2) * hanleyMcNeilSE(0.5, nPos, nNeg);
}

export interface PowerOptions {
  /** One-sided significance level of the test AUC > 0.5. */
  alpha?: number;
  /** Required probability of rejecting when the true AUC is the returned value. */
  power?: number;
}

/**
 * Smallest AUC > 0.5 that a one-sided z-test of H0: AUC = 0.5 (SE from Hanley–McNeil at 0.5)
 * detects with the given power, when the estimate's SE under the alternative is H–M at that AUC:
 * solves A − 0.5 = z_{1−α}·SE(0.5) + z_{power}·SE(A) by bisection. Returns NaN when even
 * AUC = 1 is not detectable (tiny samples): the caller must then report the test as powerless.
 */
export function minDetectableAuc(nPos: number, nNeg: number, options: PowerOptions = {}): number {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  checkOpenUnit(alpha, 'minDetectableAuc alpha');
  checkOpenUnit(power, 'minDetectableAuc power');
  const crit = 0.5 + normalQuantile(1 - alpha) * hanleyMcNeilSE(0.5, nPos, nNeg);
  const zPower = normalQuantile(power);
  // margin(A) >= 0 ⇔ Pr(reject | AUC = A) >= power
  const margin = (a: number): number => a - crit - zPower * hanleyMcNeilSE(a, nPos, nNeg);
  if (margin(1) < 0) return Number.NaN;
  let lo = 0.5;
  let hi = 1;
  if (margin(lo) >= 0) return lo; // only possible for power <= 0.5-ish targets
  for (let it = 0; it < 200 && hi - lo > 1e-12; it++) {
    const mid = (lo + hi) / 2;
    if (margin(mid) >= 0) hi = mid;
    else lo = mid;
  }
  return hi;
}
