/** Input checks shared by the metric functions (internal; not re-exported). */

/** Copy scores into a Float64Array, rejecting empty input and NaN (sklearn/scipy reject NaN too). */
export function toScores(values: ArrayLike<number>, what: string): Float64Array {
  const n = values.length;
  if (n === 0) throw new Error(`${what}: no scores (need at least one)`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`${what}: score ${i} is not a number (${String(v)})`);
    out[i] = v;
  }
  return out;
}

/** A level / probability strictly between 0 and 1. */
export function checkOpenUnit(x: number, what: string): void {
  if (!(x > 0 && x < 1)) throw new Error(`${what} must be in (0, 1), got ${String(x)}`);
}

export function checkCount(n: number, what: string, min = 1): void {
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${what} must be an integer >= ${min}, got ${String(n)}`);
}
