/**
 * Unlearning verification end to end on the fixture models, through the CLI: an `after` that is the
 * retrained model is equivalent to it (pass, exit 0); an `after` that is `before` fails
 * (under-forgetting, exit 1); gradient ascent never passes; a forget set of 2 records is
 * inconclusive (exit 4). One cache is shared: each model scores each record once across the runs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE } from '../helpers/paths.ts';

let dir: string;
const config = (name: string, after: string, forget = path.join(FIXTURE, 'data/forget.jsonl'), extra = '') => {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `version: 1
seed: 3
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
  after: hf:${path.join(FIXTURE, 'models', after)}
  retrained: hf:${path.join(FIXTURE, 'models/after-retrained')}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ${forget}
  holdout: ${path.join(FIXTURE, 'data/holdout.jsonl')}
attacks:
  loss: {}
  min-k: {}
  pii-extraction: { maxNewTokens: 24, types: [email, phone] }
output: { dir: ./${name} }
${extra}`,
  );
  return file;
};
const run = async (file: string) => {
  const r = await cli(['run', file, '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '400']);
  const result = JSON.parse(readFileSync(path.join(dir, path.basename(file, '.yml'), 'result.json'), 'utf8')) as AuditResult;
  return { r, result };
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-unlearn-'));
});

describe('unlearning verification', () => {
  it('after = retrained: equivalence with retraining passes (ΔAUC exactly 0), exit 0', async () => {
    const { r, result } = await run(config('same', 'after-retrained'));
    for (const kind of ['equivalence', 'privleak'] as const) {
      const cs = result.comparisons.filter((c) => c.kind === kind);
      expect(cs.map((c) => c.attack)).toEqual(['loss', 'min-k']);
      for (const c of cs) expect(c.estimate).toEqual({ value: 0, lo: 0, hi: 0 });
    }
    expect(result.gates.filter((g) => g.id.startsWith('after.equivalence.')).map((g) => [g.level, g.status])).toEqual([
      ['error', 'pass'],
      ['error', 'pass'],
    ]);
    // with a retrained model, the absolute ceiling is a warning
    expect(result.gates.find((g) => g.id === 'after.forget.loss.auc')!.level).toBe('warn');
    const delta = result.comparisons.find((c) => c.kind === 'auc-delta' && c.attack === 'loss' && c.to === 'after')!;
    expect(delta.estimate.hi!).toBeLessThan(-0.3); // deletion removed most of the signal
    expect(result.comparisons.find((c) => c.kind === 'rate-delta' && c.to === 'after' && c.split === 'forget')!.estimate.hi!).toBeLessThan(0);
    expect(result.verdict).toBe('pass');
    expect(r.code).toBe(0);
  });

  it('after = before: under-forgetting, fail, exit 1', async () => {
    const { r, result } = await run(config('unchanged', 'before'));
    for (const c of result.comparisons.filter((c) => c.kind === 'equivalence')) expect(c.estimate.lo!).toBeGreaterThan(0.3);
    const eq = result.gates.filter((g) => g.id.startsWith('after.equivalence'));
    expect(eq.every((g) => g.status === 'fail' && g.message.includes('under-forgetting'))).toBe(true);
    expect(result.verdict).toBe('fail');
    expect(r.code).toBe(1);
  });

  it('gradient-ascent unlearning: fail or inconclusive, never pass', async () => {
    const { r, result } = await run(config('ascent', 'after-unlearned'));
    expect(result.verdict).not.toBe('pass');
    expect([1, 4]).toContain(r.code);
  });

  it('a forget set of 2 records is inconclusive (exit 4) with the reason, never pass', async () => {
    const two = path.join(dir, 'two.jsonl');
    writeFileSync(two, readFileSync(path.join(FIXTURE, 'data/forget.jsonl'), 'utf8').trim().split('\n').slice(0, 2).join('\n'));
    const { r, result } = await run(config('tiny', 'after-retrained', two));
    const eq = result.gates.filter((g) => g.id.startsWith('after.equivalence'));
    expect(eq.length).toBe(2);
    for (const g of eq) expect(g).toMatchObject({ status: 'inconclusive', message: expect.stringContaining('fewer than 3 people on a side') });
    expect(result.findings.find((f) => f.positive === 'forget')!.auc.lo).toBeNull();
    expect(result.verdict).toBe('inconclusive');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('verdict: INCONCLUSIVE');
    // --inconclusive maps the third state for two-valued CI
    const again = await cli(['run', config('tiny', 'after-retrained', two), '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '400', '--inconclusive', 'fail']);
    expect(again.code).toBe(1);
  });
});

describe('configured gates through the CLI', () => {
  it('a failing warning is reported but does not fail the run (exit 0); JUnit shows it as output', async () => {
    const extra = 'assert:\n  assertions:\n    after.retain.loss.auc: [warn, { max: 0.6 }]\n';
    const { r, result } = await run(config('warn', 'after-retrained', undefined, extra));
    expect(result.gates.find((g) => g.id === 'after.retain.loss.auc')).toMatchObject({ level: 'warn', status: 'fail' });
    expect(result.verdict).toBe('pass');
    expect(r.code).toBe(0);
    const junit = readFileSync(path.join(dir, 'warn', 'junit.xml'), 'utf8');
    expect(junit).toContain('WARNING');
    expect(junit).toContain('failures="0"');
  });

  it('the same assertion at error level fails the run (exit 1) with expected vs actual in JUnit', async () => {
    const extra = 'assert:\n  assertions:\n    after.retain.loss.auc: [error, { max: 0.6 }]\n';
    const { r, result } = await run(config('error', 'after-retrained', undefined, extra));
    expect(result.verdict).toBe('fail');
    expect(r.code).toBe(1);
    const junit = readFileSync(path.join(dir, 'error', 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<failure message="[^"]*retain-vs-holdout AUC[^"]*" type="error">expected 95% interval wholly &lt;= 0.6, actual /);
  });

  it('an unknown gate name is a config error (exit 2) naming the line', async () => {
    const extra = 'assert:\n  assertions:\n    after.forget.loss.auroc: error\n';
    const file = config('bad', 'after-retrained', undefined, extra);
    const r = await cli(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yml:\d+: field "assert\.assertions\.after\.forget\.loss\.auroc": unknown gate/);
  });
});
