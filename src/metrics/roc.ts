/**
 * ROC, AUC, TPR at a fixed FPR and membership advantage.
 * Convention (DESIGN.md "Statistics conventions"): higher score = member (positive);
 * ROC as scikit-learn's roc_curve(drop_intermediate=False); AUC = Mann–Whitney U/(n⁺n⁻), ties ½.
 */
import { toScores } from './validate.ts';

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

/**
 * Scores grouped by distinct value, in descending order. Everything downstream (ROC, AUC, the
 * bootstrap) only needs how many positives/negatives sit at each rank, so we sort once here.
 * @internal
 */
export interface RankTable {
  /** Distinct scores, descending (ties between 0 and -0 are one group, as in numpy). */
  values: Float64Array;
  /** Rank group of each positive / negative, in input order. */
  posGroup: Int32Array;
  negGroup: Int32Array;
  /** How many positives / negatives fall in each group. */
  posCount: Int32Array;
  negCount: Int32Array;
}

/** @internal */
export function rankTable(pos: ArrayLike<number>, neg: ArrayLike<number>): RankTable {
  const p = toScores(pos, 'positive scores');
  const q = toScores(neg, 'negative scores');
  const all = new Float64Array(p.length + q.length);
  all.set(p);
  all.set(q, p.length);
  all.sort(); // typed-array sort is numeric and ascending
  const distinct: number[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const v = all[i] as number;
    if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
  }
  const values = Float64Array.from(distinct);
  const groupOf = (v: number): number => {
    // binary search in the descending array; every v is present
    let lo = 0;
    let hi = values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[mid] as number) > v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const posGroup = new Int32Array(p.length);
  const negGroup = new Int32Array(q.length);
  const posCount = new Int32Array(values.length);
  const negCount = new Int32Array(values.length);
  for (let i = 0; i < p.length; i++) {
    const g = groupOf(p[i] as number);
    posGroup[i] = g;
    posCount[g] = (posCount[g] as number) + 1;
  }
  for (let i = 0; i < q.length; i++) {
    const g = groupOf(q[i] as number);
    negGroup[i] = g;
    negCount[g] = (negCount[g] as number) + 1;
  }
  return { values, posGroup, negGroup, posCount, negCount };
}

/**
 * Largest false-positive count f (0..nNeg) with f/nNeg <= x, using the same floating-point
 * division sklearn uses for fpr, so "FPR <= x" is decided exactly as in the oracle.
 * @internal
 */
export function maxFpCount(x: number, nNeg: number): number {
  let f = Math.min(nNeg, Math.max(0, Math.floor(x * nNeg)));
  while (f < nNeg && (f + 1) / nNeg <= x) f++;
  while (f > 0 && f / nNeg > x) f--;
  return f;
}

/** @internal */
export interface CountSummary {
  auc: number;
  advantage: number;
  /** TPR at each requested FPR cap, in the order of the maxFp array given. */
  tpr: Float64Array;
}

/**
 * One pass over rank groups (descending score) computing AUC, advantage and TPR@FPR from
 * per-group counts. Groups with zero counts add no ROC point (a repeated point changes no max).
 * @internal
 */
export function summarizeCounts(
  posCount: ArrayLike<number>,
  negCount: ArrayLike<number>,
  nPos: number,
  nNeg: number,
  maxFp: ArrayLike<number>,
  tprOut: Float64Array = new Float64Array(maxFp.length),
): CountSummary {
  let tp = 0;
  let fp = 0;
  let twiceU = 0; // 2·U stays an exact integer in float64 for n⁺n⁻ < 2^52
  let adv = 0; // the (0,0) point gives TPR−FPR = 0
  // The bootstrap calls this a thousand times per finding, so two shortcuts, neither changing a bit:
  // - TPR−FPR is divided out only where tp·n⁻ − fp·n⁺ (an exact integer) reaches its running
  //   maximum: any other point is below the best by at least 1/(n⁺n⁻), far more than the two
  //   divisions' rounding when n⁺n⁻ ≤ 2^40 (beyond that, every point is divided, as before);
  // - TPR@FPR keeps the last qualifying tp and divides once at the end; past the largest cap, no
  //   point can qualify (fp only grows).
  let best = 0;
  const exact = nPos * nNeg <= 2 ** 40;
  const k = maxFp.length;
  let cap = -1;
  for (let j = 0; j < k; j++) {
    cap = Math.max(cap, maxFp[j] as number);
    tprOut[j] = -1; // no qualifying point yet: the (0,0) point's TPR 0
  }
  const groups = posCount.length;
  for (let g = 0; g < groups; g++) {
    const cp = posCount[g] as number;
    const cn = negCount[g] as number;
    // An empty group (most of a bootstrap replicate's) changes nothing but the TPR@FPR points, which
    // skip it; no early branch for it, which random draws would make unpredictable.
    // positives here beat every negative ranked lower, tie with those in the same group
    twiceU += cp * (2 * (nNeg - fp - cn) + cn);
    tp += cp;
    fp += cn;
    const num = tp * nNeg - fp * nPos;
    if (!exact || num >= best) {
      if (num > best) best = num;
      const d = tp / nPos - fp / nNeg;
      if (d > adv) adv = d;
    }
    if (fp <= cap && (cp !== 0 || cn !== 0)) for (let j = 0; j < k; j++) if (fp <= (maxFp[j] as number)) tprOut[j] = tp;
  }
  for (let j = 0; j < k; j++) tprOut[j] = (tprOut[j] as number) < 0 ? 0 : (tprOut[j] as number) / nPos;
  return { auc: twiceU / (2 * nPos * nNeg), advantage: adv, tpr: tprOut };
}

/** scikit-learn roc_curve(y, score, drop_intermediate=False), first point (0,0) at +Infinity. */
export function rocCurve(pos: ArrayLike<number>, neg: ArrayLike<number>): RocCurve {
  const t = rankTable(pos, neg);
  const nPos = t.posGroup.length;
  const nNeg = t.negGroup.length;
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Number.POSITIVE_INFINITY];
  let tp = 0;
  let fp = 0;
  for (let g = 0; g < t.values.length; g++) {
    tp += t.posCount[g] as number;
    fp += t.negCount[g] as number;
    fpr.push(fp / nNeg);
    tpr.push(tp / nPos);
    thresholds.push(t.values[g] as number);
  }
  return { fpr, tpr, thresholds };
}

/** Mann–Whitney U/(n⁺n⁻): P(score⁺ > score⁻) + ½·P(tie). Equals sklearn's roc_auc_score. */
export function auc(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  const t = rankTable(pos, neg);
  return summarizeCounts(t.posCount, t.negCount, t.posGroup.length, t.negGroup.length, []).auc;
}

function checkFpr(x: number): void {
  if (!(x >= 0 && x <= 1)) throw new Error(`FPR cap must be in [0, 1], got ${String(x)}`);
}

/** Largest TPR over ROC points whose FPR <= x (the (0,0) point always qualifies). */
export function tprAtFpr(pos: ArrayLike<number>, neg: ArrayLike<number>, x: number): number {
  checkFpr(x);
  const t = rankTable(pos, neg);
  const nNeg = t.negGroup.length;
  const s = summarizeCounts(t.posCount, t.negCount, t.posGroup.length, nNeg, [maxFpCount(x, nNeg)]);
  return s.tpr[0] as number;
}

/** Membership advantage: max over ROC points of TPR − FPR (Yeom et al.), always >= 0. */
export function advantage(pos: ArrayLike<number>, neg: ArrayLike<number>): number {
  const t = rankTable(pos, neg);
  return summarizeCounts(t.posCount, t.negCount, t.posGroup.length, t.negGroup.length, []).advantage;
}

/** @internal shared by membershipMetrics and the bootstrap */
export { checkFpr };
