/** Number formatting shared by every renderer, so HTML, Markdown and console agree to the digit. */
import type { Estimate } from '../src/types.ts';

export const fmt = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);

export const fmtEstimate = (e: Estimate, digits = 3): string => `${fmt(e.value, digits)} [${fmt(e.lo, digits)}, ${fmt(e.hi, digits)}]`;

export const pct = (e: Estimate): string => `${(e.value * 100).toFixed(1)}% [${(e.lo * 100).toFixed(1)}, ${(e.hi * 100).toFixed(1)}]`;

export const fmtP = (p: number): string => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
