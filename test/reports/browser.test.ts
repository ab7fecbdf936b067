/**
 * report.html in a real headless browser (Debian's chromium): renders without console errors, makes
 * no network request, and hostile strings from the user's data stay text.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../helpers/browser.ts';
import { cli } from '../helpers/cli.ts';
import { REPO } from '../helpers/paths.ts';

const HOSTILE = ['<script>window.__pwned = 1</script>', '<img src=x onerror="window.__pwned=2">', '</script><script>window.__pwned=3</script>'];

let browser: Browser;
let out: string;
beforeAll(async () => {
  browser = await launch();
  // Model names come from the user's scores file and are rendered into every output.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-browser-'));
  const lines: string[] = [];
  HOSTILE.forEach((model, m) => {
    for (let i = 0; i < 40; i++) lines.push(JSON.stringify({ id: `r${i}`, score: ((i * 37 + m * 11) % 23) + (i < 20 ? 3 : 0), member: i < 20, model, subject: `<b>s${i}</b>` }));
  });
  writeFileSync(path.join(dir, 'scores.jsonl'), lines.join('\n'));
  out = path.join(dir, 'out');
  const r = await cli(['evaluate', '--scores', path.join(dir, 'scores.jsonl'), '--out', out]);
  expect([0, 1, 4], r.stderr).toContain(r.code);
});
afterAll(async () => browser?.close());

describe('report.html in headless chromium', () => {
  it('renders with no console error, no request, and hostile strings shown as text', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => (errors.push(`dialog: ${d.message()}`), void d.dismiss()));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) requests.push(req.url());
    });
    const file = path.join(out, 'report.html');
    await page.goto(pathToFileURL(file).href);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(text).toContain('<img src=x onerror="window.__pwned=2">');
    // The embedded result is intact JSON despite the `</script>` inside it.
    const embedded = await page.locator('#privacy-audit-result').textContent();
    expect(JSON.parse(embedded!).findings.length).toBe(3);
    expect(await page.locator('h1').innerText()).toMatch(/Verdict: (pass|fail|inconclusive)/i);
    const shots = path.join(REPO, 'test-output');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'report.png'), fullPage: true });
    await page.close();
  });

  it('prints to A4 without losing the verdict', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(path.join(out, 'report.html')).href);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('h1').isVisible()).toBe(true);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    await page.close();
  });

  it('the raw HTML never contains the hostile markup unescaped', () => {
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    for (const h of HOSTILE) expect(html.includes(h)).toBe(false);
  });
});
