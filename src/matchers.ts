/**
 * Test matchers for an audit's result, in the shape vitest's and jest's `expect.extend` take:
 *
 *   expect(await audit('privacy-audit.yml', { out: false })).toPassPrivacyGates();
 *   expect(result).toShowNoLeakFor('forget');
 *
 * `privacy-audit/vitest` registers them with vitest (src/vitest.ts); with jest,
 * `expect.extend(matchers)` from `privacy-audit/matchers`. No test framework is imported here.
 * A failure message shows the gate table, so a red test says which gate and why.
 */
import { fmt } from '../reports/format.ts';
import type { GateResult } from './audit/gates.ts';
import type { AuditResult } from './result/types.ts';

/** (jest and vitest negate `pass` themselves for `.not`, so the matchers need nothing from `this`.) */
export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

export interface PrivacyAuditMatchers<R = unknown> {
  /** The audit's verdict is `pass`: every error gate passed (an inconclusive gate is not a pass). */
  toPassPrivacyGates(): R;
  /**
   * Every error gate about `split` (gate ids `<model>.<split>.<attack>.<metric>`, e.g.
   * `after.forget.loss.auc`), on `model` if given, passed; at least one such gate must exist.
   */
  toShowNoLeakFor(split: string, model?: string): R;
}

/** An AuditResult, or anything holding one as `result` (auditWithOutcome's return). */
function resultOf(received: unknown): AuditResult {
  const r = (received as { result?: unknown } | null)?.result ?? received;
  const ok = r !== null && typeof r === 'object' && typeof (r as AuditResult).verdict === 'string' && Array.isArray((r as AuditResult).gates);
  if (!ok) throw new TypeError('expected a privacy-audit result (what audit() or evaluate() resolves to, or a parsed result.json)');
  return r as AuditResult;
}

const interval = (g: GateResult) => (g.interval ? `[${fmt(g.interval.lo)}, ${fmt(g.interval.hi)}]` : '');

/** The gates as a fixed-width table, one line each, the ones that did not pass first. */
export function gateTable(gates: readonly GateResult[]): string {
  if (gates.length === 0) return '  (no gates)';
  const order = { fail: 0, inconclusive: 1, pass: 2 } as const;
  const rows = [...gates]
    .sort((a, b) => order[a.status] - order[b.status] || a.id.localeCompare(b.id))
    .map((g) => [g.status.toUpperCase(), g.level, g.id, g.actual === null ? '—' : fmt(g.actual), interval(g), g.expected]);
  const head = ['status', 'level', 'gate', 'value', 'interval', 'expected'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i]!))).join('  ')}`.trimEnd();
  const notes = gates.filter((g) => g.status !== 'pass' && g.level === 'error').map((g) => `  ${g.id}: ${g.message}`);
  return [line(head), ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export function toPassPrivacyGates(received: unknown): MatcherResult {
  const r = resultOf(received);
  const pass = r.verdict === 'pass';
  return {
    pass,
    message: () =>
      pass
        ? `expected the audit not to pass its privacy gates, but the verdict is PASS:\n${gateTable(r.gates)}`
        : `expected the audit to pass its privacy gates, but the verdict is ${r.verdict.toUpperCase()}${r.verdict === 'inconclusive' ? ' (a gate could not decide: not a pass)' : ''}:\n${gateTable(r.gates)}`,
  };
}

export function toShowNoLeakFor(received: unknown, split: string, model?: string): MatcherResult {
  const r = resultOf(received);
  const mine = r.gates.filter((g) => {
    const [m, s] = g.id.split('.');
    return s === split && (model === undefined || m === model) && g.level === 'error';
  });
  const what = `"${split}"${model ? ` on model "${model}"` : ''}`;
  if (mine.length === 0) {
    // Nothing measured is not "no leak": never a vacuous pass.
    return { pass: false, message: () => `expected gates about ${what}, but the result has none (its gates:\n${gateTable(r.gates)})` };
  }
  const bad = mine.filter((g) => g.status !== 'pass');
  const pass = bad.length === 0;
  return {
    pass,
    message: () =>
      pass
        ? `expected a leak for ${what}, but its ${mine.length} gate(s) passed:\n${gateTable(mine)}`
        : `expected no leak for ${what}, but ${bad.length} of its ${mine.length} gate(s) did not pass (${bad.map((g) => `${g.id} ${g.status}`).join(', ')}):\n${gateTable(mine)}`,
  };
}

/** For `expect.extend(matchers)` (jest, vitest). */
export const matchers = { toPassPrivacyGates, toShowNoLeakFor };
