/**
 * numpy.quantile(x, [q, ...]) with the default method='linear', on an already sorted (ascending)
 * array. Mirrors numpy's arithmetic (virtual index (n−1)·q, and for t >= 0.5 interpolation from
 * the upper neighbour) so percentile bootstrap intervals agree with numpy to the last bit.
 */
export function quantile(sortedValues: ArrayLike<number>, q: number): number {
  const n = sortedValues.length;
  if (n === 0) throw new Error('quantile: empty array');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${String(q)}`);
  const virtual = (n - 1) * q;
  if (virtual >= n - 1) return sortedValues[n - 1] as number;
  if (virtual < 0) return sortedValues[0] as number;
  const prev = Math.floor(virtual);
  const a = sortedValues[prev] as number;
  const b = sortedValues[prev + 1] as number;
  const t = virtual - prev;
  const diff = b - a;
  // numpy interpolates from the nearer end, which keeps the result monotone in t.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
