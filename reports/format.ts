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

/**
 * Characters that are invisible or change how the text around them is shown: controls (Cc),
 * format characters (Cf: bidi overrides and isolates U+202A–202E/U+2066–2069, LRM/RLM, U+061C,
 * zero-width space and joiners, U+FEFF, soft hyphen, tag characters U+E0000–E007F), line and
 * paragraph separators, lone surrogates, other default-ignorable code points (Hangul fillers,
 * U+034F) and the noncharacters XML forbids. Variation selectors are left alone: they only pick a
 * glyph's style (the emoji in ⚠️) and cannot reorder or hide text.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\uFDD0-\uFDEF\uFFFE\uFFFF]/gu;
const isVariationSelector = (cp: number) => (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);
const codeName = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

function escapeHidden(s: string, keep: (cp: number) => boolean): string {
  return s.replace(HIDDEN, (c) => {
    const cp = c.codePointAt(0)!;
    return keep(cp) ? c : `⟨${codeName(cp)}⟩`;
  });
}

/**
 * Text from data or config made safe to show: every hidden or control character becomes its
 * visible name, `⟨U+202E⟩`, so a right-to-left override in a subject id, a zero-width joiner in a
 * PII value or an escape sequence in a deletion reference is seen, never obeyed. Tabs and line
 * breaks stay (multi-line free text); use `visibleLine` where a line break would forge a line.
 */
export const visible = (s: string): string => escapeHidden(s, (cp) => cp === 0x09 || cp === 0x0a || isVariationSelector(cp));

/** `visible`, and line breaks and tabs named too: for one-line contexts (console lines, table cells). */
export const visibleLine = (s: string): string => escapeHidden(s, isVariationSelector);

/**
 * JSON text with the same characters written as `\uXXXX` escapes: the same value for a parser,
 * but nothing hidden for a reader of the file. Only characters JSON.stringify left raw are touched
 * (C0 controls are already escaped in strings, and the layout's own line breaks must stay).
 */
export const jsonVisible = (json: string): string =>
  json.replace(HIDDEN, (c) => {
    const cp = c.codePointAt(0)!;
    if (cp < 0x20 || isVariationSelector(cp)) return c;
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });

/** A Markdown table cell from data: visible, one line, and nothing that ends the cell or starts markup. */
export const mdText = (s: string): string => visibleLine(s).replace(/[\\`*_~[\]|<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : `\\${c}`));

/** A Markdown code span from data: visible, one line, fenced past any backticks inside; in a table, `|` escaped. */
export function mdCode(s: string, inTable = true): string {
  const v = inTable ? visibleLine(s).replace(/\|/g, '\\|') : visibleLine(s);
  const longest = Math.max(0, ...(v.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || v.startsWith('`') || v.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${v}${pad}${fence}`;
}
