/**
 * `privacy-audit verify report.html|result.json`: is this the evidence the tool wrote?
 * - report.html: the embedded result (and run info) must re-render to exactly this file, and its
 *   canonical bytes must hash to the SHA-256 the report shows. Any edit to the page is caught.
 * - result.json: it must be in canonical form (as the tool writes it); its SHA-256 is printed, and
 *   checked against the report.html beside it when there is one.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from '../reports/html.ts';
import { renderJson, resultDigest } from '../reports/json.ts';
import { sha256 } from './cache.ts';
import { InputError } from './errors.ts';
import { SCHEMA_VERSION, type AuditResult, type RunInfo } from './result/types.ts';

export interface Verification {
  ok: boolean;
  digest: string;
  checks: { what: string; ok: boolean }[];
}

function embeddedJson(html: string, id: string): unknown | undefined {
  const m = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(html);
  if (!m) return undefined;
  return JSON.parse(m[1]!); // the `\u003c` escapes written for `<` are ordinary JSON escapes
}

async function verifyReport(file: string, html: string): Promise<Verification> {
  let result: AuditResult;
  let run: RunInfo | undefined;
  try {
    const r = embeddedJson(html, 'privacy-audit-result');
    if (!r) throw new Error('no embedded result');
    result = r as AuditResult;
    run = embeddedJson(html, 'privacy-audit-run') as RunInfo | undefined;
  } catch (e) {
    throw new InputError(`not a privacy-audit report (${(e as Error).message})`, { file });
  }
  const shown = /<meta name="privacy-audit-result-sha256" content="([0-9a-f]{64})">/.exec(html)?.[1];
  const digest = resultDigest(result);
  const checks = [
    { what: 'the SHA-256 shown in the report matches its embedded result', ok: shown === digest },
    { what: 'the page is exactly what its embedded result renders to', ok: (await renderHtml(result, run)) === html },
  ];
  const beside = path.join(path.dirname(file), 'result.json');
  if (existsSync(beside)) checks.push({ what: 'result.json beside it has the same SHA-256', ok: sha256(await readFile(beside)) === digest });
  return { ok: checks.every((c) => c.ok), digest, checks };
}

async function verifyResult(file: string, text: string): Promise<Verification> {
  let result: AuditResult;
  try {
    result = JSON.parse(text) as AuditResult;
  } catch (e) {
    throw new InputError(`not JSON: ${(e as Error).message}`, { file });
  }
  if (result?.schemaVersion !== SCHEMA_VERSION) throw new InputError(`not a privacy-audit result of this version (schemaVersion ${SCHEMA_VERSION} expected, found ${JSON.stringify(result?.schemaVersion)})`, { file, field: 'schemaVersion' });
  const digest = sha256(text);
  const checks = [{ what: 'result.json is in the canonical form the tool writes', ok: renderJson(result) === text }];
  const beside = path.join(path.dirname(file), 'report.html');
  if (existsSync(beside)) {
    const html = await readFile(beside, 'utf8');
    const shown = /<meta name="privacy-audit-result-sha256" content="([0-9a-f]{64})">/.exec(html)?.[1];
    checks.push({ what: 'report.html beside it shows the same SHA-256', ok: shown === digest });
  }
  return { ok: checks.every((c) => c.ok), digest, checks };
}

export async function verify(file: string): Promise<Verification> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError('cannot read the file (does it exist?)', { file });
  }
  return /\.html?$/i.test(file) ? verifyReport(file, text) : verifyResult(file, text);
}
