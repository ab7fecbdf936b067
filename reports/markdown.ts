/** `summary.md`: a short table fit for $GITHUB_STEP_SUMMARY or a merge-request comment. */
import type { AuditResult } from '../src/result/types.ts';
import { fmt, fmtEstimate, pct } from './format.ts';

const ICON = { pass: '✅', fail: '❌', inconclusive: '❔' } as const;

const VERDICT_RULE =
  'A gate passes only when its whole interval is on the safe side, fails only when it is wholly on the unsafe side (after Holm’s correction over the error gates), and is otherwise inconclusive. The verdict is FAIL if any error gate fails, else INCONCLUSIVE if any is inconclusive, else PASS.';

export function renderMarkdown(result: AuditResult): string {
  const lines: string[] = [];
  lines.push(`## privacy-audit: ${ICON[result.verdict]} ${result.verdict.toUpperCase()}`, '');
  lines.push(`Gates on the \`${result.gateModel}\` model (seed ${result.seed}, ${result.tool.name} ${result.tool.version}).`, '');
  lines.push(VERDICT_RULE, '');
  lines.push('| gate | level | status | a pass needs | actual | interval | why |', '|---|---|---|---|---|---|---|');
  for (const g of result.gates)
    lines.push(
      `| \`${g.id}\` | ${g.level} | ${ICON[g.status]} ${g.status} | ${g.expected} | ${fmt(g.actual, 3)} | ${g.interval ? `[${fmt(g.interval.lo, 3)}, ${fmt(g.interval.hi, 3)}]` : '—'} | ${g.status === 'pass' ? '' : g.message.replace(/\|/g, '\\|')} |`,
    );
  if (result.findings.length > 0) {
    lines.push('', '| attack | model | positive vs negative | AUC [95% CI] | TPR@1% FPR | n |', '|---|---|---|---|---|---|');
    for (const f of result.findings)
      lines.push(`| ${f.attack} | ${f.model} | ${f.positive} vs ${f.negative} | ${fmtEstimate(f.auc)} | ${fmtEstimate(f.tprAtFpr['0.01'])} | ${f.n.positive} / ${f.n.negative} |`);
  }
  const warnings = result.attacks.flatMap((a) => (a.warnings ?? []).map((w) => `> ⚠️ **${a.id}** — ${w}.`));
  if (warnings.length > 0) lines.push('', ...warnings);
  if (result.extraction.length > 0) {
    lines.push('', '| attack | model | split | prompts hit / tried | people leaked [95% CI] | people leaked / tried |', '|---|---|---|---|---|---|');
    for (const e of result.extraction)
      lines.push(`| ${e.attack} | ${e.model} | ${e.split} | ${e.hits} / ${e.trials} | ${pct(e.rate)} | ${e.subjects.leaked} / ${e.subjects.total} |`);
  }
  if ((result.comparisons ?? []).length > 0) {
    lines.push('', '| comparison | attack | from → to | split | estimate [interval] | level |', '|---|---|---|---|---|---|');
    for (const c of result.comparisons)
      lines.push(`| ${c.kind} | ${c.attack} | ${c.from} → ${c.to} | ${c.split} | ${fmtEstimate(c.estimate)} | ${Math.round(c.level * 100)}% |`);
  }
  for (const e of result.exposure ?? []) {
    lines.push('', `Canary exposure (${e.attack}, ${e.model}):`, '', '| canary | insertions | rank / candidates | exposure (bits) |', '|---|---|---|---|');
    for (const c of e.canaries) lines.push(`| #${c.index} | ${c.insertions ?? '—'} | ${c.rank} / ${c.candidates} | ${fmt(c.exposure, 2)} |`);
  }
  return `${lines.join('\n')}\n`;
}
