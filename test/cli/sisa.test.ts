/**
 * A SISA audit end to end through the CLI on the fixture (fixtures/sisa/make-sisa.ts), the `loss`
 * attack only (time): the correct deletion passes every structural gate and the ensemble is
 * attacked like any classifier; the wrong checkpoint fails claims.sisa.retrained-from-checkpoint
 * alone, naming the shard, the slice and the pseudonym; a malformed manifest is exit 2 naming the
 * JSON path, before any model work. `verify` re-derives the SISA gates from result.json.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { REPO } from '../helpers/paths.ts';

const SISA = path.join(REPO, 'fixtures/sisa');
const TABULAR = path.join(REPO, 'fixtures/tabular/data');
let dir: string;

const config = (name: string, after: string, before = path.join(SISA, 'before.manifest.json')) => {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `seed: 1
models:
  before: { kind: sisa, manifest: ${before} }
  after: { kind: sisa, manifest: ${path.join(SISA, after)} }
data:
  members: ${path.join(TABULAR, 'members.jsonl')}
  forget: ${path.join(SISA, 'data/forget.jsonl')}
  holdout: ${path.join(TABULAR, 'holdout.jsonl')}
  retainSample: 100
attacks:
  loss: {}
output: { dir: ./${name} }
`,
  );
  return file;
};
const run = async (file: string) => {
  const r = await cli(['run', file, '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '200', '--workers', '1']);
  const out = path.join(dir, path.basename(file, '.yml'));
  return { r, out };
};
const resultOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;
const sisaGates = (r: AuditResult) => Object.fromEntries(r.gates.filter((g) => g.id.startsWith('claims.sisa.')).map((g) => [g.id.slice('claims.sisa.'.length), g.status]));
const forgetSubjects = () =>
  readFileSync(path.join(SISA, 'data/forget.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { subject: string }).subject);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-sisa-cli-'));
});

describe('SISA audit (CLI)', () => {
  it('correct deletion: every structural gate passes, the ensemble is audited like any classifier, verify re-derives the gates', async () => {
    const { r, out } = await run(config('correct', 'after.manifest.json'));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const result = resultOf(out);
    expect(sisaGates(result)).toEqual({
      'manifest-consistent': 'pass',
      'ensemble-before': 'pass',
      'ensemble-after': 'pass',
      'forget-absent': 'pass',
      'retained-unchanged': 'pass',
      'retrained-from-checkpoint': 'pass',
      'other-shards-untouched': 'pass',
      'superseded-destroyed': 'pass',
    });
    expect(result.claims!.sisa!.affected).toEqual([{ shard: 2, firstSlice: 1, records: 50, subjects: 50, retrainedFrom: expect.stringMatching(/^the checkpoint after slice 0 /) }]);
    // Behaviour as well: the deleted people stand out on before's ensemble, not on after's.
    const auc = (model: string) => result.findings.find((f) => f.attack === 'loss' && f.model === model && f.positive === 'forget' && f.negative === 'holdout')!.auc;
    expect(auc('before').lo!).toBeGreaterThan(0.6);
    expect(auc('after').hi!).toBeLessThan(0.6);
    expect(result.verdict).toBe('pass');
    expect(r.code).toBe(0);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('SISA deletion: the training log');
    expect(html).toContain('never <em>proof</em>');
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('**SISA deletion** (before: 3 shards, after: 3 shards): ✅ the training log is consistent with the deletion');
    // No deleted person's id in any output.
    for (const f of ['result.json', 'report.html', 'summary.md']) {
      const text = readFileSync(path.join(out, f), 'utf8');
      for (const s of forgetSubjects()) expect(text).not.toContain(s);
    }
    expect((await cli(['verify', path.join(out, 'report.html')])).code).toBe(0);
  }, 120_000);

  it('retrained from the wrong checkpoint: claims.sisa.retrained-from-checkpoint fails alone, naming shard, slice and pseudonym', async () => {
    const { r, out } = await run(config('wrong-checkpoint', 'after-wrong-checkpoint.manifest.json'));
    const result = resultOf(out);
    const failed = Object.entries(sisaGates(result)).filter(([, s]) => s !== 'pass');
    expect(failed).toEqual([['retrained-from-checkpoint', 'fail']]);
    const gate = result.gates.find((g) => g.id === 'claims.sisa.retrained-from-checkpoint')!;
    expect(gate.message).toMatch(/^A shard was not retrained from the right checkpoint: shard 2 was retrained from the checkpoint after slice 1, which was trained on slice 1 holding the record of S-[0-9a-f]{12}; it had to resume from the checkpoint after slice 0$/);
    expect(result.verdict).toBe('fail');
    expect(r.code).toBe(1);
  }, 120_000);

  it('a malformed manifest: exit 2 naming the file and the JSON path, no result', async () => {
    const bad = JSON.parse(readFileSync(path.join(SISA, 'before.manifest.json'), 'utf8')) as { shards: { checkpoints: { sha256: string }[] }[] };
    bad.shards[1]!.checkpoints[2]!.sha256 = 'not-a-digest';
    const file = path.join(dir, 'bad.manifest.json');
    writeFileSync(file, JSON.stringify(bad));
    const { r, out } = await run(config('bad', 'after.manifest.json', file));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: field "shards[1].checkpoints[2].sha256": expected the checkpoint's artefact digest: 64 lower-case hex digits (SHA-256), got "not-a-digest"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(() => readFileSync(path.join(out, 'result.json'))).toThrow();
    // Constituents are resolved relative to the manifest: moved alone, it names the missing file.
    const moved = path.join(dir, 'moved.manifest.json');
    writeFileSync(moved, readFileSync(path.join(SISA, 'before.manifest.json')));
    const missing = await run(config('moved', 'after.manifest.json', moved));
    expect(missing.r.code).toBe(2);
    expect(missing.r.stderr).toContain(`${moved}: field "shards[0].model": constituent model of shard 0 not found: ${path.join(dir, 'models/before/shard-0/model.json')}`);
  }, 60_000);
});
