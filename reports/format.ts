/** Number formatting shared by every renderer, so HTML, Markdown and console agree to the digit. */
import type { Estimate, MaybeEstimate } from '../src/types.ts';

export const fmt = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : noNegativeZero(x.toFixed(digits));

/** `-0.000` (a tiny negative rounded away) reads as a sign that is not there. */
const noNegativeZero = (s: string): string => (/^-0\.?0*$/.test(s) ? s.slice(1) : s);

/**
 * `0.553 [0.415, 0.692]`; `0.250 (no interval)` where none can keep its promise at this n;
 * `n/e` for a number not estimable at this size (e.g. TPR at 0.1% FPR with 120 negatives).
 */
export const fmtEstimate = (e: Estimate | MaybeEstimate | null | undefined, digits = 3): string =>
  !e ? 'n/e' : e.lo === null || e.hi === null ? `${fmt(e.value, digits)} (no interval)` : `${fmt(e.value, digits)} [${fmt(e.lo, digits)}, ${fmt(e.hi, digits)}]`;

export const pct = (e: Estimate): string => `${(e.value * 100).toFixed(1)}% [${(e.lo * 100).toFixed(1)}, ${(e.hi * 100).toFixed(1)}]`;

export const fmtP = (p: number): string => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
