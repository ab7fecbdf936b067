import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configFromObject, loadConfig, type LoadOptions } from '../../src/config/load.ts';
import { expectInputError, hfFolder, jsonl, put, tmpDir } from './helpers.ts';

/** A tiny attack registry, as the real one will provide. */
const attackSchemas: Record<string, z.ZodType> = {
  loss: z.strictObject({}),
  'min-k': z.strictObject({ k: z.number().gt(0).max(1).default(0.2), minTokens: z.int().min(1).default(8) }),
};
const opts: LoadOptions = {
  attackOptions: (id) => attackSchemas[id],
  knownAttacks: Object.keys(attackSchemas),
};

const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

let dir: string;

beforeAll(async () => {
  dir = await tmpDir();
  await hfFolder(dir, 'models/before');
  await hfFolder(dir, 'models/after', { omit: ['tokenizer_config.json'] });
  await hfFolder(dir, 'models/broken', { omit: ['onnx/model.onnx'] });
  await put(dir, 'models/ref.onnx', 'raw-onnx');
  await put(dir, 'models/tok.json', '{}');
  await put(dir, 'models/tfjs/model.json', JSON.stringify({ weightsManifest: [{ paths: ['group1-shard1of1.bin'] }] }));
  await put(dir, 'models/tfjs/group1-shard1of1.bin', 'weights');
  await put(dir, 'data/members.jsonl', jsonl([{ id: 'm1', subject: 's1', text: 'alpha' }]));
  await put(dir, 'data/forget.jsonl', jsonl([{ id: 'm1', text: 'alpha' }]));
  await put(dir, 'data/holdout.csv', 'id,text\nh1,beta\n');
});

/** A valid YAML config; `patch` replaces whole lines by their key (simple, line-preserving edits). */
function yamlConfig(edit: (lines: string[]) => string[] = (l) => l): string {
  const lines = [
    'version: 1', //                                  1
    'seed: 7', //                                     2
    'workers: auto', //                               3
    'models:', //                                     4
    '  before: hf:./models/before', //                5
    '  after: hf:./models/after', //                  6
    '  retrained: tfjs:./models/tfjs/model.json', //  7
    '  reference: { ref: onnx:./models/ref.onnx, tokenizer: ./models/tok.json }', // 8
    'data:', //                                       9
    '  members: ./data/members.jsonl', //             10
    '  forget: ./data/forget.jsonl', //               11
    '  holdout: ./data/holdout.csv', //               12
    'attacks:', //                                    13
    '  min-k: { k: 0.3 }', //                         14
    '  loss: {}', //                                  15
  ];
  return edit(lines).join('\n') + '\n';
}

async function writeConfig(content: string, name = 'audit.yml'): Promise<string> {
  return put(dir, name, content);
}

describe('loadConfig: happy paths', () => {
  it('loads a YAML config: resolves paths, parses attack options, hashes every input', async () => {
    const file = await writeConfig(yamlConfig());
    const cfg = await loadConfig(file, opts);

    expect(cfg.configPath).toBe(file);
    expect(cfg.seed).toBe(7);
    expect(cfg.workers).toBe(Math.min(os.availableParallelism(), 4));
    expect(cfg.models.before).toEqual({ kind: 'hf', path: path.join(dir, 'models/before'), raw: 'hf:./models/before' });
    expect(cfg.models.retrained).toEqual({
      kind: 'tfjs',
      path: path.join(dir, 'models/tfjs/model.json'),
      raw: 'tfjs:./models/tfjs/model.json',
    });
    expect(cfg.models.reference).toEqual({
      kind: 'onnx',
      path: path.join(dir, 'models/ref.onnx'),
      tokenizer: path.join(dir, 'models/tok.json'),
      raw: 'onnx:./models/ref.onnx',
    });
    expect(cfg.data).toMatchObject({
      members: path.join(dir, 'data/members.jsonl'),
      forget: path.join(dir, 'data/forget.jsonl'),
      holdout: path.join(dir, 'data/holdout.csv'),
      fields: { id: 'id', subject: 'subject', text: 'text', pii: 'pii', features: 'features', label: 'label' },
    });
    expect(cfg.data.origin).toMatchObject({ file, lines: { 'data.members': 10, 'data.holdout': 12 } });
    // Options parsed with the attack's schema (defaults applied), in config order.
    expect(cfg.attacks).toEqual({ 'min-k': { k: 0.3, minTokens: 8 }, loss: {} });
    expect(Object.keys(cfg.attacks)).toEqual(['min-k', 'loss']);
    expect(cfg.outputDir).toBe(path.join(dir, 'privacy-audit-report'));
    expect(cfg.raw).toMatchObject({ seed: 7, attacks: { 'min-k': { k: 0.3 }, loss: {} } });

    const roles = cfg.inputs.map((i) => `${i.role} ${path.relative(dir, i.path)}`);
    expect(roles).toEqual([
      'config audit.yml',
      'model:before models/before/config.json',
      'model:before models/before/tokenizer.json',
      'model:before models/before/tokenizer_config.json',
      'model:before models/before/onnx/model.onnx',
      'model:after models/after/config.json',
      'model:after models/after/tokenizer.json',
      'model:after models/after/onnx/model.onnx',
      'model:retrained models/tfjs/model.json',
      'model:retrained models/tfjs/group1-shard1of1.bin',
      'model:reference models/ref.onnx',
      'model:reference models/tok.json',
      'data:members data/members.jsonl',
      'data:forget data/forget.jsonl',
      'data:holdout data/holdout.csv',
    ]);
    for (const i of cfg.inputs) expect(i.sha256).toBe(await sha(i.path));
  });

  it('loads the same config written as JSON', async () => {
    const obj = {
      $schema: '../schema/config.schema.json',
      version: 1,
      workers: 2,
      models: { before: 'hf:./models/before' },
      data: {
        members: './data/members.jsonl',
        forgetSubjects: ['s1', 42],
        holdout: './data/holdout.csv',
        fields: { text: 'body' },
        retainSample: 'all',
      },
      attacks: { loss: null },
      output: { dir: 'out/report' },
    };
    const file = await writeConfig(JSON.stringify(obj, null, 2), 'audit.json');
    const cfg = await loadConfig(file, opts);
    expect(cfg.seed).toBe(1);
    expect(cfg.workers).toBe(2);
    expect(cfg.data.forgetSubjects).toEqual(['s1', '42']);
    expect(cfg.data.forget).toBeUndefined();
    expect(cfg.data.fields).toEqual({ id: 'id', subject: 'subject', text: 'body', pii: 'pii', features: 'features', label: 'label' });
    expect(cfg.data.retainSample).toBe('all');
    expect(cfg.attacks).toEqual({ loss: {} });
    expect(cfg.outputDir).toBe(path.join(dir, 'out/report'));
    expect(cfg.data.origin.lines['data.forgetSubjects[1]']).toBe(12);
  });

  it('builds a config from an object (no file), resolving against baseDir', async () => {
    const cfg = await configFromObject(
      {
        models: { before: 'hf:models/before' },
        data: { members: 'data/members.jsonl', forget: 'data/forget.jsonl', holdout: 'data/holdout.csv' },
        attacks: { 'min-k': {} },
      },
      dir,
      opts,
    );
    expect(cfg.configPath).toBeUndefined();
    expect(cfg.models.before?.path).toBe(path.join(dir, 'models/before'));
    expect(cfg.attacks).toEqual({ 'min-k': { k: 0.2, minTokens: 8 } });
    expect(cfg.inputs.map((i) => i.role)).not.toContain('config');
    expect(cfg.data.origin).toEqual({ lines: {} });
  });

  it('reports object-config errors without a file or line', async () => {
    const e = await expectInputError(
      configFromObject({ models: {}, data: { members: 'x.jsonl', forget: 'f.jsonl', holdout: 'h.jsonl' } }, dir, opts),
      { field: 'models.before' },
      /required field "before" is missing/,
    );
    expect(e.where.file).toBeUndefined();
    expect(e.where.line).toBeUndefined();
  });
});

describe('loadConfig: bad input names file, line and field', () => {
  const replace = (lineNo: number, text: string) => (l: string[]) => l.map((x, i) => (i === lineNo - 1 ? text : x));
  const insertAfter = (lineNo: number, text: string) => (l: string[]) => [...l.slice(0, lineNo), text, ...l.slice(lineNo)];

  it('unknown top-level key', async () => {
    const file = await writeConfig(yamlConfig(insertAfter(3, 'colour: blue')));
    const e = await expectInputError(
      loadConfig(file, opts),
      { file, line: 4, field: 'colour' },
      /unknown key "colour"; allowed keys: .*models, data, attacks, assert, shadow, deletion, report, output/,
    );
    expect(e.format()).toBe(`${file}:4: field "colour": ${e.message}`);
  });

  it('unknown key under data (a typo is reported before the missing key it hides)', async () => {
    const file = await writeConfig(yamlConfig(replace(12, '  holdot: ./data/holdout.csv')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 12, field: 'data.holdot' },
      /unknown key "holdot"; allowed keys: members, forget, forgetSubjects, holdout, population, fields, retainSample \(and 1 more problem\)/,
    );
  });

  it('missing required models.before points at the models key', async () => {
    const file = await writeConfig(yamlConfig((l) => l.filter((_, i) => i !== 4)));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 4, field: 'models.before' },
      /required field "before" is missing \(expected a model ref string \(hf:<folder>, onnx:<file.onnx>, tfjs:<model.json> or openai:<baseURL>#<served model id>\)/,
    );
  });

  it('a served model: the object form with defaults, the short form borrowing a local tokenizer, and their mistakes', async () => {
    const served = await loadConfig(
      await writeConfig(yamlConfig(replace(6, '  after: { kind: openai-compatible, baseURL: "http://127.0.0.1:8000/v1/", model: ft, tokenizer: ./models/before, apiKeyEnv: VLLM_KEY }'))),
      opts,
    );
    expect(served.models.after).toMatchObject({ kind: 'openai', path: 'http://127.0.0.1:8000/v1', raw: 'openai:http://127.0.0.1:8000/v1/#ft' });
    expect(served.models.after!.served).toMatchObject({ baseURL: 'http://127.0.0.1:8000/v1', model: 'ft', tokenizer: path.join(dir, 'models/before'), apiKeyEnv: 'VLLM_KEY', protocol: 'auto', maxConcurrency: 4, timeoutMs: 60_000, maxRetries: 4 });
    // The tokenizer's files are the served model's local inputs (hashed, verified like any input).
    expect(served.inputs.filter((i) => i.role === 'model:after').map((i) => path.basename(i.path)).sort()).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json']);
    const short = await loadConfig(await writeConfig(yamlConfig(replace(6, '  after: openai:http://10.0.0.7:8001/v1#ft-2026'))), opts);
    expect(short.models.after!.served).toMatchObject({ baseURL: 'http://10.0.0.7:8001/v1', model: 'ft-2026', tokenizer: path.join(dir, 'models/before'), tokenizerFrom: 'models.before' });
    const file = await writeConfig(yamlConfig(replace(6, '  after: { kind: openai-compatible, baseURL: "ftp://x", model: ft }')));
    await expectInputError(loadConfig(file, opts), { file, line: 6, field: 'models.after.baseURL' }, /expected an http\(s\) URL/);
    const file2 = await writeConfig(yamlConfig(replace(6, '  after: { kind: openai-compatible, baseURL: "http://x/v1", model: ft, apiKey: sk-123 }')));
    await expectInputError(loadConfig(file2, opts), { file: file2, line: 6, field: 'models.after.apiKey' }, /unknown key "apiKey"; allowed keys: kind, baseURL, model, tokenizer, apiKeyEnv/);
    const file3 = await writeConfig(yamlConfig(replace(6, '  after: openai:http://x/v1')));
    await expectInputError(loadConfig(file3, opts), { file: file3, line: 6, field: 'models.after' }, /must read openai:<baseURL>#<served model id>/);
    // Only served models and classifiers: no local causal LM to borrow a tokenizer from.
    const file4 = await writeConfig(yamlConfig((l) => replace(5, '  before: openai:http://x/v1#ft')(l).filter((_, i) => i !== 5)));
    await expectInputError(loadConfig(file4, opts), { file: file4, field: 'models.before' }, /needs a tokenizer: give \{ kind: openai-compatible/);
  });

  it('bad model ref prefix names the accepted prefixes', async () => {
    const file = await writeConfig(yamlConfig(replace(6, '  after: s3://bucket/model')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 6, field: 'models.after' },
      /unknown model ref "s3:\/\/bucket\/model": expected a prefix, one of hf:<folder>, onnx:<file.onnx>, tfjs:<model.json> or openai:<baseURL>#<served model id>/,
    );
  });

  it('bad model ref inside the object form', async () => {
    const file = await writeConfig(yamlConfig(replace(8, '  reference: { ref: ./models/ref.onnx }')));
    await expectInputError(loadConfig(file, opts), { file, line: 8, field: 'models.reference.ref' }, /unknown model ref/);
  });

  it('tokenizer on an hf: ref is rejected', async () => {
    const file = await writeConfig(yamlConfig(replace(5, '  before: { ref: "hf:./models/before", tokenizer: ./models/tok.json }')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 5, field: 'models.before.tokenizer' },
      /"tokenizer" is only for onnx: refs/,
    );
  });

  it('missing model folder names the field and the resolved path', async () => {
    const file = await writeConfig(yamlConfig(replace(6, '  after: hf:./models/nope')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 6, field: 'models.after' },
      new RegExp(`Hugging Face model folder \\(from "hf:./models/nope"\\) not found: ${path.join(dir, 'models/nope')}`),
    );
  });

  it('hf folder without onnx/model.onnx', async () => {
    const file = await writeConfig(yamlConfig(replace(6, '  after: hf:./models/broken')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 6, field: 'models.after' },
      /models\/broken \(from "hf:.\/models\/broken"\) is missing onnx\/model.onnx/,
    );
  });

  it('missing onnx tokenizer file', async () => {
    const file = await writeConfig(yamlConfig(replace(8, '  reference: { ref: onnx:./models/ref.onnx, tokenizer: ./nope.json }')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 8, field: 'models.reference.tokenizer' },
      new RegExp(`tokenizer file not found: ${path.join(dir, 'nope.json')}`),
    );
  });

  it('missing data file names the field and the resolved path', async () => {
    const file = await writeConfig(yamlConfig(replace(12, '  holdout: ./data/missing.jsonl')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 12, field: 'data.holdout' },
      new RegExp(`data file not found: ${path.join(dir, 'data/missing.jsonl')}`),
    );
  });

  it('unsupported data file type', async () => {
    const file = await writeConfig(yamlConfig(replace(10, '  members: ./data/members.txt')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 10, field: 'data.members' },
      /unsupported data file type ".txt".*expected .jsonl, .ndjson, .csv/,
    );
  });

  it('forget and forgetSubjects together', async () => {
    const file = await writeConfig(yamlConfig(insertAfter(11, '  forgetSubjects: [s1]')));
    await expectInputError(
      loadConfig(file, opts),
      { file, line: 12, field: 'data.forgetSubjects' },
      /either "forget" \(a file\) or "forgetSubjects" \(subject ids\), not both/,
    );
  });

  it('neither forget nor forgetSubjects', async () => {
    const file = await writeConfig(yamlConfig((l) => l.filter((_, i) => i !== 10)));
    await expectInputError(loadConfig(file, opts), { file, line: 9, field: 'data' }, /one of "forget" \(a file\) or "forgetSubjects"/);
  });

  it('bad workers and seed values', async () => {
    let file = await writeConfig(yamlConfig(replace(3, 'workers: 0')));
    await expectInputError(loadConfig(file, opts), { file, line: 3, field: 'workers' }, /expected "auto" or a positive integer, got 0/);
    file = await writeConfig(yamlConfig(replace(2, 'seed: 1.5')));
    await expectInputError(loadConfig(file, opts), { file, line: 2, field: 'seed' }, /expected an integer seed, got a number/);
    file = await writeConfig(yamlConfig(replace(1, 'version: 2')));
    await expectInputError(loadConfig(file, opts), { file, line: 1, field: 'version' }, /expected version: 1, got 2/);
  });

  it('wrong type for a data path', async () => {
    const file = await writeConfig(yamlConfig(replace(10, '  members: [a, b]')));
    await expectInputError(loadConfig(file, opts), { file, line: 10, field: 'data.members' }, /expected a file path: records the "before" model was trained on.*got a list/);
  });

  it('unknown attack id lists the known ones', async () => {
    const file = await writeConfig(yamlConfig(insertAfter(15, '  lira2: {}')));
    await expectInputError(loadConfig(file, opts), { file, line: 16, field: 'attacks.lira2' }, /unknown attack "lira2"; known attacks: loss, min-k/);
  });

  it('invalid attack option is checked by the attack schema', async () => {
    const file = await writeConfig(yamlConfig(replace(14, '  min-k:\n    k: 2')));
    await expectInputError(loadConfig(file, opts), { file, line: 15, field: 'attacks.min-k.k' }, /attack "min-k": Too big: expected number to be <=1, got 2/);
  });

  it('unknown attack option key', async () => {
    const file = await writeConfig(yamlConfig(replace(14, '  min-k: { kk: 0.1 }')));
    await expectInputError(loadConfig(file, opts), { file, line: 14, field: 'attacks.min-k.kk' }, /attack "min-k": Unrecognized key: "kk"/);
  });

  it('attack options that are not an object', async () => {
    const file = await writeConfig(yamlConfig(replace(15, '  loss: yes')));
    await expectInputError(loadConfig(file, opts), { file, line: 15, field: 'attacks.loss' }, /expected an options object/);
  });

  it('YAML syntax error gives the line', async () => {
    const file = await writeConfig(yamlConfig(replace(12, '  holdout: [./data/holdout.csv')));
    await expectInputError(loadConfig(file, opts), { file, line: 13 }, /^YAML syntax error: /);
  });

  it('YAML duplicate key', async () => {
    const file = await writeConfig(yamlConfig(insertAfter(2, 'seed: 8')));
    await expectInputError(loadConfig(file, opts), { file, line: 3, field: 'seed' }, /duplicate key "seed": each key may appear once/);
  });

  it('JSON syntax error gives the line', async () => {
    const file = await writeConfig('{\n  "seed": 1,\n  "models": {"before": "hf:./models/before"\n  "data": {}\n}\n', 'bad.json');
    const e = await expectInputError(loadConfig(file, opts), { file }, /^JSON syntax error: /);
    expect(e.where.line).toBeGreaterThanOrEqual(3);
  });

  it('JSON config errors point at the JSON line', async () => {
    const obj = { models: { before: 'hf:./models/before' }, data: { members: './data/members.jsonl', forget: './data/forget.jsonl', holdout: './data/holdout.csv', extra: 1 } };
    const file = await writeConfig(JSON.stringify(obj, null, 2), 'extra.json');
    await expectInputError(loadConfig(file, opts), { file, line: 9, field: 'data.extra' }, /unknown key "extra"/);
  });

  it('empty config, non-mapping config, missing and unsupported config files', async () => {
    let file = await writeConfig('# nothing\n', 'empty.yml');
    await expectInputError(loadConfig(file, opts), { file }, /the config is empty/);
    file = await writeConfig('- a\n- b\n', 'list.yml');
    await expectInputError(loadConfig(file, opts), { file }, /expected a mapping \(key: value\) at the top of the config, got a list/);
    file = path.join(dir, 'nope.yml');
    await expectInputError(loadConfig(file, opts), { file }, /config file not found/);
    file = await writeConfig('x', 'audit.toml');
    await expectInputError(loadConfig(file, opts), { file }, /unsupported config file type ".toml"/);
  });
});

describe('assert: gate names are checked when the config is loaded', () => {
  const base = async (assertBlock: string) => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-assert-'));
    mkdirSync(path.join(dir, 'm/onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) writeFileSync(path.join(dir, 'm', f), '{}');
    writeFileSync(path.join(dir, 'members.jsonl'), '{"id":"a","subject":"s","text":"x"}\n');
    writeFileSync(path.join(dir, 'holdout.jsonl'), '{"id":"b","subject":"t","text":"y"}\n');
    const file = path.join(dir, 'c.yml');
    writeFileSync(file, `version: 1\nmodels:\n  before: hf:./m\ndata:\n  members: ./members.jsonl\n  forgetSubjects: [s]\n  holdout: ./holdout.jsonl\nattacks:\n  loss: {}\n  pii-extraction: {}\n${assertBlock}`);
    const { loadConfig } = await import('../../src/config/load.ts');
    const { getAttack, attackIds } = await import('../../attacks/index.ts');
    return loadConfig(file, { attackOptions: (id) => getAttack(id)?.options, knownAttacks: attackIds(), attackFamily: (id) => getAttack(id)?.meta.family });
  };

  it('accepts a preset, wildcards, shipped and levels', async () => {
    const cfg = await base(`assert:\n  preset: privacy-audit:anonymisation\n  assertions:\n    shipped.forget.*.auc: [error, { max: 0.55 }]\n    after.forget.loss.tpr@0.01: [warn, { max: 0.05 }]\n    after.equivalence.loss: [error, { margin: 0.04 }]\n    before.retain.pii-extraction.rate: off\n`);
    expect(cfg.assert?.preset).toBe('privacy-audit:anonymisation');
    expect(Object.keys(cfg.assert!.assertions)).toHaveLength(4);
  });

  it('the removed `contains` and `bound` options are errors that say why', async () => {
    await expect(base(`assert:\n  assertions:\n    after.privleak.loss: [error, { contains: 0 }]\n`)).rejects.toMatchObject({ message: expect.stringContaining('rewards wide intervals') });
    await expect(base(`assert:\n  assertions:\n    after.forget.loss.auc: [error, { max: 0.6, bound: upper }]\n`)).rejects.toMatchObject({ message: expect.stringContaining('decided by its whole interval') });
    await expect(base(`assert:\n  assertions:\n    before.equivalence.loss: error\n`)).rejects.toMatchObject({ message: expect.stringContaining('write after.equivalence') });
  });

  it('an unknown metric, an attack not configured, and a metric of the wrong family are exit-2 errors with the line', async () => {
    await expect(base(`assert:\n  assertions:\n    after.forget.loss.f1: error\n`)).rejects.toMatchObject({ where: { line: 13, field: 'assert.assertions.after.forget.loss.f1' }, message: expect.stringContaining('unknown metric') });
    await expect(base(`assert:\n  assertions:\n    after.forget.zlib.auc: error\n`)).rejects.toMatchObject({ message: expect.stringContaining('attack "zlib" is not in attacks') });
    await expect(base(`assert:\n  assertions:\n    after.forget.loss.hits: error\n`)).rejects.toMatchObject({ message: expect.stringContaining('membership attack') });
    await expect(base(`assert:\n  assertions:\n    after.forget.loss.auc: [fatal]\n`)).rejects.toMatchObject({ where: { field: expect.stringContaining('assert.assertions') } });
  });
});

describe('deletion and report options', () => {
  it('are accepted, strict, and kept in the raw config for the report', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-del-'));
    mkdirSync(path.join(dir, 'm/onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) writeFileSync(path.join(dir, 'm', f), '{}');
    writeFileSync(path.join(dir, 'members.jsonl'), '{"id":"a","subject":"s","text":"x"}\n');
    writeFileSync(path.join(dir, 'holdout.jsonl'), '{"id":"b","subject":"t","text":"y"}\n');
    const body = (extra: string) => `version: 1\nmodels:\n  before: hf:./m\ndata:\n  members: ./members.jsonl\n  forgetSubjects: [s]\n  holdout: ./holdout.jsonl\n${extra}`;
    const { loadConfig } = await import('../../src/config/load.ts');
    const opts = { attackOptions: () => undefined };
    writeFileSync(path.join(dir, 'ok.yml'), body('deletion: { method: retrained, date: 2026-11-20, reference: DSR-1 }\nreport: { threatModel: [a, b] }\n'));
    const cfg = await loadConfig(path.join(dir, 'ok.yml'), opts);
    expect((cfg.raw as { deletion: unknown }).deletion).toEqual({ method: 'retrained', date: '2026-11-20', reference: 'DSR-1' });
    writeFileSync(path.join(dir, 'bad.yml'), body('deletion: { how: retrained }\n'));
    await expect(loadConfig(path.join(dir, 'bad.yml'), opts)).rejects.toMatchObject({ where: { line: 8 }, message: expect.stringContaining('allowed keys: method, date, reference') });
  });
});
