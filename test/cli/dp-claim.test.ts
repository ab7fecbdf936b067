/**
 * A DP claim end to end (issue #14): `canaries make` writes a sealed manifest; `run` with claims.dp
 * recomputes ε from the parameters (a claim below it fails `claims.dp.parameters` with both numbers),
 * scores the canaries on `before` (which never saw them: "consistent with the claim, not proven",
 * never a plain pass), and reports it in result.json, report.html and summary.md. Bad claim files
 * are exit 2 naming the file and the field.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli, type CliResult } from '../helpers/cli.ts';
import { smallAudit } from '../helpers/small-audit.ts';

let dir: string;
let config: string;
let r: CliResult;
let result: AuditResult;
beforeAll(async () => {
  ({ dir, config } = smallAudit({ prefix: 'pa-dp-', after: false, attacks: '  loss: {}' }));
  const made = await cli(['canaries', 'make', '--count', '24', '--seed', '3', '--out', path.join(dir, 'canaries')]);
  expect(made.code).toBe(0);
  // MNIST tutorial parameters (TF Privacy README): ε = 2.60 by RDP, 2.39 by PRV; the claim says 1.0.
  appendFileSync(
    config,
    `claims:
  dp:
    epsilon: 1.0
    delta: 1.0e-5
    noiseMultiplier: 1.1
    datasetSize: 60000
    batchSize: 256
    epochs: 60
    canaries: { manifest: ./canaries/dp-canaries.json, candidates: 10 }
`,
  );
  r = await cli(['run', config]);
  result = JSON.parse(readFileSync(path.join(dir, 'out', 'result.json'), 'utf8')) as AuditResult;
}, 300_000);

describe('canaries make', () => {
  it('writes a sealed manifest and the records to include, and never overwrites a manifest', async () => {
    const m = JSON.parse(readFileSync(path.join(dir, 'canaries', 'dp-canaries.json'), 'utf8'));
    expect(m.canaries).toHaveLength(24);
    expect(m.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const included = readFileSync(path.join(dir, 'canaries', 'included.jsonl'), 'utf8').trim().split('\n');
    expect(included).toHaveLength(m.canaries.filter((c: { included: boolean }) => c.included).length);
    const again = await cli(['canaries', 'make', '--count', '24', '--seed', '3', '--out', path.join(dir, 'canaries')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/never overwritten/);
  });
});

describe('run with a DP claim', () => {
  it('fails claims.dp.parameters with both numbers (exit 1)', () => {
    expect(r.code).toBe(1);
    const g = result.gates.find((x) => x.id === 'claims.dp.parameters')!;
    expect(g.status).toBe('fail');
    expect(g.message).toMatch(/the claim does not follow from the training parameters: claimed ε = 1, recomputed ε = 2\.37/);
    const dp = result.claims!.dp!;
    expect(dp.recomputed.rdp.epsilon).toBeCloseTo(2.5967, 4);
    expect(dp.recomputed.prv!.epsilon).toBeCloseTo(2.3918, 4);
    expect(dp.claim.history).toEqual([{ noiseMultiplier: 1.1, sampleRate: 256 / 60000, steps: 14063 }]);
  });

  it('audits the canaries: consistent with the claim, not proven, with the ceiling next to the bound', () => {
    const dp = result.claims!.dp!;
    expect(dp.oneRun!.canaries).toBe(24);
    expect(dp.oneRun!.m).toBe(12);
    expect(dp.oneRun!.lowerBound).toBeLessThanOrEqual(dp.oneRun!.ceiling);
    expect(dp.verdict).toBe('consistent-not-proven');
    const g = result.gates.find((x) => x.id === 'claims.dp.refuted')!;
    expect(g.status).toBe('pass');
    expect(g.message).toMatch(/^consistent with the claim, not proven: .*largest ε this audit could have shown/);
    // 12 audit canaries cannot certify much: when the ceiling is below the claim, the message says so.
    expect(g.message.includes('could not have refuted it')).toBe(dp.oneRun!.ceiling <= 1);
    expect(dp.empirical.length).toBeGreaterThan(0);
    expect(result.gates.find((x) => x.id === 'claims.dp.empirical-leakage')!.message).toMatch(/not a DP audit/);
  });

  it('shows the claim in the report and the summary in the same words', () => {
    const html = readFileSync(path.join(dir, 'out', 'report.html'), 'utf8');
    expect(html).toContain('Differential-privacy claim');
    expect(html).toContain('Consistent with the claim; not proven');
    expect(html).toContain('Empirical leakage (not a DP audit)');
    const md = readFileSync(path.join(dir, 'out', 'summary.md'), 'utf8');
    expect(md).toMatch(/\*\*DP claim\*\* ε = 1, δ = 0\.00001: consistent with the claim; not proven/);
  });

  it('verify: the claim gates follow from the recorded claim section', async () => {
    const v = await cli(['verify', path.join(dir, 'out', 'result.json')]);
    expect(v.stdout + v.stderr).not.toMatch(/does not follow from any finding/);
    expect(v.code).toBe(0);
  });
});

describe('bad claim inputs (exit 2, file and field named)', () => {
  it('a manifest changed after sealing', async () => {
    const file = path.join(dir, 'canaries', 'dp-canaries.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.canaries[0].included = !m.canaries[0].included;
    writeFileSync(path.join(dir, 'tampered.json'), JSON.stringify(m));
    writeFileSync(path.join(dir, 'bad.yml'), readFileSync(config, 'utf8').replace('./canaries/dp-canaries.json', './tampered.json'));
    const b = await cli(['run', path.join(dir, 'bad.yml'), '--dry-run']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/tampered\.json: field "digest": the manifest does not match its digest/);
    expect(b.stderr).not.toMatch(/\n\s+at /);
  });

  it('a training record with a bad entry', async () => {
    writeFileSync(path.join(dir, 'acct.json'), JSON.stringify({ history: [[1.0, 0.01, 100], [1.0, 1.5, 10]], mechanism: 'prv' }));
    const base = readFileSync(config, 'utf8').split('claims:')[0]!;
    writeFileSync(path.join(dir, 'rec.yml'), `${base}claims:\n  dp: { epsilon: 3, delta: 1.0e-5, record: ./acct.json }\n`);
    const b = await cli(['run', path.join(dir, 'rec.yml'), '--dry-run']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/acct\.json record 2: field "history\[1\]": expected a sample rate in \(0, 1\], got 1\.5/);
  });
});
