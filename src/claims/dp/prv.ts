/**
 * The PRV accountant (Gopi, Lee, Wutschitz, "Numerical Composition of Differential Privacy",
 * NeurIPS 2021, arXiv 2106.02848) as Opacus implements it (`opacus/accountants/prv.py` and
 * `analysis/prv/{domain,prvs,compose}.py`), Opacus's default accountant:
 *
 * 1. the privacy loss random variable (PRV) of one Poisson-subsampled Gaussian step (the paper's
 *    Prop. B1/B4 pdf and cdf), truncated to a domain [−L, L] whose size comes from the RDP accountant
 *    (Remark 5.6: L = max(ε_RDP(δ_err/4) of the whole history, ε_RDP(δ_err/(8·T)) of one step, ε_err) + 3);
 * 2. discretised on a mesh of width ε_err / sqrt(T·log(12/δ_err)/2), each atom's mass the cdf's
 *    increment over its cell, the grid shifted so the discrete mean equals the continuous one;
 * 3. composed T times by FFT (identical steps) and by convolution (different history entries);
 * 4. ε read off the composed distribution: δ(ε) = E[(1 − e^{ε−Y})₊]; the answer is Opacus's
 *    `get_epsilon`: the upper end, ε(δ − δ_err) + ε_err (δ_err = δ/1000 by default).
 *
 * One difference of arithmetic, not of method: Opacus raises an FFT of the grid's own even length
 * to the T-th power (circular convolution modulo the grid); this pads to a power of two and reads the
 * composed mass back at the same offsets. The two differ only in mass that wraps around the
 * truncated domain (below δ_err by construction); test/claims/accountants.test.ts checks the results
 * against Opacus's own within its ε_err.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { fft, nextPow2 } from './fft.ts';
import { OPACUS_ORDERS, rdpOfHistory, type HistoryEntry } from './rdp.ts';

const erfc = (x: number): number => 2 * normalCdf(-x * Math.SQRT2, 0, 1);

/** cdf of the PRV of one Poisson-subsampled Gaussian step (Gopi et al. Prop. B4; Opacus `PoissonSubsampledGaussianPRV.cdf`). */
function prvCdf(q: number, sigma: number, t: number): number {
  if (!(t > Math.log1p(-q))) return 0;
  const z = Math.log((Math.exp(t) + q - 1) / q);
  const d = 2 * Math.SQRT2 * sigma;
  return (-q * erfc((2 * z * sigma * sigma - 1) / d)) / 2 - ((1 - q) * erfc((2 * z * sigma * sigma + 1) / d)) / 2 + 1;
}

// Gauss–Kronrod 7/15 nodes and weights.
const XGK = [0.991455371120812639, 0.949107912342758525, 0.864864423359769073, 0.741531185599394440, 0.586087235467691130, 0.405845151377397167, 0.207784955007898468, 0];
const WGK = [0.022935322010529225, 0.063092092629978553, 0.104790010322250184, 0.140653259715525919, 0.169004726639267903, 0.190350578064785410, 0.204432940075298892, 0.209482141084727828];
const WG = [0.129484966168869693, 0.279705391489276668, 0.381830050505118945, 0.417959183673469388];

function gk15(f: (x: number) => number, a: number, b: number): { value: number; error: number } {
  const c = (a + b) / 2;
  const h = (b - a) / 2;
  const fc = f(c);
  let k = fc * WGK[7]!;
  let g = fc * WG[3]!;
  for (let j = 0; j < 7; j++) {
    const dx = h * XGK[j]!;
    const s = f(c - dx) + f(c + dx);
    k += WGK[j]! * s;
    if (j % 2 === 1) g += WG[(j - 1) / 2]! * s;
  }
  return { value: k * h, error: Math.abs((k - g) * h) };
}

/** Adaptive Gauss–Kronrod (QUADPACK's default tolerances, as scipy's quad). */
function integrate(f: (x: number) => number, a: number, b: number, depth = 0): number {
  const { value, error } = gk15(f, a, b);
  if (depth >= 50 || error <= Math.max(1.49e-8, 1.49e-8 * Math.abs(value)) / 2 ** Math.min(depth, 20)) return value;
  const m = (a + b) / 2;
  return integrate(f, a, m, depth + 1) + integrate(f, m, b, depth + 1);
}

const logspace = (start: number, stop: number, num: number) => Array.from({ length: num }, (_, i) => 10 ** (start + ((stop - start) * i) / (num - 1)));

/** Opacus's plain `get_privacy_spent` over its default orders (used only to size the domain). */
function rdpEpsilonPlain(history: readonly HistoryEntry[], delta: number): number {
  const rdp = rdpOfHistory(history, OPACUS_ORDERS, 'opacus');
  let best = Infinity;
  OPACUS_ORDERS.forEach((a, k) => {
    const e = rdp[k]! - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
    if (e < best) best = e;
  });
  return best;
}

interface Grid {
  tMin: number;
  size: number;
  dt: number;
}

/** Opacus `Domain.create_aligned(−L, L, dt)`: an even number of points aligned to multiples of dt. */
function alignedGrid(L: number, dt: number): Grid {
  const tMin = Math.floor(-L / dt) * dt;
  let tMax = Math.ceil(L / dt) * dt;
  let size = Math.round((tMax - tMin) / dt) + 1;
  if (size % 2 === 1) (size += 1), (tMax += dt);
  return { tMin, size, dt: (tMax - tMin) / (size - 1) };
}

/** One history entry, truncated and discretised: masses on tMin + shift + i·dt. */
function discretise(q: number, sigma: number, g: Grid): { pmf: Float64Array; shift: number } {
  const tMax = g.tMin + (g.size - 1) * g.dt;
  const c0 = prvCdf(q, sigma, g.tMin);
  const mass = prvCdf(q, sigma, tMax) - c0;
  const cdf = (t: number) => (t < g.tMin ? 0 : t < tMax ? (prvCdf(q, sigma, t) - c0) / mass : 1);
  const pmf = new Float64Array(g.size);
  let meanD = 0;
  for (let i = 0; i < g.size; i++) {
    const t = g.tMin + i * g.dt;
    pmf[i] = cdf(t + g.dt / 2) - cdf(t - g.dt / 2);
    meanD += t * pmf[i]!;
  }
  // The continuous mean, integrated by parts over Opacus's break points (`TruncatedPrivacyRandomVariable.mean`).
  const lo = Math.trunc(Math.log10(Math.abs(g.tMin)));
  const hi = Math.trunc(Math.log10(tMax));
  const points = [g.tMin, ...logspace(lo, -5, 10).map((x) => -x), 0, ...logspace(-5, hi, 10), tMax];
  let meanC = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const [l, r] = [points[k]!, points[k + 1]!];
    meanC += r * cdf(r) - l * cdf(l) - integrate(cdf, l, r);
  }
  const shift = meanC - meanD;
  if (Math.abs(shift) >= g.dt / 2) throw new Error('PRV accountant: the discrete mean differs from the continuous mean by more than half a cell');
  return { pmf, shift };
}

/** The distribution of the sum of `steps` draws, on the same grid: composed[j] = mass at tMin + steps·shift + j·dt. */
function selfCompose(pmf: Float64Array, steps: number): Float64Array {
  const n = pmf.length;
  const m = nextPow2(n);
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  re.set(pmf);
  fft(re, im);
  for (let f = 0; f < m; f++) {
    const mag = Math.hypot(re[f]!, im[f]!);
    const arg = Math.atan2(im[f]!, re[f]!) * steps;
    const r = mag === 0 ? 0 : Math.exp(steps * Math.log(mag));
    re[f] = r * Math.cos(arg);
    im[f] = r * Math.sin(arg);
  }
  fft(re, im, true);
  // The sum of `steps` indices lands (steps − 1)·c beyond the grid index of the same value, c = −tMin/dt = n/2 − 1.
  const c = n / 2 - 1;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) out[j] = re[(((j + (steps - 1) * c) % m) + m) % m]!;
  return out;
}

/** Linear convolution of two pmfs on the same grid, kept on the grid (scipy `convolve(mode="same")`). */
function convolveSame(a: Float64Array, b: Float64Array): Float64Array {
  const n = a.length;
  const m = nextPow2(2 * n - 1);
  const [ar, ai, br, bi] = [new Float64Array(m), new Float64Array(m), new Float64Array(m), new Float64Array(m)];
  ar.set(a);
  br.set(b);
  fft(ar, ai);
  fft(br, bi);
  for (let f = 0; f < m; f++) {
    const r = ar[f]! * br[f]! - ai[f]! * bi[f]!;
    ai[f] = ar[f]! * bi[f]! + ai[f]! * br[f]!;
    ar[f] = r;
  }
  fft(ar, ai, true);
  const start = Math.floor((n - 1) / 2);
  return ar.slice(start, start + n);
}

export interface PrvEpsilon {
  /** Opacus's `get_epsilon`: the upper end of the interval (a guarantee, not an estimate). */
  epsilon: number;
  estimate: number;
  lower: number;
  epsError: number;
  deltaError: number;
  /** Grid points of the discretisation. */
  gridSize: number;
}

/** ε at δ of a DP-SGD history by numerical composition of PRVs (Opacus defaults: ε_err 0.01, δ_err = δ/1000). */
export function prvEpsilon(history: readonly HistoryEntry[], delta: number, opts: { epsError?: number; deltaError?: number } = {}): PrvEpsilon {
  const epsError = opts.epsError ?? 0.01;
  const deltaError = opts.deltaError ?? delta / 1000;
  if (!(delta > 0 && delta < 1)) throw new Error(`prvEpsilon: delta must be in (0, 1), got ${delta}`);
  const entries = history.filter((h) => h.steps > 0);
  if (entries.length === 0) return { epsilon: 0, estimate: 0, lower: 0, epsError, deltaError, gridSize: 0 };
  for (const h of entries) {
    if (!(h.noiseMultiplier > 0)) return { epsilon: Infinity, estimate: Infinity, lower: Infinity, epsError, deltaError, gridSize: 0 };
    if (!(h.sampleRate > 0 && h.sampleRate < 1)) throw new Error(`prvEpsilon: the PRV accountant needs 0 < sample rate < 1, got ${h.sampleRate}`);
  }
  const total = entries.reduce((s, h) => s + h.steps, 0);
  let L = rdpEpsilonPlain(entries, deltaError / 4);
  for (const h of entries) L = Math.max(L, rdpEpsilonPlain([{ ...h, steps: 1 }], deltaError / (8 * total)));
  L = Math.max(L, epsError) + 3;
  const grid = alignedGrid(L, epsError / Math.sqrt((total * Math.log(12 / deltaError)) / 2));
  if (grid.size > 1 << 24) throw new Error(`prvEpsilon: ${grid.size} grid points needed (too many steps for this ε_err)`);
  if (1.0842021724855044e-19 * grid.size > delta - deltaError) throw new Error('prvEpsilon: δ too small for the grid: floating-point error would dominate');

  let pmf: Float64Array | undefined;
  let shift = 0;
  // Opacus composes each entry with itself by FFT, then pairs neighbours until one is left; addition
  // commutes, so a left fold gives the same distribution.
  for (const h of entries) {
    const d = discretise(h.sampleRate, h.noiseMultiplier, grid);
    const composed = selfCompose(d.pmf, h.steps);
    pmf = pmf === undefined ? composed : convolveSame(pmf, composed);
    shift += d.shift * h.steps;
  }
  const p = pmf!;
  const n = p.length;
  const t = (i: number) => grid.tMin + shift + i * grid.dt;
  // d1[i] = P(Y ≥ t_i), d2[i] = E[e^{−Y}; Y ≥ t_i]; δ(t_i) = d1 − e^{t_i}·d2 decreases in i.
  const d1 = new Float64Array(n);
  const d2 = new Float64Array(n);
  let s1 = 0;
  let s2 = 0;
  for (let i = n - 1; i >= 0; i--) {
    s1 += p[i]!;
    s2 += p[i]! * Math.exp(-t(i));
    d1[i] = s1;
    d2[i] = s2;
  }
  const epsAt = (target: number): number => {
    // first i with e^{t_i}·d2 − d1 ≥ −target (numpy searchsorted, side left)
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Math.exp(t(mid)) * d2[mid]! - d1[mid]! < -target) lo = mid + 1;
      else hi = mid;
    }
    if (lo <= 0 || lo >= n) throw new Error('PRV accountant: cannot compute ε (δ outside the composed distribution)');
    return Math.log((d1[lo]! - target) / d2[lo]!);
  };
  const estimate = epsAt(delta);
  return { epsilon: epsAt(delta - deltaError) + epsError, estimate, lower: epsAt(delta + deltaError) - epsError, epsError, deltaError, gridSize: n };
}
