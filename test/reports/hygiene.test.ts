/**
 * Text hygiene: bidi overrides, zero-width and other invisible format characters, and control
 * characters from the data or the config are shown as `⟨U+202E⟩` in report.html, summary.md and
 * junit.xml (and escaped in result.json), never written raw. Renderer-level here, with a hostile
 * string in every free-text field of a result; test/cli/hygiene.test.ts does the same through a
 * real run and a real browser.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonVisible, mdCode, mdText, visible, visibleLine } from '../../reports/format.ts';
import { renderHtml } from '../../reports/html.ts';
import { renderJson } from '../../reports/json.ts';
import { renderJunit } from '../../reports/junit.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import type { AuditResult, RunInfo } from '../../src/result/types.ts';
import { EVIL, HIDDEN, rawHits } from '../helpers/hidden.ts';

describe('visible()', () => {
  it('names every hidden character and leaves other text alone', () => {
    for (const [c, name] of HIDDEN) expect(visible(`x${c}y`)).toBe(`x${name}y`);
    const plain = 'Ludwig Keebler · Zoë · 東京 · עברית · ⚠️ · a\tb\nc';
    expect(visible(plain)).toBe(plain);
    expect(visible('\u202Eevil')).toBe('⟨U+202E⟩evil');
  });

  it('visibleLine also names tabs and line breaks (one line per entry on a console)', () => {
    expect(visibleLine('a\nverdict: PASS\tx')).toBe('a⟨U+000A⟩verdict: PASS⟨U+0009⟩x');
  });

  it('jsonVisible writes the same characters as JSON escapes: same value, nothing hidden', () => {
    const value = { s: EVIL, k: ['\u202E', 'ok'] };
    const text = jsonVisible(JSON.stringify(value, null, 2));
    expect(JSON.parse(text)).toEqual(value);
    expect(rawHits(Buffer.from(text))).toEqual([]);
    expect(text).toContain('\\u202e');
    expect(text.split('\n').length).toBe(JSON.stringify(value, null, 2).split('\n').length);
  });

  it('Markdown cells: no pipe, backtick, markup or line break from data', () => {
    expect(mdText('a|b`c<d>*e_\\\n')).toBe('a\\|b\\`c&lt;d&gt;\\*e\\_\\\\⟨U+000A⟩');
    expect(mdCode('x|y')).toBe('`x\\|y`');
    expect(mdCode('a`b')).toBe('`` a`b ``');
    expect(mdCode('\u202E')).toBe('`⟨U+202E⟩`');
  });
});

/** The golden result with EVIL in every string a user's data or config can reach. */
function hostileResult(): { result: AuditResult; run: RunInfo } {
  const golden = (f: string) => readFileSync(new URL(`./golden/${f}`, import.meta.url), 'utf8');
  const result = JSON.parse(golden('result.json')) as AuditResult;
  const run = JSON.parse(golden('run.json')) as RunInfo;
  result.revealed = true;
  result.subjects = result.subjects.map((s, i) => ({
    ...s,
    subject: `${EVIL}-${i}`,
    emitted: { before: [{ type: `email${EVIL}`, value: `${EVIL}@mail.test` }] },
  }));
  result.inputs = result.inputs.map((f) => ({ ...f, path: `${f.path}${EVIL}` }));
  result.models = result.models.map((m) => ({ ...m, ref: `${m.ref}${EVIL}` }));
  result.attacks = result.attacks.map((a, i) => (i === 0 ? { ...a, status: 'error', reason: `record "t1${EVIL}" broke` } : a));
  result.gates = result.gates.map((g) => ({ ...g, message: `${g.message} ${EVIL}` }));
  // Model names come from the user's scores file in `evaluate`.
  result.findings = result.findings.map((f) => ({ ...f, model: `${f.model}${EVIL}` }));
  result.extraction = result.extraction.map((e) => ({ ...e, model: `${e.model}${EVIL}` as typeof e.model }));
  result.config = {
    ...(result.config as object),
    deletion: { method: `retrained ${EVIL}`, date: `2026-01-01${EVIL}`, reference: `DSR ${EVIL}` },
    report: { threatModel: [`line one ${EVIL}`, `line two ${EVIL}`] },
    data: { forgetSubjects: [EVIL] },
  };
  run.argv = ['privacy-audit', 'run', `c${EVIL}.yml`];
  return { result, run };
}

describe('renderers with a hostile string in every free-text field', () => {
  const { result, run } = hostileResult();

  it('report.html: every hidden character named, none raw (bytes)', async () => {
    const html = await renderHtml(result, run);
    const bytes = Buffer.from(html, 'utf8');
    expect(rawHits(bytes)).toEqual([]);
    expect(bytes.includes(Buffer.from('\uFFFD'))).toBe(false); // the lone surrogate was named, not mangled
    for (const [, name] of HIDDEN) expect(html).toContain(name);
    // In the places a reader looks: deletion event, threat model, subjects, scope.
    expect(html).toContain(`Request: DSR ${visible(EVIL)}`);
    expect(html).toContain(`<li>line one ${visible(EVIL)}</li>`);
    expect(html).toContain(`<code>${visible(EVIL)}-0</code>`);
    // The embedded result is the same value (escaped as JSON), so verify and re-rendering still work.
    const embedded = /<script type="application\/json" id="privacy-audit-result">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(embedded)).toEqual(JSON.parse(JSON.stringify(result)));
    expect(await renderHtml(result, run)).toBe(html);
  });

  it('summary.md: named, no raw character, table intact', () => {
    const md = renderMarkdown(result);
    expect(rawHits(Buffer.from(md, 'utf8'))).toEqual([]);
    expect(md).toContain(visibleLine(EVIL));
    // Every table row keeps its number of cells: nothing from the data added a `|` or a line.
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const table of md.split('\n\n')) {
      const rs = table.split('\n').filter((l) => l.startsWith('|'));
      for (const r of rs) expect(cells(r)).toBe(cells(rs[0]!));
    }
    expect(rows.length).toBeGreaterThan(10);
  });

  it('junit.xml: named, and only characters XML 1.0 allows', () => {
    const xml = renderJunit(result);
    expect(rawHits(Buffer.from(xml, 'utf8'))).toEqual([]);
    expect(xml).toContain(visible(EVIL).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;'));
    // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
    expect(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(xml)).toBe(false);
  });

  it('result.json: the same values, written with escapes', () => {
    const json = renderJson(result);
    expect(rawHits(Buffer.from(json, 'utf8'))).toEqual([]);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(result)));
  });
});
