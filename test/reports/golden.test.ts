/**
 * Golden test: a fixed result.json (and run.json) renders to stable HTML, JUnit and Markdown. A change
 * to a renderer or template shows up here as a diff to review; accept it with `npx vitest -u`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.ts';
import { renderJson } from '../../reports/json.ts';
import { renderJunit } from '../../reports/junit.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import type { AuditResult, RunInfo } from '../../src/result/types.ts';

const golden = (f: string) => new URL(`./golden/${f}`, import.meta.url);
const text = readFileSync(golden('result.json'), 'utf8');
const result = JSON.parse(text) as AuditResult;
const run = JSON.parse(readFileSync(golden('run.json'), 'utf8')) as RunInfo;

describe('golden outputs', () => {
  it('result.json is in canonical form', () => {
    expect(renderJson(result)).toBe(text);
  });
  it('report.html', async () => {
    await expect(await renderHtml(result, run)).toMatchFileSnapshot('./golden/report.html');
  });
  it('junit.xml', async () => {
    await expect(renderJunit(result)).toMatchFileSnapshot('./golden/junit.xml');
  });
  it('summary.md', async () => {
    await expect(renderMarkdown(result)).toMatchFileSnapshot('./golden/summary.md');
  });
  it('the same input renders the same bytes twice', async () => {
    expect(await renderHtml(result, run)).toBe(await renderHtml(result, run));
  });
});
