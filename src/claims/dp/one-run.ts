/**
 * Privacy auditing with one training run (Steinke, Nasr, Jagielski, NeurIPS 2023, arXiv 2305.08846):
 * m canaries, each included in training independently with probability ½ by the auditor; after
 * training the auditor guesses "in" for r canaries and counts v correct guesses. Under (ε, δ)-DP the
 * number of correct guesses is stochastically dominated as in the paper's Theorem 5.2 / Corollary 5.4
 * (App. D code), with q = e^ε / (1 + e^ε):
 *   β(ε) = P[Binomial(r, q) ≥ v]
 *   α(ε) = max_{i=1..v} (1/i) · P[v − i ≤ Binomial(r, q) < v]
 *   p(ε, δ) = min(1, β + α · δ · 2m)
 * ε_LB at confidence 1 − p* is the largest ε with p(ε, δ) < p* (found by doubling, then bisection;
 * the lower end is returned, so the bound is conservative).
 *
 * Guessing rule: jax_privacy's `CanaryScoreAuditor.epsilon_one_run` with `Split` (one-sided: score ≥ t
 * → "in", abstain otherwise): the threshold t is chosen on a seeded half of the canaries and the bound
 * computed on the other half, so searching for t does not invalidate p.
 */
import betaCdf from '@stdlib/stats-base-dists-beta-cdf';
import { unsafeUniformIntDistribution } from 'pure-rand';
import { seededRng } from '../../metrics/bootstrap.ts';

/** P[Binomial(n, p) ≥ k]. */
export function binomialSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // P[X ≥ k] = I_p(k, n − k + 1), the regularised incomplete beta function.
  return betaCdf(p, k, n - k + 1);
}

const logistic = (e: number) => 1 / (1 + Math.exp(-e));

/** The paper's p-value for v correct out of r guesses among m canaries, against (ε, δ)-DP. */
export function oneRunPValue(m: number, r: number, v: number, epsilon: number, delta: number): number {
  const q = logistic(epsilon);
  if (q >= 1) return 1; // ε so large that every guess is expected correct: nothing rejects it
  const beta = binomialSf(v, r, q);
  if (delta === 0) return beta;
  // P[v − i ≤ X < v] = Σ_{k=v−i}^{v−1} pmf(k): one pmf by logs, the rest by the ratio recurrence
  // pmf(k − 1) = pmf(k) · k/(r − k + 1) · (1 − q)/q, so the max over i costs O(v).
  let alpha = 0;
  if (v >= 1) {
    const k0 = v - 1;
    let logC = 0;
    for (let j = 1; j <= Math.min(k0, r - k0); j++) logC += Math.log(r - Math.min(k0, r - k0) + j) - Math.log(j);
    // In logs: pmf(v − 1) may underflow while the terms nearer the mode do not.
    let logPmf = logC + k0 * Math.log(q) + (r - k0) * Math.log1p(-q);
    let logCum = -Infinity;
    const step = Math.log1p(-q) - Math.log(q);
    for (let i = 1; i <= v; i++) {
      const k = v - i;
      logCum = logCum === -Infinity ? logPmf : Math.max(logCum, logPmf) + Math.log1p(Math.exp(-Math.abs(logCum - logPmf)));
      alpha = Math.max(alpha, Math.exp(logCum - Math.log(i)));
      if (k > 0) logPmf += Math.log(k) - Math.log(r - k + 1) + step;
    }
  }
  return Math.min(1, beta + alpha * delta * 2 * m);
}

/** The largest ε whose (ε, δ) claim the counts reject at significance p* (0 when none is). */
export function oneRunEpsilon(m: number, r: number, v: number, delta: number, significance = 0.05): number {
  for (const [x, what] of [[m, 'm'], [r, 'r'], [v, 'v']] as const) {
    if (!Number.isSafeInteger(x) || x < 0) throw new Error(`oneRunEpsilon: ${what} must be a non-negative integer, got ${x}`);
  }
  if (v > r || r > m) throw new Error(`oneRunEpsilon: need v ≤ r ≤ m, got v=${v}, r=${r}, m=${m}`);
  const rejects = (e: number) => oneRunPValue(m, r, v, e, delta) < significance;
  if (r === 0 || !rejects(0)) return 0;
  let lo = 0;
  let hi = 1;
  while (rejects(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e4) return lo;
  }
  for (let k = 0; k < 40; k++) {
    const mid = (lo + hi) / 2;
    if (rejects(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface OneRunAudit {
  /** ε lower bound at 1 − significance on the audit half. */
  lowerBound: number;
  /** The largest ε this audit could have shown: a perfect attack guessing every included audit canary. */
  ceiling: number;
  /** p(ε_claimed, δ): small = evidence against the claim (present when a claim was given). */
  pValueAtClaim?: number;
  significance: number;
  delta: number;
  /** Canaries in the audit half (the m of the test), guesses made (r) and correct (v). */
  m: number;
  guesses: number;
  correct: number;
  /** Included canaries in the audit half. */
  included: number;
  /** Canaries used to choose the threshold, and the threshold (score ≥ threshold → "in"). */
  thresholdCanaries: number;
  threshold: number;
}

function bestThreshold(scores: Float64Array, inc: Uint8Array, delta: number, significance: number): number {
  // Candidate thresholds: every score; counts by a descending sweep.
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  let best = Infinity;
  let bestEps = 0;
  let bestPrecision = 0.5;
  let guesses = 0;
  let correct = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    guesses++;
    correct += inc[i]!;
    // Ties: the threshold admits every canary with the same score, so evaluate only at the last of a run.
    if (k + 1 < order.length && scores[order[k + 1]!] === scores[i]) continue;
    // A threshold whose precision is no better than what the best ε already implies cannot beat it.
    if (correct / guesses <= bestPrecision) continue;
    const e = oneRunEpsilon(scores.length, guesses, correct, delta, significance);
    if (e > bestEps) (bestEps = e), (best = scores[i]!), (bestPrecision = logistic(e));
  }
  return best;
}

/**
 * The one-run audit of canary scores (higher = more likely included) with a seeded threshold split.
 * `included[i]` is 1 when canary i was included in training, by the sealed manifest.
 */
export function oneRunAudit(
  scores: ArrayLike<number>,
  included: ArrayLike<number>,
  opts: { seed: number; delta: number; significance?: number; claimedEpsilon?: number; thresholdFraction?: number },
): OneRunAudit {
  const n = scores.length;
  if (included.length !== n) throw new Error('oneRunAudit: scores and inclusion bits differ in length');
  const significance = opts.significance ?? 0.05;
  const rng = seededRng(opts.seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = unsafeUniformIntDistribution(0, i, rng);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const cut = Math.floor(n * (opts.thresholdFraction ?? 0.5));
  const pick = (ids: number[]) => ({ s: Float64Array.from(ids, (i) => scores[i]!), b: Uint8Array.from(ids, (i) => (included[i] ? 1 : 0)) });
  const sel = pick(idx.slice(0, cut));
  const aud = pick(idx.slice(cut));
  const threshold = sel.s.length > 0 ? bestThreshold(sel.s, sel.b, opts.delta, significance) : Infinity;
  let guesses = 0;
  let correct = 0;
  let inc = 0;
  for (let i = 0; i < aud.s.length; i++) {
    inc += aud.b[i]!;
    if (aud.s[i]! >= threshold) (guesses++, (correct += aud.b[i]!));
  }
  const m = aud.s.length;
  return {
    lowerBound: oneRunEpsilon(m, guesses, correct, opts.delta, significance),
    ceiling: oneRunEpsilon(m, inc, inc, opts.delta, significance),
    ...(opts.claimedEpsilon !== undefined ? { pValueAtClaim: oneRunPValue(m, guesses, correct, opts.claimedEpsilon, opts.delta) } : {}),
    significance,
    delta: opts.delta,
    m,
    guesses,
    correct,
    included: inc,
    thresholdCanaries: sel.s.length,
    threshold,
  };
}
