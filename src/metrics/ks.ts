/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, reproducing scipy.stats.ks_2samp of SciPy 1.10
 * (the oracle's version). method 'auto': exact p-value when max(n1, n2) <= 10000, else the
 * Kolmogorov distribution kstwo.sf(D, round(n1·n2/(n1+n2))); an exact attempt that fails also
 * falls back to it. Exact algorithms follow Hodges (1958) and, for n1 ≠ n2, Viehmann (2021,
 * arXiv:2102.08037), which recurses on 1 − p directly so tiny p-values keep their precision;
 * the dispatch mirrors SciPy's _attempt_exact_2kssamp (BSD-3-Clause). Own code, not a copy.
 */
import { kstwoSf } from './kolmogorov.ts';
import { toScores } from './validate.ts';

export interface KsResult {
  statistic: number;
  pvalue: number;
}

export interface KsOptions {
  /** 'auto' (default) as SciPy; 'exact' forces the exact attempt; 'asymp' skips it. */
  method?: 'auto' | 'exact' | 'asymp';
}

const MAX_AUTO_N = 10000;
const INT32_MAX = 2147483647;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** numpy.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Pr(D_{n,n} >= h/n) for equal sample sizes: 2·Σ_k (−1)^k C(2n, n−(k+1)h)/C(2n, n), each term a
 * ratio of h simple factors, combined Horner-style to avoid subtractive cancellation.
 */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * 1 − Pr(lattice path (0,0)→(m,n) stays strictly inside |x/m − y/n| < h/lcm), i.e. the two-sided
 * p-value for unequal sizes. Column-by-column over a sliding window of y; each entry holds the
 * proportion of paths to that point that have already left the band, so values stay in [0, 1].
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    // paths into (i, j) come from (i−1, j) [weight i/(i+j)] and (i, j−1) [weight j/(i+j)]
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    for (let r = curlen; r < Math.min(curlen + (lastlen - curlen), lenA); r++) A[r] = 1;
  }
  return A[maxj - minj - 1] as number;
}

/** Exact two-sided p-value, or null when the computation is unusable (SciPy then goes asymptotic). */
function exactTwoSided(n1: number, n2: number, g: number, h: number): number | null {
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  return Number.isFinite(p) && p >= 0 && p <= 1 ? p : null;
}

/** scipy.stats.ks_2samp(a, b) two-sided (SciPy 1.10 semantics, see module comment). */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>, options: KsOptions = {}): KsResult {
  const method = options.method ?? 'auto';
  const x = toScores(a, 'ks2samp first sample').sort();
  const y = toScores(b, 'ks2samp second sample').sort();
  const n1 = x.length;
  const n2 = y.length;

  // ECDF difference at every observed value (searchsorted side='right' ⇔ count of values <= v)
  let i = 0;
  let j = 0;
  let maxDiff = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  while (i < n1 || j < n2) {
    const v = i < n1 && (j >= n2 || (x[i] as number) <= (y[j] as number)) ? (x[i] as number) : (y[j] as number);
    while (i < n1 && (x[i] as number) <= v) i++;
    while (j < n2 && (y[j] as number) <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  let d = minS > maxDiff ? minS : maxDiff;

  const g = gcd(n1, n2);
  let mode: 'exact' | 'asymp' =
    method === 'asymp' ? 'asymp' : method === 'exact' ? 'exact' : Math.max(n1, n2) <= MAX_AUTO_N ? 'exact' : 'asymp';
  if (method === 'exact' && n1 / g >= INT32_MAX / (n2 / g)) mode = 'asymp';

  let p = Number.NaN;
  if (mode === 'exact') {
    // D is a multiple of 1/lcm(n1, n2); snap it so the lattice-path count uses the exact integer h
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    const exact = h === 0 ? 1 : exactTwoSided(n1, n2, g, h);
    if (exact === null) mode = 'asymp';
    else p = exact;
  }
  if (mode === 'asymp') {
    const en = (n1 * n2) / (n1 + n2);
    p = kstwoSf(d, roundHalfEven(en));
  }
  return { statistic: d, pvalue: Math.min(Math.max(p, 0), 1) };
}
