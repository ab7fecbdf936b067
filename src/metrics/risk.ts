/**
 * Anonymeter's statistics (Giomi et al., PoPETs 2023 (2) §3.2 and §4; `stats/confidence.py`): an
 * attack's success rate is the centre of the Wilson score interval, with its half-width as the error;
 * the residual (privacy) risk of an attack guided by the synthetic data is its success on the
 * generator's training records beyond what the same attack achieves on control records that the
 * generator never saw, R = (r_attack − r_control) / (1 − r_control), with the error propagated from
 * both rates; the reported risk and its interval are clipped to [0, 1].
 */
import { normalQuantile } from './normal.ts';

export interface SuccessRate {
  /** Successes and attacks. */
  k: number;
  n: number;
  /** Wilson centre (k + z²/2)/(n + z²), not k/n. */
  rate: number;
  /** Wilson half-width z/(n + z²)·√(k(n − k)/n + z²/4). */
  error: number;
}

export interface ResidualRisk {
  /** clip(R, 0, 1). */
  value: number;
  /** clip(R ∓ dR, 0, 1). */
  lo: number;
  hi: number;
  /** R and dR before clipping (R may be negative: control did better than the attack). */
  raw: number;
  error: number;
  level: number;
}

const clip = (x: number) => Math.min(1, Math.max(0, x));

/** z for a two-sided interval at `level` (0.95 → 1.959964). */
export const zFor = (level: number) => normalQuantile((1 + level) / 2);

export function successRate(k: number, n: number, level = 0.95): SuccessRate {
  if (!(n > 0) || k < 0 || k > n) throw new RangeError(`success rate needs 0 <= k <= n and n > 0 (k = ${k}, n = ${n})`);
  const z = zFor(level);
  const z2 = z * z;
  return { k, n, rate: (k + z2 / 2) / (n + z2), error: (z / (n + z2)) * Math.sqrt((k * (n - k)) / n + z2 / 4) };
}

/**
 * Residual risk of the attack beyond control; undefined when control succeeded every time
 * (1 − r_control = 0: the attack learns nothing specific to members that control does not show).
 */
export function residualRisk(attack: SuccessRate, control: SuccessRate, level = 0.95): ResidualRisk | undefined {
  const denom = 1 - control.rate;
  if (!(denom > 0)) return undefined;
  const raw = (attack.rate - control.rate) / denom;
  const error = Math.sqrt((attack.error / Math.abs(denom)) ** 2 + ((control.error * (attack.rate - 1)) / (denom * denom)) ** 2);
  return { value: clip(raw), lo: clip(raw - error), hi: clip(raw + error), raw, error, level };
}

/** Without control: the attack's own rate as the risk (Anonymeter's fallback), which is not separable from population inference. */
export function rateAsRisk(attack: SuccessRate, level = 0.95): ResidualRisk {
  return { value: clip(attack.rate), lo: clip(attack.rate - attack.error), hi: clip(attack.rate + attack.error), raw: attack.rate, error: attack.error, level };
}
