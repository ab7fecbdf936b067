/**
 * AUC intervals and tests without resampling: the clustered DeLong variance (DeLong, DeLong &
 * Clarke-Pearson, Biometrics 1988; for clustered data Obuchowski, Biometrics 1997), on the logit
 * scale with a t quantile on min(people⁺, people⁻) − 1 degrees of freedom.
 *
 * Why this method (README "Statistics", `npm run calibrate`): records of one person are not
 * independent, audits often have only a handful of deleted people, and a percentile bootstrap over
 * 5–12 people covers the truth only ~88–91% of the time. The clustered variance treats the person
 * as the unit; the logit scale keeps the interval inside (0, 1) and makes it asymmetric near the
 * edges; the t quantile pays for estimating the variance from few people. With no resampling there
 * is no seed: identical scores give identical intervals.
 *
 * Structural components (Obuchowski's notation): for each positive record x, V10(x) = mean over
 * negatives y of ψ(x, y) (ψ = 1 if x > y, ½ if tied, 0 else); for each negative y, V01(y) = mean over
 * positives x of ψ(x, y). Summed per cluster i (m_i positives, n_i negatives):
 *   S10 = I10 / ((I10 − 1) M) · Σ_i (V10_i − m_i A)²,   S01 = I01 / ((I01 − 1) N) · Σ_i (V01_i − n_i A)²,
 *   S11 = I / (I − 1) · Σ_i (V10_i − m_i A)(V01_i − n_i A),
 *   Var(A) = S10 / M + S01 / N + 2 S11 / (M N).
 * Without clusters (every record its own) this is DeLong's variance. For several models scored on
 * the same records the same sums with two models' components give their covariance (paired ΔAUC).
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { hanleyMcNeilSE } from './power.ts';
import { normalQuantile } from './normal.ts';
import { checkOpenUnit, toScores } from './validate.ts';

/**
 * Fewest people on either side for which an AUC interval is given. With 2 or fewer, no method can
 * keep a 95% promise: even perfect separation of 2 vs 2 happens by chance with probability 1/6.
 * The calibration simulation shows the logit-t interval at ≥ 93% coverage from 3 per side up.
 */
export const MIN_PEOPLE = 3;

export interface ScoresWithClusters {
  pos: ArrayLike<number>;
  neg: ArrayLike<number>;
}

export interface ClusterLabels {
  pos: ArrayLike<string | number>;
  neg: ArrayLike<string | number>;
}

/** Per-model AUCs and their covariance matrix under the clustered DeLong model. */
export interface DelongResult {
  aucs: number[];
  /** K × K covariance of the AUCs (row-major). */
  cov: number[][];
  /** Records and clusters (people) on each side. */
  n: { positive: number; negative: number };
  people: { positive: number; negative: number };
}

/** V10 (per positive) and V01 (per negative) for one model, and its AUC. O((M + N) log(M + N)). */
function components(pos: Float64Array, neg: Float64Array): { v10: Float64Array; v01: Float64Array; auc: number } {
  const sortedNeg = Float64Array.from(neg).sort();
  const sortedPos = Float64Array.from(pos).sort();
  // count of values < x and ≤ x in an ascending array
  const below = (a: Float64Array, x: number, orEqual: boolean): number => {
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < x || (orEqual && a[mid]! === x)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const M = pos.length;
  const N = neg.length;
  const v10 = new Float64Array(M);
  const v01 = new Float64Array(N);
  let sum = 0;
  for (let i = 0; i < M; i++) {
    const lt = below(sortedNeg, pos[i]!, false);
    const le = below(sortedNeg, pos[i]!, true);
    v10[i] = (lt + 0.5 * (le - lt)) / N;
    sum += v10[i]!;
  }
  for (let j = 0; j < N; j++) {
    // positives above y, ties ½
    const le = below(sortedPos, neg[j]!, true);
    const lt = below(sortedPos, neg[j]!, false);
    v01[j] = (M - le + 0.5 * (le - lt)) / M;
  }
  return { v10, v01, auc: sum / M };
}

/**
 * AUCs of K models scored on the same records, with the clustered DeLong covariance. `clusters`
 * labels each positive and negative record with its person (a person may appear on both sides);
 * without it every record is its own cluster.
 */
export function clusteredDelong(models: ScoresWithClusters[], clusters?: ClusterLabels): DelongResult {
  if (models.length === 0) throw new Error('clusteredDelong: no models');
  const M = models[0]!.pos.length;
  const N = models[0]!.neg.length;
  if (models.some((m) => m.pos.length !== M || m.neg.length !== N)) throw new Error('clusteredDelong: every model must score the same records');
  if (clusters && (clusters.pos.length !== M || clusters.neg.length !== N)) throw new Error('clusteredDelong: one cluster label per score is needed on each side');
  const comps = models.map((m) => components(toScores(m.pos, 'positive scores'), toScores(m.neg, 'negative scores')));
  // cluster index of every record; clusters numbered in order of first appearance
  const index = new Map<string, number>();
  const idOf = (side: 'p' | 'n', i: number): number => {
    const label = clusters ? `c:${String((side === 'p' ? clusters.pos : clusters.neg)[i])}` : `${side}:${i}`;
    let k = index.get(label);
    if (k === undefined) index.set(label, (k = index.size));
    return k;
  };
  const posC = Int32Array.from({ length: M }, (_, i) => idOf('p', i));
  const negC = Int32Array.from({ length: N }, (_, j) => idOf('n', j));
  const I = index.size;
  const m = new Float64Array(I);
  const n = new Float64Array(I);
  for (const c of posC) m[c]! += 1;
  for (const c of negC) n[c]! += 1;
  let I10 = 0;
  let I01 = 0;
  for (let c = 0; c < I; c++) {
    if (m[c]! > 0) I10++;
    if (n[c]! > 0) I01++;
  }
  // centred cluster sums per model: d10[k][c] = V10_c − m_c A_k, d01 likewise
  const d10 = comps.map((x) => {
    const d = new Float64Array(I);
    for (let i = 0; i < M; i++) d[posC[i]!]! += x.v10[i]!;
    for (let c = 0; c < I; c++) d[c]! -= m[c]! * x.auc;
    return d;
  });
  const d01 = comps.map((x) => {
    const d = new Float64Array(I);
    for (let j = 0; j < N; j++) d[negC[j]!]! += x.v01[j]!;
    for (let c = 0; c < I; c++) d[c]! -= n[c]! * x.auc;
    return d;
  });
  const K = models.length;
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let c = 0; c < I; c++) s += a[c]! * b[c]!;
    return s;
  };
  const cov = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let r = 0; r < K; r++) {
    for (let s = r; s < K; s++) {
      const s10 = I10 > 1 ? (I10 / ((I10 - 1) * M)) * dot(d10[r]!, d10[s]!) : 0;
      const s01 = I01 > 1 ? (I01 / ((I01 - 1) * N)) * dot(d01[r]!, d01[s]!) : 0;
      // only clusters with records on both sides contribute (elsewhere one factor is 0)
      const s11 = I > 1 ? (I / (I - 1)) * (dot(d10[r]!, d01[s]!) + dot(d10[s]!, d01[r]!)) : 0;
      const v = s10 / M + s01 / N + s11 / (M * N);
      cov[r]![s] = v;
      cov[s]![r] = v;
    }
  }
  return { aucs: comps.map((x) => x.auc), cov, n: { positive: M, negative: N }, people: { positive: I10, negative: I01 } };
}

/** What a gate needs to test any threshold against one AUC, stored with the finding. */
export interface AucInference {
  method: 'clustered-delong-logit-t';
  auc: number;
  /** Standard error of the AUC (clustered DeLong; Hanley–McNeil over people when it is 0). */
  se: number;
  /** Degrees of freedom of the t quantile: min(people⁺, people⁻) − 1. */
  df: number;
  people: { positive: number; negative: number };
  /** False below MIN_PEOPLE on either side: no interval is given. */
  estimable: boolean;
}

/** One AUC's inference from the clustered DeLong variance (see the module comment). */
export function aucInference(auc: number, variance: number, people: { positive: number; negative: number }): AucInference {
  const estimable = people.positive >= MIN_PEOPLE && people.negative >= MIN_PEOPLE;
  let se = Math.sqrt(Math.max(variance, 0));
  // A zero variance (every score tied, or perfect separation) is not certainty: fall back to
  // Hanley–McNeil's SE over people, which is > 0 everywhere but at the edges.
  if (!(se > 0) && estimable) se = hanleyMcNeilSE(auc, people.positive, people.negative);
  return { method: 'clustered-delong-logit-t', auc, se, df: Math.max(1, Math.min(people.positive, people.negative) - 1), people, estimable };
}

const logit = (p: number) => Math.log(p / (1 - p));
const expit = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The AUC a perfect separation of m vs n people supports: the smallest A whose Hanley–McNeil
 * interval still reaches 1, i.e. A + z·SE_HM(A; m, n) = 1 (about 0.643 for 5 vs 5 at z = 1.96,
 * 0.832 for 12, 0.933 for 30). Used instead of a zero-width [1, 1].
 */
export function separationBound(m: number, n: number, z: number): number {
  let lo = 0.5;
  let hi = 1;
  for (let it = 0; it < 200 && hi - lo > 1e-12; it++) {
    const mid = (lo + hi) / 2;
    if (mid + z * hanleyMcNeilSE(mid, m, n) >= 1) hi = mid;
    else lo = mid;
  }
  return lo;
}

/** Two-sided interval at `level`; null when not estimable (too few people). */
export function aucInterval(inf: AucInference, level = 0.95): { lo: number; hi: number } | null {
  checkOpenUnit(level, 'aucInterval level');
  if (!inf.estimable) return null;
  const q = (1 + level) / 2;
  if (inf.auc >= 1 || inf.auc <= 0) {
    const b = separationBound(inf.people.positive, inf.people.negative, normalQuantile(q));
    return inf.auc >= 1 ? { lo: b, hi: 1 } : { lo: 0, hi: 1 - b };
  }
  const t = tQuantile(q, inf.df);
  const l = logit(inf.auc);
  const s = inf.se / (inf.auc * (1 - inf.auc));
  return { lo: expit(l - t * s), hi: expit(l + t * s) };
}

/**
 * One-sided p-value of "the true AUC is on the other side of θ": side 'above' tests H0: AUC ≤ θ
 * (small p = evidence the AUC exceeds θ), 'below' tests H0: AUC ≥ θ. Consistent with aucInterval:
 * the level-L interval lies wholly above θ exactly when p_above < (1 − L)/2. NaN when not estimable.
 */
export function aucPValue(inf: AucInference, theta: number, side: 'above' | 'below'): number {
  if (!inf.estimable) return Number.NaN;
  if (theta <= 0) return side === 'above' ? (inf.auc > 0 ? 0 : 1) : 1;
  if (theta >= 1) return side === 'below' ? (inf.auc < 1 ? 0 : 1) : 1;
  if (inf.auc >= 1 || inf.auc <= 0) {
    // at a perfect separation, the Hanley–McNeil model behind separationBound
    const se = hanleyMcNeilSE(theta, inf.people.positive, inf.people.negative);
    const z = (inf.auc - theta) / se;
    return side === 'above' ? 1 - normalCdf(z, 0, 1) : normalCdf(z, 0, 1);
  }
  const s = inf.se / (inf.auc * (1 - inf.auc));
  const t = (logit(inf.auc) - logit(theta)) / s;
  return side === 'above' ? 1 - tCdf(t, inf.df) : tCdf(t, inf.df);
}

/** A difference (or any smooth function) of paired AUCs on the raw scale, with a t interval. */
export interface DeltaInference {
  value: number;
  se: number;
  df: number;
  estimable: boolean;
}

export function deltaInterval(d: DeltaInference, level: number): { lo: number; hi: number } | null {
  checkOpenUnit(level, 'deltaInterval level');
  if (!d.estimable) return null;
  const t = tQuantile((1 + level) / 2, d.df);
  return { lo: d.value - t * d.se, hi: d.value + t * d.se };
}

/** One-sided p-value for H0: Δ ≤ θ ('above') or H0: Δ ≥ θ ('below'). */
export function deltaPValue(d: DeltaInference, theta: number, side: 'above' | 'below'): number {
  if (!d.estimable) return Number.NaN;
  if (!(d.se > 0)) return (side === 'above' ? d.value > theta : d.value < theta) ? 0 : 1;
  const t = (d.value - theta) / d.se;
  return side === 'above' ? 1 - tCdf(t, d.df) : tCdf(t, d.df);
}

/**
 * Paired comparison of two models on the same people: Δ = A₁ − A₀ (kind 'difference') or
 * (A₁ − A₀)/A₀ (MUSE PrivLeak, kind 'ratio', by the delta method), with the clustered DeLong
 * covariance. `models[0]` is the baseline (e.g. retrained), `models[1]` the model under test.
 */
export function pairedDelta(r: DelongResult, kind: 'difference' | 'ratio'): DeltaInference {
  const [a0, a1] = r.aucs as [number, number];
  const v00 = r.cov[0]![0]!;
  const v11 = r.cov[1]![1]!;
  const v01 = r.cov[0]![1]!;
  const estimable = r.people.positive >= MIN_PEOPLE && r.people.negative >= MIN_PEOPLE;
  const df = Math.max(1, Math.min(r.people.positive, r.people.negative) - 1);
  if (kind === 'difference') {
    // Identical scores on both models give Δ = 0 on every resample of people: a variance of 0 is
    // then exact, not an artefact (unlike a single AUC's at perfect separation).
    return { value: a1 - a0, se: Math.sqrt(roundoff(v11 + v00 - 2 * v01, Math.max(v00, v11))), df, estimable };
  }
  // gradient of (a1 − a0)/a0 = a1/a0 − 1: (−a1/a0², 1/a0)
  const g0 = -a1 / (a0 * a0);
  const g1 = 1 / a0;
  const v = g0 * g0 * v00 + g1 * g1 * v11 + 2 * g0 * g1 * v01;
  return { value: a1 / a0 - 1, se: Math.sqrt(roundoff(v, g0 * g0 * v00 + g1 * g1 * v11)), df, estimable };
}

/** A variance that is a difference of near-equal terms: below rounding error of `scale`, it is 0. */
function roundoff(v: number, scale: number): number {
  return v > 1e-12 * scale ? v : 0;
}
