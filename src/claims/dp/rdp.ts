/**
 * Rényi DP of the Poisson-subsampled Gaussian mechanism (DP-SGD) and its conversion to (ε, δ), the
 * way Opacus (`opacus/accountants/analysis/rdp.py`, `RDPAccountant`) and Google's dp_accounting
 * (`dp_accounting/rdp/rdp_privacy_accountant.py`, what TF Privacy calls) compute them.
 *
 * - RDP at order α of one step: log(A_α)/(α − 1) (Mironov, Talwar, Zhang 2019, arXiv 1908.10530 §3.3);
 *   integer α: the binomial sum; fractional α: the two-sided erfc series from z0 = σ² log(1/q − 1) + ½.
 *   Opacus keeps the series' signs (exact); dp_accounting (since 2024) adds absolute values (a valid,
 *   slightly looser bound): `series` picks which library is reproduced.
 * - Composition: RDP adds over steps and over the history's (σ, q, T) entries.
 * - Conversion ("improved", used by both libraries): ε = min_α [ r + log1p(−1/α) − log(δ·α)/(α − 1) ]
 *   (Balle et al. 2020, arXiv 1905.09982 Thm 21 = Canonne, Kamath, Steinke 2020, arXiv 2004.00010
 *   Prop. 12 = Asoodeh et al. arXiv 2001.05990 Eq. 20). The "basic" one (Mironov 2017, arXiv
 *   1702.07476 Prop. 3), ε = min_α [ r − log δ/(α − 1) ], is what old TF Privacy statements quote.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

/** One stretch of training at fixed noise and sampling rate (Opacus's accountant history entry). */
export interface HistoryEntry {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/** Opacus `RDPAccountant.DEFAULT_ALPHAS`: 1.1 … 10.9 by 0.1, then 12 … 63 (11 is not among them). */
export const OPACUS_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
];

/** dp_accounting `DEFAULT_RDP_ORDERS`: 1.1 … 10.9, 11 … 63, 128, 256, 512, 1024. */
export const DP_ACCOUNTING_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128,
  256,
  512,
  1024,
];

export type RdpLibrary = 'opacus' | 'dp-accounting';

function logAdd(a: number, b: number): number {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
}

function logSub(a: number, b: number): number {
  if (a < b) throw new Error('logSub: the result of subtraction must be non-negative');
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  const d = Math.expm1(a - b);
  return Number.isFinite(d) ? Math.log(d) + b : a;
}

/** log(erfc(x)), accurate in the far tail where erfc underflows (Laurent series at ∞, as dp_accounting). */
export function logErfc(x: number): number {
  if (x < 20) return Math.log(2 * normalCdf(-x * Math.SQRT2, 0, 1));
  return -Math.log(Math.PI) / 2 - Math.log(x) - x * x - 0.5 / x ** 2 + 0.625 / x ** 4 - 37 / 24 / x ** 6 + 353 / 64 / x ** 8;
}

/** log C(α, i) for integer α via a running product (exact for the sizes used: α ≤ 1024). */
function logBinomInt(n: number, k: number): number {
  let s = 0;
  for (let j = 1; j <= k; j++) s += Math.log(n - k + j) - Math.log(j);
  return s;
}

function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  for (let i = 0; i <= alpha; i++) {
    const s = logBinomInt(alpha, i) + i * lq + (alpha - i) * l1q + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, s);
  }
  return logA;
}

function logAFrac(q: number, sigma: number, alpha: number, library: RdpLibrary): number {
  let a0 = -Infinity;
  let a1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  const s2 = Math.SQRT2 * sigma;
  // C(α, i) for real α by the product Π (α − k)/(k + 1); its sign alternates once i > α.
  let coef = 1;
  let last0 = -Infinity;
  let last1 = -Infinity;
  for (let i = 0; i < 1000; i++) {
    if (i > 0) coef *= (alpha - (i - 1)) / i;
    const logCoef = Math.log(Math.abs(coef));
    const j = alpha - i;
    const logT0 = logCoef + i * lq + j * l1q;
    const logT1 = logCoef + j * lq + i * l1q;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / s2);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / s2);
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (library === 'opacus') {
      if (coef > 0) {
        a0 = logAdd(a0, logS0);
        a1 = logAdd(a1, logS1);
      } else {
        a0 = logSub(a0, logS0);
        a1 = logSub(a1, logS1);
      }
      if (Math.max(logS0, logS1) < -30) return logAdd(a0, a1);
    } else {
      a0 = logAdd(a0, logS0);
      a1 = logAdd(a1, logS1);
      const total = logAdd(a0, a1);
      if (logS0 < last0 && logS1 < last1 && Math.max(logS0, logS1) < total - 30) return total;
      last0 = logS0;
      last1 = logS1;
    }
  }
  // dp_accounting excludes an order whose series does not converge (ε = ∞ there); Opacus has no cap.
  return Infinity;
}

/** RDP of one step of the Poisson-subsampled Gaussian at order α (may be ∞). */
export function rdpOneStep(q: number, sigma: number, alpha: number, library: RdpLibrary = 'opacus'): number {
  if (q === 0) return 0;
  if (sigma === 0 || !Number.isFinite(alpha)) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha, library);
  return logA / (alpha - 1);
}

/** Total RDP of a training history at each order. */
export function rdpOfHistory(history: readonly HistoryEntry[], orders: readonly number[], library: RdpLibrary = 'opacus'): number[] {
  return orders.map((a) => history.reduce((s, h) => s + h.steps * rdpOneStep(h.sampleRate, h.noiseMultiplier, a, library), 0));
}

export type Conversion = 'improved' | 'basic';

/**
 * (ε, optimal α) from RDP values at δ. `improved`: dp_accounting's `compute_epsilon` (orders ≤ 1.01
 * skipped, ε = 0 when δ² + expm1(−r) > 0, result ≥ 0), algebraically Opacus's `get_privacy_spent`.
 */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number, conversion: Conversion = 'improved'): { epsilon: number; alpha: number } {
  if (!(delta > 0 && delta < 1)) throw new Error(`epsilonFromRdp: delta must be in (0, 1), got ${delta}`);
  let best = Infinity;
  let alpha = Number.NaN;
  orders.forEach((a, k) => {
    const r = rdp[k]!;
    let e: number;
    if (Number.isNaN(r)) return;
    if (conversion === 'basic') e = r - Math.log(delta) / (a - 1);
    else if (r < 0) e = 0;
    else if (delta * delta + Math.expm1(-r) > 0) e = 0;
    else if (a > 1.01) e = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else e = Infinity;
    if (e < best) (best = e), (alpha = a);
  });
  return { epsilon: Math.max(0, best), alpha };
}

export interface RdpEpsilon {
  epsilon: number;
  /** The order at which the minimum was reached. */
  alpha: number;
  /** True when the optimum is the first or last order: more orders could give a smaller ε. */
  atEdge: boolean;
  library: RdpLibrary;
  conversion: Conversion;
}

/** ε of a history at δ with a library's default orders and series. */
export function rdpEpsilon(
  history: readonly HistoryEntry[],
  delta: number,
  opts: { library?: RdpLibrary; conversion?: Conversion; orders?: readonly number[] } = {},
): RdpEpsilon {
  const library = opts.library ?? 'opacus';
  const orders = opts.orders ?? (library === 'opacus' ? OPACUS_ORDERS : DP_ACCOUNTING_ORDERS);
  const conversion = opts.conversion ?? 'improved';
  const { epsilon, alpha } = epsilonFromRdp(orders, rdpOfHistory(history, orders, library), delta, conversion);
  const atEdge = alpha === orders[0] || alpha === orders[orders.length - 1];
  return { epsilon, alpha, atEdge, library, conversion };
}
