/**
 * `privacy-audit init`, spawned as a user runs it: the model kind from what is on disk, the data
 * files found or placeholders, validation by the real config loader, never overwriting without --force.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli } from '../helpers/cli.ts';
import { FIXTURE, REPO } from '../helpers/paths.ts';

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), `privacy-audit-init-${name}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('privacy-audit init', () => {
  it('a folder of causal LMs and data files: roles from the names, every file found, the config loads; kept without --force', async () => {
    const d = tmp('lm');
    for (const m of ['before', 'after-retrained']) cpSync(path.join(FIXTURE, 'models', m), path.join(d, 'models', m), { recursive: true });
    cpSync(path.join(FIXTURE, 'data'), path.join(d, 'data'), { recursive: true });
    const r = await cli(['init', '--json'], { cwd: d });
    expect(r.stderr).toContain('the config loads; next: privacy-audit run privacy-audit.yml');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: 'causal-lm',
      models: { before: 'hf:./models/before', after: 'hf:./models/after-retrained' },
      data: { members: './data/members.jsonl', forget: './data/forget.jsonl', holdout: './data/holdout.jsonl' },
      placeholders: [],
      valid: true,
    });
    const text = readFileSync(path.join(d, 'privacy-audit.yml'), 'utf8');
    const cfg = parse(text) as { attacks: Record<string, unknown>; assert: unknown };
    // Every attack that runs on a local causal LM, pii-extraction because the records declare PII.
    expect(Object.keys(cfg.attacks)).toEqual(['loss', 'zlib', 'min-k', 'min-k-plus-plus', 'prefix-extraction', 'pii-extraction']);
    expect(cfg.assert).toEqual({ preset: 'privacy-audit:unlearning' });
    expect(text).toMatch(/^# yaml-language-server: \$schema=.*schema\/config\.schema\.json$/m);
    expect(text).toContain('# retrained: hf:./path/to/folder');

    writeFileSync(path.join(d, 'privacy-audit.yml'), '# mine\n');
    const again = await cli(['init'], { cwd: d });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${path.join(d, 'privacy-audit.yml')}: already exists; run init with --force to replace it`);
    expect(readFileSync(path.join(d, 'privacy-audit.yml'), 'utf8')).toBe('# mine\n');
    const forced = await cli(['init', '--force', 'models/before'], { cwd: d });
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(d, 'privacy-audit.yml'), 'utf8')).toContain('before: hf:./models/before');
  });

  it('an .onnx classifier with only some data: placeholders that the loader names, and rmia left out without population', async () => {
    const d = tmp('onnx');
    cpSync(path.join(REPO, 'fixtures/ticket-classifier/models/model.onnx'), path.join(d, 'classifier.onnx'));
    cpSync(path.join(REPO, 'fixtures/ticket-classifier/data/members.jsonl'), path.join(d, 'train.jsonl'));
    const r = await cli(['init', '--json'], { cwd: d });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'classifier', models: { before: 'onnx:./classifier.onnx' }, data: { members: './train.jsonl' }, placeholders: ['data.forget', 'data.holdout'], valid: false });
    expect(r.stderr).toContain('fill in data.forget, data.holdout (marked CHANGE-ME)');
    const text = readFileSync(path.join(d, 'privacy-audit.yml'), 'utf8');
    expect(Object.keys((parse(text) as { attacks: object }).attacks)).toEqual(['loss', 'shadow', 'lira']);
    expect(text).toContain('# rmia: { references: 4 }        # needs data.population');
    const run = await cli(['run'], { cwd: d });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CHANGE-ME-forget\.jsonl/);
  });

  it('a served model URL: an openai-compatible model with the local tokenizer; no model here is exit 2', async () => {
    const d = tmp('served');
    cpSync(path.join(FIXTURE, 'models/before'), path.join(d, 'base'), { recursive: true });
    mkdirSync(path.join(d, 'data'));
    for (const f of ['members', 'forget', 'holdout']) cpSync(path.join(FIXTURE, 'data', `${f}.jsonl`), path.join(d, 'data', `${f}.jsonl`));
    const r = await cli(['init', '--json', 'http://10.0.0.7:8000/v1#support-desk-2026-11'], { cwd: d });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'served', placeholders: [], valid: true });
    const cfg = parse(readFileSync(path.join(d, 'privacy-audit.yml'), 'utf8')) as { models: { before: unknown }; attacks: object };
    expect(cfg.models.before).toEqual({ kind: 'openai-compatible', baseURL: 'http://10.0.0.7:8000/v1', model: 'support-desk-2026-11', tokenizer: './base' });
    // min-k-plus-plus needs the whole next-token distribution, which an endpoint does not return.
    expect(Object.keys(cfg.attacks)).toEqual(['loss', 'zlib', 'min-k', 'prefix-extraction', 'pii-extraction']);

    const empty = tmp('empty');
    const none = await cli(['init'], { cwd: empty });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no model found here');
    const bad = await cli(['init', 'nope.txt'], { cwd: empty });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${path.join(empty, 'nope.txt')}: no such file or folder`);
  });
});
