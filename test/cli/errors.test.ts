/** Bad input → exit 2 with a message naming file, line and field, never a stack trace. Spawned for real. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { FIXTURE } from '../helpers/paths.ts';

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-cli-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body);
  return dir;
}

const rec = (id: string, subject: string, text: string) => JSON.stringify({ id, subject, text });
const members = [rec('m1', 's1', 'hello there number one'), rec('m2', 's2', 'hello there number two')].join('\n');
const holdout = rec('h1', 's9', 'a record nobody trained on');
const forget = rec('m1', 's1', 'hello there number one');
const config = (extra = '') => `version: 1
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
data:
  members: ./members.jsonl
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
attacks:
  loss: {}
${extra}`;

function expectInputError(r: { code: number | null; stderr: string }, ...parts: string[]) {
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('privacy-audit: error:');
  for (const p of parts) expect(r.stderr).toContain(p);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user's mistake
}

describe('CLI input errors (exit 2)', () => {
  it('unknown config key: file, line and field', async () => {
    const dir = workspace({ 'c.yml': config('colour: red\n'), 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'c.yml:10', 'colour');
  });

  it('device: cuda where the CUDA execution provider does not load: exit 2 naming the field and the reason (a GPU machine runs the audit)', async () => {
    const dir = workspace({ 'c.yml': config('device: cuda\n'), 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    const r = await cli(['run', path.join(dir, 'c.yml'), '--bootstrap', '100']);
    if (r.code === 2) expectInputError(r, 'c.yml:10', 'field "device"', "needs onnxruntime-node's CUDA execution provider, which does not load on this machine", 'or use device: cpu');
    else expect([0, 1, 4], r.stderr).toContain(r.code);
  });

  it('malformed JSONL line', async () => {
    const dir = workspace({ 'c.yml': config(), 'members.jsonl': `${members}\n{"id": "m3", "text": `, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'members.jsonl:3');
  });

  it('record without text', async () => {
    const dir = workspace({ 'c.yml': config(), 'members.jsonl': `${members}\n{"id":"m3","subject":"s3"}`, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'members.jsonl:3', 'text');
  });

  it('duplicate ids', async () => {
    const dir = workspace({ 'c.yml': config(), 'members.jsonl': `${members}\n${rec('m2', 's2', 'again')}`, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'members.jsonl:3', 'id', 'm2');
  });

  it('forget record that is not a member', async () => {
    const dir = workspace({ 'c.yml': config(), 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': rec('x1', 's1', 'never trained on') });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'forget.jsonl:1', 'x1');
  });

  it('holdout record that is a member', async () => {
    const dir = workspace({ 'c.yml': config(), 'members.jsonl': members, 'holdout.jsonl': rec('m2', 's2', 'hello there number two'), 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'holdout.jsonl:1', 'm2');
  });

  it('missing data file', async () => {
    const dir = workspace({ 'c.yml': config(), 'members.jsonl': members, 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'c.yml', 'data.holdout');
  });

  it('missing model folder and bad model ref prefix', async () => {
    const dir = workspace({ 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    writeFileSync(path.join(dir, 'a.yml'), config().replace(/hf:.*\n/, 'hf:./nowhere\n'));
    expectInputError(await cli(['run', path.join(dir, 'a.yml')]), 'a.yml:3', 'models.before');
    writeFileSync(path.join(dir, 'b.yml'), config().replace(/hf:/, 'pt:'));
    expectInputError(await cli(['run', path.join(dir, 'b.yml')]), 'b.yml:3', 'models.before', 'hf:');
  });

  it('unknown attack and invalid attack option', async () => {
    const dir = workspace({ 'c.yml': config('  fancy: {}\n'), 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'c.yml:10', 'fancy', 'min-k');
    writeFileSync(path.join(dir, 'd.yml'), config('  min-k: { k: 7 }\n'));
    expectInputError(await cli(['run', path.join(dir, 'd.yml')]), 'd.yml:10', 'attacks.min-k.k');
  });

  it('CSV row without text', async () => {
    const dir = workspace({ 'members.csv': 'id,subject,text\nm1,s1,hello there number one\nm2,s2,\n', 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    writeFileSync(path.join(dir, 'c.yml'), config().replace('./members.jsonl', './members.csv'));
    expectInputError(await cli(['run', path.join(dir, 'c.yml')]), 'members.csv:3', 'text');
  });

  it('usage errors: unknown command, unknown flag, bad --workers', async () => {
    expectInputError(await cli(['frobnicate']), 'unknown command');
    const flag = await cli(['run', '--frob']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--frob');
    expectInputError(await cli(['run', '--workers', 'zero']), '--workers');
  });

  it('a missing config file', async () => {
    const dir = workspace({});
    expectInputError(await cli(['run', path.join(dir, 'nope.yml')]), 'nope.yml');
  });

  it('copies of the fixture data with a valid config load (the control for the cases above)', async () => {
    const dir = workspace({ 'c.yml': config(), 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    copyFileSync(path.join(FIXTURE, 'data/members.jsonl'), path.join(dir, 'unused.jsonl'));
    writeFileSync(path.join(dir, 'members.jsonl'), members);
    const r = await cli(['run', path.join(dir, 'c.yml'), '--no-cache', '--workers', '1', '--bootstrap', '50']);
    expect(r.stderr).not.toContain('error:');
    expect([0, 1, 4]).toContain(r.code);
  });
});

describe('models are opened before the pool starts', () => {
  // This used to be found by a worker (exit 3 after partial results); it is the user's file, so it is
  // now exit 2 naming the file, before any model work and before any output is written.
  it('an hf: folder whose onnx/model.onnx is not an ONNX graph: exit 2 naming the file, nothing written', async () => {
    const dir = workspace({ 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    const model = path.join(dir, 'broken');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      const src = path.join(FIXTURE, 'models/before', f);
      mkdirSync(path.join(model, 'onnx'), { recursive: true });
      copyFileSync(src, path.join(model, f));
    }
    writeFileSync(path.join(model, 'onnx/model.onnx'), 'this is not an ONNX graph');
    writeFileSync(path.join(dir, 'c.yml'), config().replace(/hf:.*\n/, 'hf:./broken\n'));
    const r = await cli(['run', path.join(dir, 'c.yml'), '--out', path.join(dir, 'out'), '--workers', '1']);
    expectInputError(r, 'broken/onnx/model.onnx', 'not an ONNX model');
    expect(existsSync(path.join(dir, 'out/result.json'))).toBe(false);
  });
});

describe('not-applicable attacks', () => {
  it('the reference attack without a reference model is not-applicable and its gate inconclusive', async () => {
    const dir = workspace({ 'members.jsonl': members, 'holdout.jsonl': holdout, 'forget.jsonl': forget });
    writeFileSync(path.join(dir, 'c.yml'), config('  reference: {}\n'));
    const r = await cli(['run', path.join(dir, 'c.yml'), '--out', path.join(dir, 'out'), '--workers', '1', '--bootstrap', '50']);
    const result = JSON.parse(readFileSync(path.join(dir, 'out/result.json'), 'utf8'));
    expect(result.attacks.find((a: { id: string }) => a.id === 'reference')).toMatchObject({ status: 'not-applicable', reason: expect.stringContaining('models.reference') });
    expect(result.gates.find((g: { id: string }) => g.id === 'before.forget.reference.auc')).toMatchObject({ status: 'inconclusive' });
    expect(r.code).toBe(4);
  });
});
