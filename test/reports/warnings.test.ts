/**
 * An attack's warnings (result.json `attacks[i].warnings`, e.g. LiRA's shadows not calibrated to a
 * model) show in the HTML report, under the membership table and on the attack's row, and in
 * summary.md; a result without warnings renders no warning line.
 */
import { readFileSync } from 'node:fs';
import hb from 'handlebars';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import type { AuditResult } from '../../src/result/types.ts';

const base = JSON.parse(readFileSync(new URL('./golden/result.json', import.meta.url), 'utf8')) as AuditResult;
const WARNING = 'after: the shadows are not calibrated to this model (KS D = 0.412, p = 3.1e-9 < 0.01); the result on after is a lower bound';
const withWarning: AuditResult = { ...base, attacks: base.attacks.map((a, i) => (i === 0 ? { ...a, warnings: [WARNING] } : a)) };
const id = base.attacks[0]!.id;

describe('attack warnings in the reports', () => {
  it('summary.md: one quoted line per warning, naming the attack', () => {
    expect(renderMarkdown(withWarning)).toContain(`> ⚠️ **${id}** — ${WARNING}.`);
    expect(renderMarkdown(base)).not.toContain('⚠️ **');
  });

  it('report.html: under the membership table and on the attack row', async () => {
    const html = await renderHtml(withWarning);
    const escaped = hb.escapeExpression(WARNING); // escaped like any text (<, =)
    expect(html.includes(`<p class="warning">⚠ <strong>${id}</strong> — ${escaped}.</p>`)).toBe(true);
    expect(html.includes(`<small class="warning">⚠ ${escaped}</small>`)).toBe(true);
    expect((await renderHtml(base)).includes('class="warning"')).toBe(false);
  });
});
