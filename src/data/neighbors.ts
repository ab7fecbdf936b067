/**
 * Nearest neighbours over encoded tables (src/data/table.ts) with Anonymeter's mixed-type distance
 * (Giomi et al., PoPETs 2023, §4; `neighbors/mixed_types_kneighbors.py`, `gower_distance`): numeric
 * columns contribute |a − b| / range, the range taken over both the queries and the candidates (a
 * range of 0 counts as 1), categorical columns 0 when equal, else 1; the distance is the sum.
 *
 * Missing values: a numeric column missing on both sides adds 1, as Anonymeter does; missing on one
 * side also adds 1 (Anonymeter's |NaN − x| turns the whole distance into NaN and ranks that row last:
 * we count it as the largest possible difference instead). A missing categorical value is its own
 * level (Anonymeter label-encodes NaN), so missing equals missing there.
 *
 * Brute force, but vectorised: the candidates are copied column-major once, and each query adds one
 * column at a time to a Float64Array of distances (no per-pair objects). Ties go to the lower index
 * (Anonymeter's numpy argsort is not stable; compare sets when checking parity).
 */
import type { EncodedTable } from './table.ts';

export interface Neighbours {
  k: number;
  /** Row-major m × k candidate indices, nearest first. */
  idx: Int32Array;
  /** Row-major m × k distances. */
  dist: Float64Array;
}

/** Per-column scale 1/range over both tables (numeric columns; range 0 → 1), as Anonymeter's scaler. */
export function numericScales(a: EncodedTable, b: EncodedTable, cols: readonly number[], numeric: number): Float64Array {
  const s = new Float64Array(cols.length);
  cols.forEach((c, k) => {
    if (c >= numeric) return;
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of [a, b]) {
      for (let i = 0; i < t.n; i++) {
        const x = t.data[i * t.d + c]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    const range = hi - lo;
    s[k] = Number.isFinite(range) && range > 0 ? 1 / range : 1;
  });
  return s;
}

/** The k nearest candidates of every query over the columns `cols` (encoded indices). */
export function kNearest(queries: EncodedTable, candidates: EncodedTable, cols: readonly number[], numeric: number, k: number): Neighbours {
  const n = candidates.n;
  const kk = Math.min(k, n);
  const m = queries.n;
  const scale = numericScales(queries, candidates, cols, numeric);
  const colMajor = cols.map((c) => {
    const v = new Float64Array(n);
    for (let j = 0; j < n; j++) v[j] = candidates.data[j * candidates.d + c]!;
    return v;
  });
  const idx = new Int32Array(m * kk);
  const out = new Float64Array(m * kk);
  const dist = new Float64Array(n);
  const bestD = new Float64Array(kk);
  const bestI = new Int32Array(kk);
  for (let q = 0; q < m; q++) {
    dist.fill(0);
    for (let k2 = 0; k2 < cols.length; k2++) {
      const col = colMajor[k2]!;
      const x = queries.data[q * queries.d + cols[k2]!]!;
      if (cols[k2]! < numeric) {
        if (x !== x) {
          for (let j = 0; j < n; j++) dist[j]! += 1;
        } else {
          const s = scale[k2]!;
          for (let j = 0; j < n; j++) {
            const dd = Math.abs(x - col[j]!) * s;
            dist[j]! += dd !== dd ? 1 : dd;
          }
        }
      } else if (x !== x) {
        for (let j = 0; j < n; j++) dist[j]! += col[j] !== col[j] ? 0 : 1;
      } else {
        for (let j = 0; j < n; j++) dist[j]! += col[j] === x ? 0 : 1;
      }
    }
    // top-k by insertion into a small sorted buffer; strict < keeps the lower index on ties
    bestD.fill(Infinity);
    bestI.fill(-1);
    for (let j = 0; j < n; j++) {
      const dj = dist[j]!;
      if (dj < bestD[kk - 1]!) {
        let p = kk - 1;
        while (p > 0 && dj < bestD[p - 1]!) {
          bestD[p] = bestD[p - 1]!;
          bestI[p] = bestI[p - 1]!;
          p--;
        }
        bestD[p] = dj;
        bestI[p] = j;
      }
    }
    idx.set(bestI, q * kk);
    out.set(bestD, q * kk);
  }
  return { k: kk, idx, dist: out };
}
