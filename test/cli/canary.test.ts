/**
 * Canary exposure end to end on models/canary (the before recipe with two canaries each planted 1,
 * 3, 9 and 27 times, and four never planted): exposure rises with the number of insertions, and the
 * never-inserted controls sit at the ≈1.44-bit null expectation, within the interval the run computes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli, type CliResult } from '../helpers/cli.ts';
import { FIXTURE } from '../helpers/paths.ts';

let r: CliResult;
let result: AuditResult;
beforeAll(async () => {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-canary-')), 'out');
  r = await cli(['run', path.join(FIXTURE, 'canaries.yml'), '--out', out]);
  result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;
}, 300_000);

describe('canary exposure on the fixture model', () => {
  it('runs, and with no gate configured for it the verdict is inconclusive, never pass', () => {
    expect(result.attacks).toEqual([expect.objectContaining({ id: 'canary-exposure', status: 'ok' })]);
    expect(result.verdict).toBe('inconclusive');
    expect(r.code).toBe(4);
  });

  it('exposure rises with insertions (rank correlation) up to the log2(1000) ceiling', () => {
    const [e] = result.exposure;
    const cs = e!.canaries;
    const levels = [...new Set(cs.map((c) => c.insertions!))].sort((a, b) => a - b);
    expect(levels).toEqual([0, 1, 3, 9, 27]);
    const mean = (k: number) => {
      const xs = cs.filter((c) => c.insertions === k).map((c) => c.exposure);
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    // Spearman correlation between insertions and exposure over all canaries.
    const rank = (xs: number[]) => xs.map((x) => (xs.filter((y) => y < x).length + xs.filter((y) => y <= x).length + 1) / 2);
    const a = rank(cs.map((c) => c.insertions!));
    const b = rank(cs.map((c) => c.exposure));
    const m = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const cov = a.reduce((s, x, i) => s + (x - m(a)) * (b[i]! - m(b)), 0);
    const rho = cov / Math.sqrt(a.reduce((s, x) => s + (x - m(a)) ** 2, 0) * b.reduce((s, x) => s + (x - m(b)) ** 2, 0));
    expect(rho).toBeGreaterThan(0.6);
    expect(mean(27)).toBeGreaterThan(mean(0) + 5);
    expect(mean(27)).toBeGreaterThanOrEqual(Math.max(mean(1), mean(3), mean(9)));
    expect(Math.max(...cs.map((c) => c.exposure))).toBeLessThanOrEqual(Math.log2(1000) + 1e-9);
  });

  it('the never-inserted controls are at the null expectation (≈1.44 bits) within the computed interval', () => {
    const { controls } = result.exposure[0]!;
    expect(controls!.n).toBe(4);
    expect(controls!.expected).toBeCloseTo(1.4349, 3);
    expect(controls!.meanExposure.lo).toBeLessThanOrEqual(controls!.expected);
    expect(controls!.meanExposure.hi).toBeGreaterThanOrEqual(controls!.expected);
  });
});
