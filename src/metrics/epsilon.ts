/**
 * An empirical lower bound on the DP ε a model could satisfy, from a membership attack's errors
 * (Jagielski, Ullman, Oprea, NeurIPS 2020; Nasr et al., IEEE S&P 2021). If the training were
 * (ε, δ)-DP, every test has FPR + e^ε·FNR ≥ 1 − δ and FNR + e^ε·FPR ≥ 1 − δ, so
 *   ε_LB = max( ln((1 − δ − FPR⁺) / FNR⁺), ln((1 − δ − FNR⁺) / FPR⁺) )
 * with FPR⁺, FNR⁺ the Clopper–Pearson upper bounds. The threshold is chosen on one seeded half of the
 * scores and ε evaluated on the other, so the search over thresholds does not inflate it.
 */
import { unsafeUniformIntDistribution } from 'pure-rand';
import { clopperPearson } from './binomial.ts';
import { seededRng } from './bootstrap.ts';
import { toScores } from './validate.ts';

/** ε_LB from error counts (0 when the errors are consistent with ε = 0). */
export function epsilonFromCounts(
  fp: number,
  nNeg: number,
  fn: number,
  nPos: number,
  opts: { delta?: number; level?: number } = {},
): number {
  const delta = opts.delta ?? 0;
  const level = opts.level ?? 0.95;
  const fpr = clopperPearson(fp, nNeg, level).hi;
  const fnr = clopperPearson(fn, nPos, level).hi;
  const a = Math.log((1 - delta - fpr) / fnr);
  const b = Math.log((1 - delta - fnr) / fpr);
  const e = Math.max(a, b);
  return Number.isFinite(e) && e > 0 ? e : 0;
}

export interface EpsilonResult {
  /** ε lower bound on the held-out half (95% Clopper–Pearson, δ as given). */
  lowerBound: number;
  /** The largest ε_LB this n could show: a perfect attack on the held-out half. */
  cap: number;
  delta: number;
  /** Threshold chosen on the selection half (score ≥ threshold = member). */
  threshold: number;
  n: { positive: number; negative: number };
}

function shuffled(xs: Float64Array, rng: ReturnType<typeof seededRng>): Float64Array {
  const a = Float64Array.from(xs);
  for (let i = a.length - 1; i > 0; i--) {
    const j = unsafeUniformIntDistribution(0, i, rng);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const count = (xs: Float64Array, t: number, above: boolean) => xs.reduce((c, x) => c + ((x >= t) === above ? 1 : 0), 0);

export function epsilonLowerBound(
  pos: ArrayLike<number>,
  neg: ArrayLike<number>,
  opts: { seed: number; delta?: number; level?: number },
): EpsilonResult {
  const rng = seededRng(opts.seed);
  const p = shuffled(toScores(pos, 'positive scores'), rng);
  const q = shuffled(toScores(neg, 'negative scores'), rng);
  const hp = Math.floor(p.length / 2);
  const hq = Math.floor(q.length / 2);
  const [selP, evalP] = [p.subarray(0, hp), p.subarray(hp)];
  const [selQ, evalQ] = [q.subarray(0, hq), q.subarray(hq)];
  const delta = opts.delta ?? 0;
  const level = opts.level ?? 0.95;
  // With fewer than two scores on a side there is nothing to hold out: no bound (and no cap).
  if (selP.length === 0 || selQ.length === 0) {
    return { lowerBound: 0, cap: 0, delta, threshold: Infinity, n: { positive: evalP.length, negative: evalQ.length } };
  }
  // Candidate thresholds: every distinct selection-half score, ascending; two pointers count how many
  // of each side lie below it, so the search is O(n log n).
  const sp = Float64Array.from(selP).sort();
  const sq = Float64Array.from(selQ).sort();
  const candidates = Float64Array.from(new Set([...sp, ...sq])).sort();
  let best = Infinity;
  let bestEps = -1;
  let ip = 0;
  let iq = 0;
  for (const t of candidates) {
    while (ip < sp.length && sp[ip]! < t) ip++;
    while (iq < sq.length && sq[iq]! < t) iq++;
    // flagged = score ≥ t: false positives are negatives at or above t, false negatives positives below
    const e = epsilonFromCounts(sq.length - iq, sq.length, ip, sp.length, { delta, level });
    if (e > bestEps) (bestEps = e), (best = t);
  }
  const lowerBound = epsilonFromCounts(count(evalQ, best, true), evalQ.length, count(evalP, best, false), evalP.length, { delta, level });
  return {
    lowerBound,
    cap: epsilonFromCounts(0, evalQ.length, 0, evalP.length, { delta, level }),
    delta,
    threshold: best,
    n: { positive: evalP.length, negative: evalQ.length },
  };
}
