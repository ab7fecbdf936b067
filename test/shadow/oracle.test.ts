/**
 * LiRA (online, offline, fixed variance) and RMIA (online, offline) on the shadow observations of
 * ../shared/oracles/shadow-attacks.json, computed independently with numpy/scipy: every per-record
 * score to 1e-9, and AUC and TPR@FPR as the oracle has them. Version 2 of the oracle's conventions:
 * offline LiRA scores z = (φ − μ_out)/σ_out (not Φ(z)); fixed variance is one global σ for IN and OUT.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateObservations, type ObservationOptions } from '../../src/evaluate/index.ts';
import { tprAtFpr } from '../../src/metrics/index.ts';
import { cli } from '../helpers/cli.ts';
import { REPO } from '../helpers/paths.ts';

interface Case {
  options: { attack: 'lira' | 'rmia'; offline?: boolean; fixedVariance?: boolean; gamma?: number; a?: number };
  expected: { auc: number; tprAtFpr: Record<string, number> };
  scores: Record<string, number>;
}
const oracle = JSON.parse(readFileSync(path.join(REPO, '../shared/oracles/shadow-attacks.json'), 'utf8')) as {
  version: number;
  observations: unknown[];
  cases: Record<string, Case>;
};
// ground truth of the target rows: which records the target trained on
const members = new Set(
  (oracle.observations as { model: string; id: string; member: boolean; population?: boolean }[]).filter((o) => o.model === 'target' && o.member && !o.population).map((o) => o.id),
);
let file: string;
beforeAll(() => {
  file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-obs-')), 'obs.jsonl');
  writeFileSync(file, oracle.observations.map((o) => JSON.stringify(o)).join('\n'));
});

describe('evaluate --observations against the oracle', () => {
  it('is the oracle of conventions version 2', () => expect(oracle.version).toBe(2));

  for (const [name, c] of Object.entries(oracle.cases)) {
    it(`${name}: per-record scores to 1e-9, AUC and TPR@FPR`, async () => {
      const result = await evaluateObservations(file, { ...(c.options as ObservationOptions), perRecord: true, seed: 1, bootstrap: 50 });
      const f = result.findings[0]! as (typeof result.findings)[number] & { records: { id: string; score: number }[] };
      expect(f.records.length).toBe(Object.keys(c.scores).length);
      for (const r of f.records) expect(Math.abs(r.score - c.scores[r.id]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c.scores[r.id]!)));
      expect(Math.abs(f.auc.value - c.expected.auc)).toBeLessThan(1e-9);
      // TPR@FPR from the per-record scores (the finding withholds it below 10/x negatives)
      const pos = f.records.filter((r) => members.has(r.id)).map((r) => r.score);
      const neg = f.records.filter((r) => !members.has(r.id)).map((r) => r.score);
      for (const [x, v] of Object.entries(c.expected.tprAtFpr)) {
        expect(Math.abs(tprAtFpr(pos, neg, Number(x)) - v)).toBeLessThan(1e-9);
        const given = f.tprAtFpr[x as '0.01'];
        if (given) expect(Math.abs(given.value - v)).toBeLessThan(1e-9);
        else expect(neg.length).toBeLessThan(10 / Number(x));
      }
    });
  }

  it('through the CLI: --json prints only the result, --per-record adds the scores', async () => {
    const r = await cli(['evaluate', '--observations', file, '--attack', 'rmia', '--offline', '--a', '0.3', '--gamma', '2', '--json', '--per-record']);
    expect([0, 1]).toContain(r.code);
    const result = JSON.parse(r.stdout);
    expect(result.findings[0].auc.value).toBeCloseTo(oracle.cases['rmia-offline']!.expected.auc, 9);
    expect(result.findings[0].records).toHaveLength(300);
    expect(result.attacks[0].options).toEqual({ offline: true, gamma: 2, a: 0.3 });
  });

  it('bad input: exit 2 with file, line and field', async () => {
    const bad = path.join(path.dirname(file), 'bad.jsonl');
    writeFileSync(bad, '{"model":"target","id":"x","confidence":0.5,"member":true}\n{"model":"s1","id":"x","confidence":1.5,"member":false}\n');
    let r = await cli(['evaluate', '--observations', bad, '--attack', 'lira']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.jsonl:2: field "confidence"');
    r = await cli(['evaluate', '--observations', file, '--attack', 'shokri']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--attack lira or --attack rmia');
    writeFileSync(bad, '{"model":"target","id":"x","confidence":0.5,"member":true}\n{"model":"target","id":"y","confidence":0.4,"member":false}\n{"model":"s1","id":"x","confidence":0.5,"member":true}\n');
    r = await cli(['evaluate', '--observations', bad, '--attack', 'lira']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no OUT shadow');
  });
});

describe('LiRA with identical shadow values (σ = 0)', () => {
  it('floors σ at MIN_SIGMA: finite scores, ordered by the target confidence', async () => {
    const { liraScores, MIN_SIGMA } = await import('../../src/shadow/scores.ts');
    expect(MIN_SIGMA).toBe(1e-6);
    // Every shadow saturated at p = 1 (IN) or gives exactly 0.5 (OUT): per-record σ is 0 on both sides.
    const recs = [0.5, 0.9, 1].map((target, i) => ({ id: `r${i}`, target, inside: [1, 1], outside: [0.5, 0.5] }));
    for (const offline of [false, true])
      for (const fixedVariance of [false, true]) {
        // Fixed variance: the global σ pooled over these records is 0 too (every IN φ and every OUT φ equal).
        const s = liraScores(recs, { offline, fixedVariance });
        for (const x of s) expect(Number.isFinite(x)).toBe(true);
        expect(s[0]!).toBeLessThan(s[2]!);
      }
  });
});
