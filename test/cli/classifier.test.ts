/**
 * Classifier audits through the CLI, beyond the tabular end-to-end test: a text classifier (ONNX,
 * token ids) runs loss and LiRA (shadows on bag-of-tokens vectors) and says why RMIA does not; a user's
 * mistakes (no tokenizer, a record without features or with a label the model cannot output, mixed
 * model kinds) exit 2 naming the file, line or field.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { REPO, TABULAR } from '../helpers/paths.ts';

const TICKETS = path.join(REPO, 'fixtures/ticket-classifier');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pa-classifier-'));

/** A config in tmp whose relative paths point into `base`. */
function config(name: string, base: string, yaml: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, yaml.replaceAll('BASE', base));
  return file;
}

describe('a text classifier (onnx: with input_ids and a tokenizer)', () => {
  it('runs loss, and lira on bag-of-tokens shadows; rmia without population is not applicable, with the reason', async () => {
    const out = path.join(tmp, 'tickets');
    const r = await cli(['run', path.join(TICKETS, 'privacy-audit.yml'), '--out', out]);
    const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;
    expect(result.attacks.map((a) => [a.id, a.status])).toEqual([
      ['loss', 'ok'],
      ['lira', 'ok'],
      ['rmia', 'not-applicable'],
    ]);
    expect(result.attacks[2]!.reason).toMatch(/needs data\.population/);
    for (const attack of ['loss', 'lira']) {
      const f = result.findings.find((x) => x.attack === attack && x.positive === 'forget' && x.negative === 'holdout');
      expect(f?.n).toEqual({ positive: 227, negative: 461 });
    }
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).shadowsTrained).toBe(8);
    expect(r.code).not.toBe(2);
  }, 120_000);

  it('without its tokenizer: exit 2 naming models.before', async () => {
    const file = config('no-tokenizer.yml', TICKETS, `models:\n  before: onnx:BASE/models/model.onnx\ndata:\n  members: BASE/data/members.jsonl\n  forget: BASE/data/forget.jsonl\n  holdout: BASE/data/holdout.jsonl\nattacks:\n  loss: {}\n`);
    const r = await cli(['run', file, '--out', path.join(tmp, 'o1')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models\.before/);
    expect(r.stderr).toMatch(/text classifier.*tokenizer/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);
});

describe('tabular classifier input errors', () => {
  const yaml = (members: string, extra = '') =>
    `models:\n  before: onnx:BASE/models/overfit.onnx\n${extra}data:\n  members: ${members}\n  forget: BASE/data/forget.jsonl\n  holdout: BASE/data/holdout.jsonl\nattacks:\n  loss: {}\n  lira: { shadows: 2 }\n`;

  it('a member record without features: exit 2 with file, line and field', async () => {
    const lines = readFileSync(path.join(TABULAR, 'data/members.jsonl'), 'utf8').trim().split('\n');
    const bad = JSON.parse(lines[150]!) as Record<string, unknown>;
    delete bad.features;
    bad.text = 'no features here';
    lines[150] = JSON.stringify(bad);
    const members = path.join(tmp, 'members-nofeatures.jsonl');
    writeFileSync(members, lines.join('\n') + '\n');
    const r = await cli(['run', config('nofeatures.yml', TABULAR, yaml(members)), '--out', path.join(tmp, 'o2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('members-nofeatures.jsonl:151');
    expect(r.stderr).toMatch(/no features/);
  }, 60_000);

  it('a label the model cannot output: exit 2 naming the record and the class count', async () => {
    const lines = readFileSync(path.join(TABULAR, 'data/holdout.jsonl'), 'utf8').trim().split('\n');
    const bad = JSON.parse(lines[120]!) as Record<string, unknown>;
    bad.label = 25;
    lines[120] = JSON.stringify(bad);
    const holdout = path.join(tmp, 'holdout-label.jsonl');
    writeFileSync(holdout, lines.join('\n') + '\n');
    const file = config('label.yml', TABULAR, yaml('BASE/data/members.jsonl').replace('BASE/data/holdout.jsonl', holdout).replaceAll('BASE', TABULAR));
    const r = await cli(['run', file, '--out', path.join(tmp, 'o3')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holdout-label.jsonl:121');
    expect(r.stderr).toMatch(/label 25 but the before model outputs 20 classes/);
  }, 120_000);

  it('a causal LM next to a classifier: exit 2 naming the role', async () => {
    const file = config('mixed.yml', TABULAR, yaml('BASE/data/members.jsonl', `  after: hf:${path.join(REPO, 'fixtures/support-desk/models/before')}\n`));
    const r = await cli(['run', file, '--out', path.join(tmp, 'o4')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models\.after/);
    expect(r.stderr).toMatch(/same kind/);
  }, 60_000);

  it('records of another width than the model takes: exit 2 naming the model and a record', async () => {
    const cut = (name: string) => {
      const out = path.join(tmp, `w-${name}`);
      const rows = readFileSync(path.join(TABULAR, 'data', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { features: number[] });
      writeFileSync(out, rows.map((r) => JSON.stringify({ ...r, features: r.features.slice(0, 99) })).join('\n') + '\n');
      return out;
    };
    const file = config('width.yml', TABULAR, yaml(cut('members.jsonl')).replace('BASE/data/forget.jsonl', cut('forget.jsonl')).replace('BASE/data/holdout.jsonl', cut('holdout.jsonl')).replaceAll('BASE', TABULAR));
    const r = await cli(['run', file, '--out', path.join(tmp, 'o5')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models\.before/);
    expect(r.stderr).toMatch(/takes 100 features per record, but the records have 99/);
  }, 60_000);

  it('a file that is not an ONNX model, and a truncated tfjs weights file: exit 2 naming the file', async () => {
    const bogus = path.join(tmp, 'bogus.onnx');
    writeFileSync(bogus, 'not a model');
    const r1 = await cli(['run', config('bogus.yml', TABULAR, yaml('BASE/data/members.jsonl').replace('onnx:BASE/models/overfit.onnx', `onnx:${bogus}`)), '--out', path.join(tmp, 'o6')]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('bogus.onnx');
    expect(r1.stderr).toMatch(/not an ONNX model/);

    const dir = path.join(tmp, 'truncated');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(TABULAR, 'models/retrained/model.json'), path.join(dir, 'model.json'));
    writeFileSync(path.join(dir, 'weights.bin'), readFileSync(path.join(TABULAR, 'models/retrained/weights.bin')).subarray(0, 1000));
    const r2 = await cli(['run', config('truncated.yml', TABULAR, yaml('BASE/data/members.jsonl', `  after: tfjs:${path.join(dir, 'model.json')}\n`)), '--out', path.join(tmp, 'o7')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('model.json');
    expect(r2.stderr).toMatch(/hold 1000 bytes/);
    expect(r2.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a forget record whose label differs from its member record: exit 2 with file and line', async () => {
    const lines = readFileSync(path.join(TABULAR, 'data/forget.jsonl'), 'utf8').trim().split('\n');
    const bad = JSON.parse(lines[7]!) as { label: number };
    bad.label = (bad.label + 1) % 20;
    lines[7] = JSON.stringify(bad);
    const forget = path.join(tmp, 'forget-label.jsonl');
    writeFileSync(forget, lines.join('\n') + '\n');
    const r = await cli(['run', config('forget-label.yml', TABULAR, yaml('BASE/data/members.jsonl').replace('BASE/data/forget.jsonl', forget)), '--out', path.join(tmp, 'o8')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('forget-label.jsonl:8');
    expect(r.stderr).toMatch(/has label \d+ but the member record/);
  }, 60_000);
});
