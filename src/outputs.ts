/** The render stage: every output file is a pure function of result.json (and run.json for timings). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from '../reports/html.ts';
import { renderJson } from '../reports/json.ts';
import { renderJunit } from '../reports/junit.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import type { AuditResult, RunInfo } from './result/types.ts';

export async function writeOutputs(dir: string, result: AuditResult, run?: RunInfo): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ['result.json', renderJson(result)],
    ['report.html', await renderHtml(result, run)],
    ['junit.xml', renderJunit(result)],
    ['summary.md', renderMarkdown(result)],
  ];
  if (run) files.push(['run.json', `${JSON.stringify(run, null, 2)}\n`]);
  for (const [name, body] of files) await writeFile(path.join(dir, name), body);
  return files.map(([n]) => path.join(dir, n));
}
