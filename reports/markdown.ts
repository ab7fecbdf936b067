/** `summary.md`: a short table fit for $GITHUB_STEP_SUMMARY or a merge-request comment. */
import type { AuditResult } from '../src/result/types.ts';
import { fmt, fmtEstimate, mdCode, mdText, pct, visible } from './format.ts';
import { resultDigest } from './json.ts';

const ICON = { pass: '✅', fail: '❌', inconclusive: '❔' } as const;

const VERDICT_RULE =
  'A gate passes only when its whole interval is on the safe side, fails only when it is wholly on the unsafe side (after Holm’s correction over the error gates), and is otherwise inconclusive. The verdict is FAIL if any error gate fails, else INCONCLUSIVE if any is inconclusive, else PASS.';

/** Every string from the result enters a cell through `mdText` or `mdCode`: seen, never markup. */
const t = (s: unknown): string => mdText(String(s ?? ''));

export function renderMarkdown(result: AuditResult): string {
  const lines: string[] = [];
  lines.push(`## privacy-audit: ${ICON[result.verdict]} ${t(result.verdict.toUpperCase())}`, '');
  lines.push(`Gates on the ${mdCode(result.gateModel, false)} model (seed ${result.seed}, ${t(result.tool.name)} ${t(result.tool.version)}).`, '');
  lines.push(VERDICT_RULE, '');
  lines.push('| gate | level | status | a pass needs | actual | interval | why |', '|---|---|---|---|---|---|---|');
  for (const g of result.gates)
    lines.push(
      `| ${mdCode(g.id)} | ${g.level} | ${ICON[g.status]} ${t(g.status)} | ${t(g.expected)} | ${fmt(g.actual, 3)} | ${g.interval ? `[${fmt(g.interval.lo, 3)}, ${fmt(g.interval.hi, 3)}]` : '—'} | ${g.status === 'pass' && !g.id.startsWith('claims.') ? '' : t(g.message)} |`,
    );
  const dp = result.claims?.dp;
  if (dp) {
    // An audit can refute a DP claim, never prove it: the wording says so.
    const head = dp.verdict === 'refuted' ? '❌ claim refuted (95% confidence)' : dp.verdict === 'consistent-not-proven' ? 'consistent with the claim; not proven' : '❔ not audited as DP';
    const one = dp.oneRun ? `one-run ε lower bound ${fmt(dp.oneRun.lowerBound, 3)} (largest this audit could show: ${fmt(dp.oneRun.ceiling, 3)}; ${dp.oneRun.correct}/${dp.oneRun.guesses} correct guesses on ${dp.oneRun.m} canaries)` : t(dp.oneRunMissing ?? '');
    lines.push('', `**DP claim** ε = ${t(dp.claim.epsilon)}, δ = ${t(dp.claim.delta)}: ${head}. Recomputed from the parameters: RDP ${fmt(dp.recomputed.rdp.epsilon, 3)}${dp.recomputed.prv ? `, PRV ≤ ${fmt(dp.recomputed.prv.epsilon, 3)}` : ''}; ${one}.`);
  }
  const sisa = result.claims?.sisa;
  if (sisa) {
    // Structure and behaviour are different evidence (Thudi et al. 2022): the wording keeps them apart.
    const failed = sisa.checks.filter((c) => c.level === 'error' && c.status !== 'pass').map((c) => mdCode(`claims.sisa.${c.id}`));
    const head = failed.length === 0 ? '✅ the training log is consistent with the deletion' : `❌ not shown: ${failed.join(', ')}`;
    const where = sisa.affected.map((a) => `shard ${a.shard} (first deleted record in slice ${a.firstSlice}) retrained from ${t(a.retrainedFrom)}`).join('; ');
    lines.push('', `**SISA deletion** (${sisa.manifests.map((m) => `${t(m.role)}: ${m.shards} shards`).join(', ')}): ${head}${where ? `; ${where}` : ''}. The structural gates check the training log against itself and the audited files, not what the hardware did; the attacks can give evidence against deletion, never proof.`);
  }
  if (result.findings.length > 0) {
    lines.push('', '| attack | model | positive vs negative | AUC [95% CI] | TPR@1% FPR | n |', '|---|---|---|---|---|---|');
    for (const f of result.findings)
      lines.push(`| ${t(f.attack)} | ${t(f.model)} | ${t(f.positive)} vs ${t(f.negative)} | ${fmtEstimate(f.auc)} | ${fmtEstimate(f.tprAtFpr['0.01'])} | ${f.n.positive} / ${f.n.negative} |`);
  }
  const warnings = result.attacks.flatMap((a) => (a.warnings ?? []).map((w) => `> ⚠️ **${a.id}** — ${w}.`));
  if (warnings.length > 0) lines.push('', ...warnings);
  if (result.extraction.length > 0) {
    lines.push('', '| attack | model | split | prompts hit / tried | people leaked [95% CI] | people leaked / tried |', '|---|---|---|---|---|---|');
    for (const e of result.extraction)
      lines.push(`| ${t(e.attack)} | ${t(e.model)} | ${t(e.split)} | ${e.hits} / ${e.trials} | ${pct(e.rate)} | ${e.subjects.leaked} / ${e.subjects.total} |`);
  }
  if ((result.comparisons ?? []).length > 0) {
    lines.push('', '| comparison | attack | from → to | split | estimate [interval] | level |', '|---|---|---|---|---|---|');
    for (const c of result.comparisons)
      lines.push(`| ${t(c.kind)} | ${t(c.attack)} | ${t(c.from)} → ${t(c.to)} | ${t(c.split)} | ${fmtEstimate(c.estimate)} | ${Math.round(c.level * 100)}% |`);
  }
  const truncated = result.attacks.flatMap((a) => Object.entries(a.truncated ?? {}).map(([model, n]) => `${a.id} on ${model}: ${n}`));
  if (truncated.length > 0) lines.push('', `Longer than the model's context, scored on a window (records or prompts): ${truncated.join('; ')}.`);
  for (const e of result.exposure ?? []) {
    lines.push('', `Canary exposure (${t(e.attack)}, ${t(e.model)}):`, '', '| canary | insertions | rank / candidates | exposure (bits) |', '|---|---|---|---|');
    for (const c of e.canaries) lines.push(`| #${c.index} | ${c.insertions ?? '—'} | ${c.rank} / ${c.candidates} | ${fmt(c.exposure, 2)} |`);
  }
  if (result.cacheRejected) {
    const n = result.cacheRejected;
    lines.push('', `${n} cache ${n === 1 ? 'entry' : 'entries'} failed verification and ${n === 1 ? 'was' : 'were'} recomputed; no number above came from ${n === 1 ? 'it' : 'them'}.`);
  }
  // The run id (SHA-256 of result.json) ties this summary to the rest of the run's evidence.
  lines.push('', `Run id \`${resultDigest(result)}\` (SHA-256 of result.json; check with \`privacy-audit verify\`).`);
  // Last line of defence for a field added later without `t`: nothing hidden reaches the page.
  return `${visible(lines.join('\n'))}\n`;
}
