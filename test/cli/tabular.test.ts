/**
 * Shadow-model attacks end to end on the tabular fixture (fixtures/tabular): an ONNX MLP that
 * memorised its members (before, logits output), an ONNX MLP trained on other people only (after,
 * probabilities output) and a tfjs MLP retrained without the forget set (retrained). One shadow bank
 * (16 shadows, MLP [64]) serves every attack and every role. Then: the same config again trains no
 * shadow and gives the same result.json; deleting three shadows from the cache retrains exactly those
 * three; and one worker without the cache gives the same result.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/audit/measure.ts';
import type { AuditResult, RunInfo } from '../../src/result/types.ts';
import { pathToFileURL } from 'node:url';
import { launch } from '../helpers/browser.ts';
import { cli, type CliResult } from '../helpers/cli.ts';
import { TABULAR } from '../helpers/paths.ts';

// Each output folder gets its own random pseudonym key; one key for this file keeps results from
// different folders comparable byte for byte (src/pseudonym.ts).
process.env.PRIVACY_AUDIT_PSEUDONYM_KEY = 'a5'.repeat(32);

const CONFIG = path.join(TABULAR, 'privacy-audit.yml');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pa-tabular-'));
const read = <T>(dir: string, file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as T;

let first: CliResult;
let result: AuditResult;
let run1: RunInfo;
beforeAll(async () => {
  first = await cli(['run', CONFIG, '--out', path.join(tmp, 'a'), '--workers', '2']);
  result = read(path.join(tmp, 'a'), 'result.json');
  run1 = read(path.join(tmp, 'a'), 'run.json');
}, 600_000);

const finding = (attack: string, model: string, positive = 'forget'): Finding => {
  const f = result.findings.find((x) => x.attack === attack && x.model === model && x.positive === positive && x.negative === 'holdout');
  if (!f) throw new Error(`no finding ${attack} ${model} ${positive}`);
  return f;
};

describe('shadow-model attacks on classifier targets', () => {
  it('runs every attack on every model role', () => {
    expect(first.stderr).not.toMatch(/error/i);
    expect(result.attacks.map((a) => [a.id, a.status])).toEqual([
      ['loss', 'ok'],
      ['shadow', 'ok'],
      ['lira', 'ok'],
      ['rmia', 'ok'],
    ]);
    for (const attack of ['loss', 'shadow', 'lira', 'rmia'])
      for (const model of ['before', 'after', 'retrained'])
        for (const positive of ['forget', 'retain']) expect(() => finding(attack, model, positive)).not.toThrow();
    expect(run1.shadowsTrained).toBe(16); // the bank: max(8, 16, 4), shared
  });

  it('LiRA finds the overfit target: AUC lower bound > 0.6 on forget vs holdout', () => {
    expect(finding('lira', 'before').auc.lo).toBeGreaterThan(0.6);
    for (const attack of ['loss', 'shadow', 'rmia']) expect(finding(attack, 'before').auc.lo, attack).toBeGreaterThan(0.6);
  });

  it('LiRA warns that the shadows are not calibrated to the retrained target only (trained on 200 records, the shadows on ~400)', () => {
    // KS on φ of the 200 holdout records vs their OUT-shadow φ: before p ≈ 0.25, after p ≈ 0.23, retrained p ≈ 2e-6.
    const lira = result.attacks.find((a) => a.id === 'lira')!;
    expect(lira.warnings).toHaveLength(1);
    expect(lira.warnings![0]).toMatch(/^retrained: the shadows are not calibrated to this model: .* 200 holdout records .*p = 1\.7e-6 < 0\.01\); LiRA's result on retrained is a lower bound$/);
    for (const a of result.attacks.filter((x) => x.id !== 'lira')) expect(a.warnings, a.id).toBeUndefined();
    expect(readFileSync(path.join(tmp, 'a', 'summary.md'), 'utf8')).toContain("> ⚠️ **lira** — retrained: the shadows are not calibrated");
  });

  it('a target trained on disjoint data gives an AUC interval containing 0.5, for every attack', () => {
    for (const attack of ['loss', 'shadow', 'lira', 'rmia']) {
      const { lo, hi } = finding(attack, 'after').auc;
      expect(lo, attack).toBeLessThan(0.5);
      expect(hi, attack).toBeGreaterThan(0.5);
    }
  });

  it('the disjoint target has no membership signal on retain either, so its forget gates are inconclusive, not pass', () => {
    expect(result.verdict).toBe('inconclusive');
    const gate = result.gates.find((g) => g.id === 'after.forget.lira.auc');
    expect(gate?.status).toBe('inconclusive');
  });

  it('report.html renders in chromium with no error or request; coverage and threat model name the shadow attacks', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (req) => !req.url().startsWith('file:') && problems.push(req.url()));
      await page.goto(pathToFileURL(path.join(tmp, 'a', 'report.html')).href);
      expect(problems).toEqual([]);
      const text = await page.locator('body').innerText();
      expect(text).toMatch(/Membership inference\t[^\n]*\trun\tloss, shadow, lira, rmia\n/);
      expect(text).toContain('class probabilities of a record');
      expect(text).toContain('train shadow models like the target (shadow, lira, rmia)');
      expect(text).toMatch(/⚠ lira — retrained: the shadows are not calibrated to this model/);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('a second identical run trains no shadow and gives the same result.json', async () => {
    const out = path.join(tmp, 'a');
    const r = await cli(['run', CONFIG, '--out', out, '--workers', '2']);
    expect(r.code).toBe(first.code);
    const run2 = read<RunInfo>(out, 'run.json');
    expect(run2.shadowsTrained).toBe(0);
    expect(run2.cache.misses).toBe(0);
    expect(readFileSync(path.join(out, 'result.json'), 'utf8')).toBe(JSON.stringify(result, null, 2) + '\n');
  }, 300_000);

  it('after a crash, only the shadows whose cache entries are missing are retrained', async () => {
    const out = path.join(tmp, 'a');
    const cacheDir = path.join(out, '.cache');
    // Shadow entries are the ones of kind "shadow" (they keep weights); delete three of the sixteen.
    const shadows = readdirSync(cacheDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json') && readFileSync(path.join(cacheDir, f), 'utf8').startsWith('{"format":"privacy-audit-cache/1","kind":"shadow"'))
      .sort();
    expect(shadows).toHaveLength(16);
    for (const f of shadows.slice(0, 3)) rmSync(path.join(cacheDir, f));
    await cli(['run', CONFIG, '--out', out, '--workers', '2']);
    expect(read<RunInfo>(out, 'run.json').shadowsTrained).toBe(3);
    expect(readFileSync(path.join(out, 'result.json'), 'utf8')).toBe(JSON.stringify(result, null, 2) + '\n');
  }, 300_000);

  it('one worker without the cache gives a byte-identical result.json', async () => {
    const out = path.join(tmp, 'b');
    await cli(['run', CONFIG, '--out', out, '--workers', '1', '--no-cache']);
    expect(readFileSync(path.join(out, 'result.json'), 'utf8')).toBe(readFileSync(path.join(tmp, 'a', 'result.json'), 'utf8'));
  }, 600_000);
});
