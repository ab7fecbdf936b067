/**
 * `privacy-audit demo --scenario tabular` end to end: the harness generates a Purchase-100-like
 * dataset, trains the before/after MLP targets in its pool, and audits both with one bank of 16
 * shadows that clone the target's tfjs topology. A second run trains nothing (targets or shadows)
 * and writes the same result.json.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult, RunInfo } from '../../src/result/types.ts';
import { cli, type CliResult } from '../helpers/cli.ts';

const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-demo-tabular-')), 'report');
const read = <T>(file: string) => JSON.parse(readFileSync(path.join(out, file), 'utf8')) as T;
let first: CliResult;
let result: AuditResult;
let run1: RunInfo;
beforeAll(async () => {
  first = await cli(['demo', '--scenario', 'tabular', '--out', out]);
  result = read('result.json');
  run1 = read('run.json');
}, 900_000);

const auc = (attack: string, model: string) =>
  result.findings.find((f) => f.attack === attack && f.model === model && f.positive === 'forget' && f.negative === 'holdout')!.auc;

describe('demo --scenario tabular', () => {
  it('trains both targets, writes its inputs next to the report, and passes', () => {
    expect(first.stderr).toMatch(/training the before \(1000 records\) and after \(800\) targets/);
    for (const role of ['before', 'after']) expect(existsSync(path.join(out, 'demo-inputs/models', role, 'model.json'))).toBe(true);
    expect(existsSync(path.join(out, 'demo-inputs/privacy-audit.yml'))).toBe(true);
    expect(result.attacks.map((a) => [a.id, a.status])).toEqual([
      ['loss', 'ok'],
      ['shadow', 'ok'],
      ['lira', 'ok'],
      ['rmia', 'ok'],
    ]);
    expect(result.verdict).toBe('pass');
    expect(first.code).toBe(0);
    expect(run1.shadowsTrained).toBe(16);
  });

  it('finds the deleted customers in before, not in after (retrained)', () => {
    for (const attack of ['loss', 'lira', 'rmia']) expect(auc(attack, 'before').lo, attack).toBeGreaterThan(0.85);
    expect(auc('shadow', 'before').lo).toBeGreaterThan(0.6);
    for (const attack of ['loss', 'shadow', 'lira', 'rmia']) {
      const { lo, hi } = auc(attack, 'after');
      expect(lo, attack).toBeLessThan(0.5);
      expect(hi, attack).toBeGreaterThan(0.5);
    }
  });

  it('a second run trains no target and no shadow, and writes the same result.json', async () => {
    const before = readFileSync(path.join(out, 'result.json'), 'utf8');
    const r = await cli(['demo', '--scenario', 'tabular', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/training the before/);
    expect(read<RunInfo>('run.json').shadowsTrained).toBe(0);
    expect(readFileSync(path.join(out, 'result.json'), 'utf8')).toBe(before);
  }, 300_000);
});
