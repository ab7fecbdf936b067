/**
 * Gaussian kernel density estimate as SciPy's `stats.gaussian_kde` (the estimator DOMIAS uses with
 * `density_estimator="kde"`; van Breugel et al., AISTATS 2023 §4): kernel covariance = the data's
 * sample covariance (ddof 1) × factor², with Scott's factor n^(−1/(d+4)); log-density at x =
 * logsumexp_i(−½‖L⁻¹(x − x_i)‖²) − log n − (d/2)·log 2π − log det L, with Σ = L Lᵀ (Cholesky).
 * Points are whitened once, so evaluation is m × n × d multiply-adds over Float64Arrays.
 */

export interface Kde {
  d: number;
  n: number;
  /** Scott's factor n^(−1/(d+4)). */
  factor: number;
  /** log density at each of `m` row-major points (m × d). */
  logDensity(points: Float64Array, m: number): Float64Array;
}

/** Lower Cholesky factor of a d × d symmetric positive-definite matrix, or undefined if it is not. */
function cholesky(a: Float64Array, d: number): Float64Array | undefined {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  return l;
}

/** y = L⁻¹ x for each row (forward substitution). */
function whiten(points: Float64Array, m: number, l: Float64Array, d: number): Float64Array {
  const out = new Float64Array(m * d);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < d; i++) {
      let s = points[r * d + i]!;
      for (let k = 0; k < i; k++) s -= l[i * d + k]! * out[r * d + k]!;
      out[r * d + i] = s / l[i * d + i]!;
    }
  }
  return out;
}

/** Fits a KDE to n row-major points of dimension d; throws when the covariance is singular. */
export function gaussianKde(data: Float64Array, n: number, d: number): Kde {
  if (n < 2) throw new RangeError('a KDE needs at least 2 points');
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += data[i * d + k]! / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = data[i * d + a]! - mean[a]!;
      for (let b = 0; b <= a; b++) cov[a * d + b]! += xa * (data[i * d + b]! - mean[b]!);
    }
  }
  const factor = Math.pow(n, -1 / (d + 4));
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const v = (cov[a * d + b]! / (n - 1)) * factor * factor;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  const l = cholesky(cov, d);
  if (!l) throw new RangeError('the covariance of the KDE data is singular (a constant column, or columns that are linear combinations of others)');
  let logDet = 0;
  for (let i = 0; i < d; i++) logDet += Math.log(l[i * d + i]!);
  const y = whiten(data, n, l, d);
  const norm = -Math.log(n) - (d / 2) * Math.log(2 * Math.PI) - logDet;
  return {
    d,
    n,
    factor,
    logDensity(points: Float64Array, m: number): Float64Array {
      const x = whiten(points, m, l, d);
      const out = new Float64Array(m);
      const e = new Float64Array(n);
      for (let r = 0; r < m; r++) {
        let max = -Infinity;
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = 0; k < d; k++) {
            const t = x[r * d + k]! - y[i * d + k]!;
            s += t * t;
          }
          const v = -0.5 * s;
          e[i] = v;
          if (v > max) max = v;
        }
        let sum = 0;
        for (let i = 0; i < n; i++) sum += Math.exp(e[i]! - max);
        out[r] = max + Math.log(sum) + norm;
      }
      return out;
    },
  };
}
