/** `summary.md`: a short table fit for $GITHUB_STEP_SUMMARY or a merge-request comment. */
import type { AuditResult } from '../src/result/types.ts';
import { fmt, fmtEstimate, pct } from './format.ts';

const ICON = { pass: '✅', fail: '❌', inconclusive: '⚠️' } as const;

export function renderMarkdown(result: AuditResult): string {
  const lines: string[] = [];
  lines.push(`## privacy-audit: ${ICON[result.verdict]} ${result.verdict.toUpperCase()}`, '');
  lines.push(`Gates on the \`${result.gateModel}\` model (seed ${result.seed}, ${result.tool.name} ${result.tool.version}).`, '');
  lines.push('| gate | status | expected | actual |', '|---|---|---|---|');
  for (const g of result.gates) lines.push(`| \`${g.id}\` | ${ICON[g.status]} ${g.status} | \`${g.expected}\` | ${fmt(g.actual, 3)} |`);
  if (result.findings.length > 0) {
    lines.push('', '| attack | model | positive vs negative | AUC [95% CI] | TPR@1% FPR | n |', '|---|---|---|---|---|---|');
    for (const f of result.findings)
      lines.push(`| ${f.attack} | ${f.model} | ${f.positive} vs ${f.negative} | ${fmtEstimate(f.auc)} | ${fmtEstimate(f.tprAtFpr['0.01'])} | ${f.n.positive} / ${f.n.negative} |`);
  }
  if (result.extraction.length > 0) {
    lines.push('', '| attack | model | split | hits / trials | rate [95% CI] | subjects leaked |', '|---|---|---|---|---|---|');
    for (const e of result.extraction)
      lines.push(`| ${e.attack} | ${e.model} | ${e.split} | ${e.hits} / ${e.trials} | ${pct(e.rate)} | ${e.subjects.leaked} / ${e.subjects.total} |`);
  }
  if ((result.comparisons ?? []).length > 0) {
    lines.push('', '| comparison | attack | from → to | split | estimate [95% CI] | flag |', '|---|---|---|---|---|---|');
    for (const c of result.comparisons)
      lines.push(`| ${c.kind} | ${c.attack} | ${c.from} → ${c.to} | ${c.split} | ${fmtEstimate(c.estimate)} | ${c.flag ?? ''} |`);
  }
  for (const e of result.exposure ?? []) {
    lines.push('', `Canary exposure (${e.attack}, ${e.model}):`, '', '| canary | insertions | rank / candidates | exposure (bits) |', '|---|---|---|---|');
    for (const c of e.canaries) lines.push(`| #${c.index} | ${c.insertions ?? '—'} | ${c.rank} / ${c.candidates} | ${fmt(c.exposure, 2)} |`);
  }
  if (result.cacheRejected) {
    const n = result.cacheRejected;
    lines.push('', `${n} cache ${n === 1 ? 'entry' : 'entries'} failed verification and ${n === 1 ? 'was' : 'were'} recomputed; no number above came from ${n === 1 ? 'it' : 'them'}.`);
  }
  return `${lines.join('\n')}\n`;
}
