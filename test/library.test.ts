/**
 * The library API and the test matchers, imported from the built dist/ (what `import … from
 * 'privacy-audit'` and `'privacy-audit/vitest'` load): a real audit of the support-desk models,
 * cancelled with an AbortSignal and resumed from the cache, then judged with the matchers.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distIsFresh } from '../src/build-stamp.mjs';
import { FIXTURE, REPO } from './helpers/paths.ts';
import type * as Lib from '../src/index.ts';
import type { AuditResult } from '../src/result/types.ts';

let lib: typeof Lib;
let tmp: string;
let after: AuditResult;
let before: AuditResult;

const config = (tmpDir: string, roles: string) => ({
  file: path.join(tmpDir, `${roles.replace(/\W/g, '-')}.yml`),
  text: `version: 1
seed: 1
models:
${roles.split(',').map((r) => `  ${r}: hf:${path.join(FIXTURE, r === 'before' ? 'models/before' : 'models/after-retrained')}`).join('\n')}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ${path.join(FIXTURE, 'data/forget.jsonl')}
  holdout: ${path.join(FIXTURE, 'data/holdout.jsonl')}
attacks:
  loss: {}
output: { dir: ./out }
`,
});

beforeAll(async () => {
  // `npm test` builds first; a stale dist/ would test other code than the sources.
  if (!distIsFresh()) throw new Error('dist/ is missing or older than the sources: run `npm run build` first');
  lib = (await import(path.join(REPO, 'dist/index.mjs'))) as typeof Lib;
  await import(path.join(REPO, 'dist/vitest.mjs'));
  tmp = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-library-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('library API from dist/', () => {
  it('audit(): cancelled by its AbortSignal it rejects with an AbortError and keeps finished work; run again it resumes from the cache and writes the outputs', async () => {
    const { writeFileSync } = await import('node:fs');
    const c = config(tmp, 'before,after');
    writeFileSync(c.file, c.text);
    const cfg = await lib.loadConfig(c.file);
    const opts = { workers: 1, cacheDir: path.join(tmp, 'cache'), pseudonymKey: 'ab'.repeat(32) };
    const controller = new AbortController();
    const events: Lib.AuditEvent[] = [];
    const cancelled = lib.audit(cfg, {
      ...opts,
      out: false,
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'progress') controller.abort();
      },
    });
    await expect(cancelled).rejects.toBeInstanceOf(lib.AuditAbortedError);
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError', exitCode: 3 });
    expect(events.some((e) => e.type === 'log')).toBe(true);
    const outcome = await lib.auditWithOutcome(cfg, { ...opts, out: path.join(tmp, 'out') });
    // The batch finished before the abort was not computed again.
    expect(outcome.run.cache.hits).toBeGreaterThan(0);
    expect(readdirSync(path.join(tmp, 'out'))).toEqual(expect.arrayContaining(['report.html', 'result.json', 'junit.xml', 'summary.md']));
    expect(JSON.parse(readFileSync(path.join(tmp, 'out/result.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(outcome.result)));
    after = outcome.result;
    expect(lib.exitCodeFor(after)).toBe(after.verdict === 'pass' ? 0 : after.verdict === 'fail' ? 1 : 4);
    // The model before the deletion, from the same cache: nothing to compute.
    const b = config(tmp, 'before');
    writeFileSync(b.file, b.text);
    before = await lib.audit(b.file, { ...opts, out: false });
  });

  it('errors are typed and carry the exit code the CLI gives them', async () => {
    const err = await lib.loadConfig(path.join(tmp, 'missing.yml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(lib.InputError);
    expect(lib.exitCodeOf(err)).toBe(2);
    // An edited verdict is refused, not rendered.
    await expect(lib.renderReport({ ...before, verdict: 'pass' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('refusing to render') });
    const files = await lib.renderReport(before);
    expect(files['report.html']).toMatch(/^<!doctype html>/i);
    expect(JSON.parse(files['result.json']!)).toEqual(JSON.parse(JSON.stringify(before)));
  });
});

describe('matchers (privacy-audit/vitest)', () => {
  it('pass on the model retrained without the deleted people', () => {
    expect(after.verdict).toBe('pass');
    expect(after).toPassPrivacyGates();
    expect(after).toShowNoLeakFor('forget');
    expect(after).toShowNoLeakFor('forget', 'after');
    expect({ result: after }).toPassPrivacyGates();
  });

  it('fail on the released model with a message that shows the gate table', () => {
    expect(before.verdict).toBe('fail');
    expect(before).not.toPassPrivacyGates();
    let message = '';
    try {
      expect(before).toPassPrivacyGates();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('expected the audit to pass its privacy gates, but the verdict is FAIL');
    expect(message).toMatch(/status\s+level\s+gate\s+value\s+interval\s+expected/);
    const gate = before.gates.find((g) => g.id === 'before.forget.loss.auc')!;
    expect(gate.status).toBe('fail');
    expect(message).toMatch(new RegExp(`FAIL\\s+error\\s+before\\.forget\\.loss\\.auc\\s+${gate.actual!.toFixed(3)}\\s+\\[${gate.interval!.lo.toFixed(3)}, ${gate.interval!.hi.toFixed(3)}\\]\\s+95% interval wholly <= 0\\.6`));
    expect(message).toContain(`before.forget.loss.auc: ${gate.message}`);
    expect(() => expect(before).toShowNoLeakFor('forget')).toThrow(/expected no leak for "forget", but 1 of its 1 gate\(s\) did not pass \(before\.forget\.loss\.auc fail\)/);
    // No gate about a split is never a vacuous pass.
    expect(() => expect(before).toShowNoLeakFor('forget', 'after')).toThrow(/expected gates about "forget" on model "after", but the result has none/);
    expect(() => expect({ verdict: 1 }).toPassPrivacyGates()).toThrow(/expected a privacy-audit result/);
  });
});

/** A JSON Schema check for the keywords schema/result.schema.json uses; returns the first few problems. */
function validate(value: unknown, schema: Record<string, unknown>, root: Record<string, unknown>, at = '$', out: string[] = []): string[] {
  if (typeof schema.$ref === 'string') return validate(value, (root.$defs as Record<string, Record<string, unknown>>)[schema.$ref.replace('#/$defs/', '')]!, root, at, out);
  if ('const' in schema && value !== schema.const) out.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) out.push(`${at}: expected one of ${JSON.stringify(schema.enum)}`);
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => validate(value, s as Record<string, unknown>, root, at, []).length === 0)) out.push(`${at}: matches no alternative`);
  const type = schema.type;
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (type !== undefined && type !== actual && !(type === 'integer' && Number.isInteger(value))) out.push(`${at}: expected ${String(type)}, got ${actual}`);
  if (type === 'array' && Array.isArray(value)) value.forEach((v, i) => validate(v, schema.items as Record<string, unknown>, root, `${at}[${i}]`, out));
  if (type === 'object' && actual === 'object') {
    const o = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const k of (schema.required ?? []) as string[]) if (!(k in o)) out.push(`${at}.${k}: required`);
    for (const [k, v] of Object.entries(o)) {
      if (props[k]) validate(v, props[k]!, root, `${at}.${k}`, out);
      else if (schema.additionalProperties === false) out.push(`${at}.${k}: not in the schema`);
      else if (typeof schema.additionalProperties === 'object') validate(v, schema.additionalProperties as Record<string, unknown>, root, `${at}.${k}`, out);
    }
  }
  return out.slice(0, 5);
}

describe('schema/result.schema.json', () => {
  it('describes real results (generated from the AuditResult type by npm run schema)', () => {
    const schema = JSON.parse(readFileSync(path.join(REPO, 'schema/result.schema.json'), 'utf8')) as Record<string, unknown>;
    for (const r of [after, before]) expect(validate(JSON.parse(JSON.stringify(r)), schema, schema)).toEqual([]);
    expect(validate({ ...JSON.parse(JSON.stringify(before)), extra: 1, verdict: 'maybe' }, schema, schema)).toEqual(['$.verdict: expected one of ["pass","fail","inconclusive"]', '$.extra: not in the schema']);
  });
});

describe('library code', () => {
  it('never ends the process and never prints (only the CLI and its helpers do)', () => {
    const cliOnly = new Set(['src/cli.ts', 'src/progress.ts', 'src/cache-cli.ts', 'src/claims/dp/canaries-cli.ts', 'src/pool/supervisor.mjs', 'src/build-stamp.mjs']);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (/\.(ts|mjs)$/.test(e.name) && !cliOnly.has(rel)) {
          readFileSync(path.join(REPO, rel), 'utf8')
            .split('\n')
            .forEach((line, i) => {
              const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
              // The pool worker's fault injection ends its own thread on purpose (tests of a dying worker).
              if (/process\.exit\(|console\.(log|error|warn|info|debug)\(|process\.(stdout|stderr)\.write/.test(code) && !(rel === 'src/pool/worker.ts' && /how === 'exit'/.test(code)))
                offenders.push(`${rel}:${i + 1}`);
            });
        }
      }
    };
    for (const d of ['src', 'attacks', 'reports']) walk(d);
    expect(offenders).toEqual([]);
  });
});
