/**
 * Text hygiene through real runs: bidi overrides, zero-width characters, NUL and ESC in subject and
 * record ids, file and folder names, model refs and every free-text field of the config (deletion
 * method, date and reference, threat model), and in model names of `evaluate --scores`. The written
 * files hold none of them raw (checked on the bytes), and the report in chromium shows `⟨U+202E⟩`.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { visible, visibleLine } from '../../reports/format.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { launch } from '../helpers/browser.ts';
import { cli } from '../helpers/cli.ts';
import { csvSubjectIds } from '../helpers/sidecars.ts';
import { FIXTURE } from '../helpers/paths.ts';
import { HIDDEN, rawHits } from '../helpers/hidden.ts';

process.env.PRIVACY_AUDIT_PSEUDONYM_KEY = 'c3'.repeat(32);

/** Every hidden character but the lone surrogate (which no file can hold: UTF-8 has no form for it). */
const EVIL = `a${HIDDEN.filter(([c]) => c !== '\uD800').map(([c]) => c).join('b')}z`;
/** What may be in a file name (no NUL, no slash). */
const FILE_EVIL = '\u202E\u200D\u2066\u001B\u00AD';

interface Rec {
  id: string;
  subject: string;
  text: string;
}
const read = (file: string): Rec[] =>
  readFileSync(path.join(FIXTURE, 'data', file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);

let dir: string;
let forgetIds: string[];
let browser: Browser;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-hygiene-'));
  const orig = [...new Set(read('forget.jsonl').map((r) => r.subject))].slice(0, 4);
  // Ids with hidden characters, as a hostile or careless data export would have them.
  const rename = (s: string, i: number) => (orig.includes(s) ? `${s}${i % 2 ? '\u202E\u200D' : '\u0000\u001B[31m'}` : s);
  const members = read('members.jsonl');
  const mine = members.filter((m) => orig.includes(m.subject));
  const others = members.filter((m) => !orig.includes(m.subject)).slice(0, 20);
  const recs = [...mine, ...others].map((r) => ({ ...r, id: `${r.id}\u2066`, subject: rename(r.subject, orig.indexOf(r.subject)) }));
  forgetIds = orig.map((s, i) => rename(s, i));
  const membersFile = `members${FILE_EVIL}.jsonl`;
  writeFileSync(path.join(dir, membersFile), recs.map((r) => JSON.stringify(r)).join('\n'));
  writeFileSync(path.join(dir, 'holdout.jsonl'), read('holdout.jsonl').slice(0, 20).map((r) => JSON.stringify(r)).join('\n'));
  mkdirSync(path.join(dir, 'models'));
  symlinkSync(path.join(FIXTURE, 'models/before'), path.join(dir, 'models', `before${FILE_EVIL}`));
  // JSON is YAML: every escape is exact.
  const config = {
    version: 1,
    models: { before: `hf:./models/before${FILE_EVIL}` },
    data: { members: `./${membersFile}`, forgetSubjects: forgetIds, holdout: './holdout.jsonl' },
    deletion: { method: `method ${EVIL}`, date: `date ${EVIL}`, reference: `reference ${EVIL}` },
    report: { threatModel: [`threat ${EVIL}`] },
    attacks: { loss: {} },
  };
  writeFileSync(path.join(dir, 'c.json'), JSON.stringify(config, null, 2));
  browser = await launch();
});
afterAll(async () => browser?.close());

const OUTPUTS = ['report.html', 'summary.md', 'junit.xml', 'result.json', 'subjects.csv'];
async function run(out: string, ...flags: string[]) {
  const r = await cli(['run', path.join(dir, 'c.json'), '--out', path.join(dir, out), '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '100', ...flags]);
  expect(r.stderr).not.toMatch(/privacy-audit: (error|runtime failure)/);
  expect([0, 1, 4]).toContain(r.code);
  // The console summary and log obey nothing either.
  expect(rawHits(Buffer.from(r.stderr))).toEqual([]);
  return r;
}
const bytes = (out: string, f: string) => readFileSync(path.join(dir, out, f));

/** The page as a reader sees it, and junit.xml through the browser's XML parser. */
async function inBrowser(out: string): Promise<{ text: string; xmlError: string | null }> {
  const page = await browser.newPage();
  try {
    await page.goto(pathToFileURL(path.join(dir, out, 'report.html')).href);
    const text = await page.locator('body').innerText();
    const xml = bytes(out, 'junit.xml').toString('utf8');
    const xmlError = await page.evaluate((x) => {
      const doc = new DOMParser().parseFromString(x, 'application/xml');
      return doc.querySelector('parsererror')?.textContent ?? null;
    }, xml);
    return { text, xmlError };
  } finally {
    await page.close();
  }
}

describe('hidden characters in data and config', () => {
  it('--reveal: ids, file names, model refs and config text are shown escaped, never raw', async () => {
    await run('revealed', '--reveal');
    for (const f of OUTPUTS) expect(rawHits(bytes('revealed', f)), f).toEqual([]);
    const html = bytes('revealed', 'report.html').toString('utf8');
    for (const field of ['method', 'date', 'reference', 'threat']) expect(html).toContain(`${field} ${visible(EVIL)}`);
    const result0 = JSON.parse(bytes('revealed', 'result.json').toString('utf8')) as AuditResult;
    for (const s of result0.subjects) expect(html).toContain(`<code>${visible(s.subject)}</code>`);
    // subjects.csv lists every one of them, escaped the same way
    expect(csvSubjectIds(path.join(dir, 'revealed')).sort()).toEqual(forgetIds.map(visibleLine).sort());
    expect(html).toContain(visible(`members${FILE_EVIL}.jsonl`));
    expect(html).toContain(visible(`hf:./models/before${FILE_EVIL}`));
    // result.json keeps the exact values (as JSON escapes).
    const result = JSON.parse(bytes('revealed', 'result.json').toString('utf8')) as AuditResult;
    for (const s of result.subjects) expect(forgetIds).toContain(s.subject);
    expect((result.config as { deletion: { reference: string } }).deletion.reference).toBe(`reference ${EVIL}`);

    const { text, xmlError } = await inBrowser('revealed');
    expect(xmlError).toBeNull();
    expect(text).toContain('⟨U+202E⟩');
    expect(text).toContain(`Request: reference ${visible(EVIL)}`);
    for (const [, name] of HIDDEN.filter(([c]) => c !== '\uD800')) expect(text).toContain(name);
    expect(rawHits(Buffer.from(text))).toEqual([]);
  }, 300_000);

  it('without --reveal: the same, with pseudonyms for the ids', async () => {
    await run('masked');
    for (const f of OUTPUTS) expect(rawHits(bytes('masked', f)), f).toEqual([]);
    const html = bytes('masked', 'report.html').toString('utf8');
    expect(html).toContain(`reference ${visible(EVIL)}`);
    for (const id of forgetIds) expect(html.includes(visible(id))).toBe(false);
    const { text, xmlError } = await inBrowser('masked');
    expect(xmlError).toBeNull();
    expect(text).toContain('⟨U+202E⟩');
  }, 300_000);

  it('evaluate --scores: model names with hidden characters reach summary.md and junit.xml escaped', async () => {
    const model = `m${EVIL}|\`<b>`;
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `r${i}\u202E`, score: ((i * 37) % 23) + (i < 20 ? 3 : 0), member: i < 20, model, subject: `s${i}\u200D` }));
    writeFileSync(path.join(dir, 'scores.jsonl'), lines.join('\n'));
    const r = await cli(['evaluate', '--scores', path.join(dir, 'scores.jsonl'), '--out', path.join(dir, 'eval')]);
    expect([0, 1, 4]).toContain(r.code);
    expect(rawHits(Buffer.from(r.stderr))).toEqual([]);
    for (const f of OUTPUTS.filter((o) => o !== 'subjects.csv')) expect(rawHits(bytes('eval', f)), f).toEqual([]); // evaluate writes no sidecars
    const md = bytes('eval', 'summary.md').toString('utf8');
    expect(md).toContain('⟨U+202E⟩');
    // The findings table keeps its six cells per row, and markup in a name is text (in code spans
    // `<b>` is literal already; in plain cells it is written as an entity).
    const finding = md.split('\n').find((l) => l.includes('⟨U+202E⟩') && l.includes(' member vs nonmember '))!;
    expect(finding).toContain('&lt;b&gt;');
    expect(finding).not.toContain('<b>');
    expect(finding.replace(/\\\|/g, '').split('|').length).toBe(8);
    expect(bytes('eval', 'junit.xml').toString('utf8')).toContain('⟨U+202E⟩');
    const { xmlError } = await inBrowser('eval');
    expect(xmlError).toBeNull();
  }, 300_000);
});
