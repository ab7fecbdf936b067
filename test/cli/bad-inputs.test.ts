/**
 * The bad-input corpus: realistic mistakes (and a few hostile files), each run through the real CLI.
 * Every case must exit 2 with one message that names the file (and the line and field where there is
 * one), print no stack trace, and leave no output that claims a verdict. Config and data mistakes are
 * found before any model is loaded; model mistakes before the worker pool starts.
 *
 * Table-driven: a case is a workspace (files written into a fresh temp folder on top of a valid
 * base), the CLI arguments, and the fragments its message must (and must not) contain. Cases run
 * concurrently (vitest's maxConcurrency). Models are the real fixture files, copied and broken.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE, REPO, TABULAR } from '../helpers/paths.ts';

const MODEL = path.join(FIXTURE, 'models/before');
const TICKETS = path.join(REPO, 'fixtures/ticket-classifier');
const VERDICT_FILES = ['result.json', 'report.html', 'summary.md', 'junit.xml'];

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rec = (id: string, subject: string, text: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, subject, text, ...extra });
const MEMBERS = [
  rec('m1', 's1', 'Refund request from the first customer, order 1001.'),
  rec('m2', 's2', 'The lamp arrived broken, second customer writes.'),
  rec('m3', 's3', 'Third customer asks about a late parcel.'),
  rec('m4', 's4', 'Fourth customer wants to change the address.'),
].join('\n');
const FORGET = rec('m1', 's1', 'Refund request from the first customer, order 1001.');
const HOLDOUT = [rec('h1', 's8', 'A ticket nobody trained on, about a kettle.'), rec('h2', 's9', 'Another unseen ticket, about shoes.')].join('\n');

interface ConfigParts {
  model?: string;
  data?: string;
  attacks?: string;
  extra?: string;
}

/**
 * A valid config (YAML); every part can be replaced. Lines: 3 models.before, 5–7 data.members, forget,
 * holdout, 9 the first attack, 10 on: `extra`.
 */
function config(p: ConfigParts = {}): string {
  return [
    'version: 1',
    'models:',
    `  before: ${p.model ?? `hf:${MODEL}`}`,
    'data:',
    ...(p.data ?? '  members: ./members.jsonl\n  forget: ./forget.jsonl\n  holdout: ./holdout.jsonl').split('\n'),
    'attacks:',
    ...(p.attacks ?? '  loss: {}').split('\n'),
    ...(p.extra ? p.extra.split('\n') : []),
    '',
  ].join('\n');
}

/** A tabular (classifier) config on the tabular fixture's data. */
const tabular = (p: ConfigParts = {}) =>
  config({
    model: p.model ?? `onnx:${path.join(TABULAR, 'models/overfit.onnx')}`,
    data: `  members: ${TABULAR}/data/members.jsonl\n  forget: ${TABULAR}/data/forget.jsonl\n  holdout: ${TABULAR}/data/holdout.jsonl`,
    ...(p.attacks !== undefined ? { attacks: p.attacks } : {}),
    ...(p.extra !== undefined ? { extra: p.extra } : {}),
  });

/** Copies the fixture model into dir/name and applies `edit` to it (file name → new content). */
function brokenModel(dir: string, name: string, edit: Record<string, string | Buffer | ((old: Buffer) => string | Buffer)>): string {
  const to = path.join(dir, name);
  cpSync(MODEL, to, { recursive: true });
  for (const [f, content] of Object.entries(edit)) {
    const p = path.join(to, f);
    writeFileSync(p, typeof content === 'function' ? content(readFileSync(p)) : content);
  }
  return `hf:./${name}`;
}

const editJson = (edit: (o: Record<string, unknown>) => void) => (old: Buffer) => {
  const o = JSON.parse(old.toString('utf8')) as Record<string, unknown>;
  edit(o);
  return JSON.stringify(o, null, 2);
};

interface Case {
  name: string;
  /** Files of the workspace (relative path → content), on top of members/forget/holdout and c.yml. */
  files?: Record<string, string | Buffer>;
  /** Config text; default `config()`. */
  config?: string | ((dir: string) => string);
  /** Arguments after `run <config> --out <out>`; or the whole argument list. */
  args?: string[];
  argv?: (dir: string) => string[];
  /** Fragments the message must contain: file names with line, field names, numbers. */
  names: string[];
  /** Fragments it must not contain (e.g. a subject id). */
  not?: string[];
}

function workspace(c: Case): { dir: string; cfg: string; out: string } {
  const dir = tempDir('pa-bad-');
  const files: Record<string, string | Buffer> = { 'members.jsonl': MEMBERS, 'forget.jsonl': FORGET, 'holdout.jsonl': HOLDOUT, ...c.files };
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), body);
  }
  const cfg = path.join(dir, 'c.yml');
  if (!existsSync(cfg)) writeFileSync(cfg, typeof c.config === 'function' ? c.config(dir) : (c.config ?? config()));
  return { dir, cfg, out: path.join(dir, 'out') };
}

const cases: Case[] = [
  // ---- the config file itself
  { name: 'config file not found', argv: (d) => ['run', path.join(d, 'nope.yml')], names: ['nope.yml', 'not found'] },
  { name: 'config with a wrong extension', files: { 'c.txt': config() }, argv: (d) => ['run', path.join(d, 'c.txt')], names: ['c.txt', '.yml, .yaml or .json'] },
  { name: 'empty config file', config: '', names: ['c.yml', 'empty'] },
  { name: 'config path is a folder', files: { 'dir.yml/x': '' }, argv: (d) => ['run', path.join(d, 'dir.yml')], names: ['dir.yml', 'folder'] },
  { name: 'YAML syntax error', config: config().replace('attacks:', 'attacks: [\n'), names: ['c.yml:', 'YAML syntax error'] },
  { name: 'JSON config syntax error', files: { 'c.json': '{\n  "version": 1,\n  "models": {\n}' }, argv: (d) => ['run', path.join(d, 'c.json')], names: ['c.json:', 'JSON syntax error'] },
  {
    name: 'YAML alias bomb (billion laughs)',
    config: ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`), config()].join('\n'),
    names: ['c.yml', 'alias'],
  },
  { name: 'config nested too deeply', config: config({ extra: `report: ${'['.repeat(200)}${']'.repeat(200)}` }), names: ['c.yml', 'nested too deeply'] },
  { name: 'config larger than 1 MiB', config: config() + `# ${'x'.repeat(1100 * 1024)}\n`, names: ['c.yml', 'MiB'] },
  { name: 'config not UTF-8', files: { 'c.yml': Buffer.concat([Buffer.from(config()), Buffer.from('deletion: { method: "caf'), Buffer.from([0xe9]), Buffer.from('" }\n')]) }, names: ['c.yml:10', 'not valid UTF-8', '0xe9'] },
  { name: 'unknown top-level key', config: config({ extra: 'colour: red' }), names: ['c.yml:10', 'field "colour"', 'allowed keys'] },
  { name: 'duplicate key', config: config({ extra: 'seed: 1\nseed: 2' }), names: ['c.yml:11', 'duplicate key "seed"'] },
  { name: 'missing models.before', config: config().replace(/models:\n.*\n/, 'models: {}\n'), names: ['c.yml:2', 'models.before'] },
  { name: 'seed: .nan', config: config({ extra: 'seed: .nan' }), names: ['c.yml:10', 'field "seed"', '.nan (not a number)', 'finite'] },
  { name: 'min-k k: .inf', config: config({ attacks: '  min-k: { k: .inf }' }), names: ['c.yml:9', 'attacks.min-k.k', '.inf (infinity)'] },
  { name: 'seed out of range', config: config({ extra: 'seed: -3' }), names: ['c.yml:10', 'field "seed"', '>= 0'] },
  { name: 'workers: 100000 (bounded by the cores)', config: config({ extra: 'workers: 100000' }), names: ['c.yml:10', 'field "workers"', '4 ×', 'CPU core'] },
  { name: 'workers: 0', config: config({ extra: 'workers: 0' }), names: ['c.yml:10', 'field "workers"', 'positive integer'] },
  { name: '--workers 100000 on the command line', args: ['--workers', '100000'], names: ['--workers', '4 ×'] },
  { name: 'threads: 100000 (bounded by the cores)', config: config({ extra: 'threads: 100000' }), names: ['c.yml:10', 'field "threads"', 'intra-op threads', 'at most 64'] },
  { name: '--threads 0 on the command line', args: ['--threads', '0'], names: ['--threads', 'positive integer'] },
  { name: '--bootstrap beyond its range', args: ['--bootstrap', '100000000'], names: ['--bootstrap', '100000'] },
  { name: '--seed not an integer', args: ['--seed', '1.5'], names: ['--seed'] },
  { name: 'unknown attack', config: config({ attacks: '  loss: {}\n  fancy: {}' }), names: ['c.yml:10', 'attacks.fancy', 'known attacks'] },
  { name: 'unknown attack option', config: config({ attacks: '  min-k: { kk: 0.2 }' }), names: ['c.yml:9', 'attacks.min-k.kk'] },
  { name: 'negative prefixTokens', config: config({ attacks: '  prefix-extraction: { prefixTokens: -4 }' }), names: ['c.yml:9', 'attacks.prefix-extraction.prefixTokens', '-4'] },
  { name: 'lira shadows beyond the bound', config: config({ attacks: '  lira: { shadows: 100000 }' }), names: ['c.yml:9', 'attacks.lira.shadows', '1024'] },
  { name: 'canary candidates beyond the bound', config: config({ attacks: '  canary-exposure: { candidates: 1000000000, canaries: [{ format: "code {secret}", secret: "1234" }] }' }), names: ['c.yml:9', 'attacks.canary-exposure.candidates'] },
  { name: 'limits.maxDataFileMiB beyond the ceiling', config: config({ extra: 'limits: { maxDataFileMiB: 4096 }' }), names: ['c.yml:10', 'limits.maxDataFileMiB', '500'] },
  { name: 'gate on an attack that is not configured', config: config({ extra: 'assert:\n  assertions:\n    after.forget.min-k.auc: [error, { max: 0.6 }]' }), names: ['c.yml:12', 'min-k', 'not in attacks'] },
  { name: 'bad model ref prefix', config: config({ model: `pt:${MODEL}` }), names: ['c.yml:3', 'models.before', 'hf:'] },
  { name: 'model ref without a path', config: config({ model: '"hf:"' }), names: ['c.yml:3', 'models.before', 'no path'] },
  { name: 'hf: model folder not found', config: config({ model: 'hf:./nowhere' }), names: ['c.yml:3', 'models.before', 'nowhere', 'not found'] },
  {
    name: 'hf: folder without onnx/',
    config: (d) => {
      cpSync(MODEL, path.join(d, 'm'), { recursive: true, filter: (src) => !src.includes(`${path.sep}onnx`) });
      return config({ model: 'hf:./m' });
    },
    names: ['c.yml:3', 'models.before', 'onnx/model.onnx'],
  },
  { name: 'onnx: file not found', config: config({ model: 'onnx:./missing.onnx' }), names: ['c.yml:3', 'missing.onnx', 'not found'] },
  { name: 'tfjs: model.json that is not JSON', files: { 'm/model.json': '{"modelTopology": ' }, config: config({ model: 'tfjs:./m/model.json' }), names: ['c.yml:3', 'model.json', 'TF.js'] },
  { name: 'tfjs: model.json listing a missing weights file', files: { 'm/model.json': JSON.stringify({ weightsManifest: [{ paths: ['w.bin'], weights: [] }] }) }, config: config({ model: 'tfjs:./m/model.json' }), names: ['c.yml:3', 'w.bin', 'not found'] },
  { name: 'tokenizer given for an hf: model', config: config({ model: `{ ref: "hf:${MODEL}", tokenizer: ./t.json }` }), names: ['c.yml:3', 'models.before.tokenizer', 'only for onnx:'] },
  { name: 'forget file and forgetSubjects both given', config: config({ data: '  members: ./members.jsonl\n  forget: ./forget.jsonl\n  forgetSubjects: [s1]\n  holdout: ./holdout.jsonl' }), names: ['c.yml:7', 'data.forgetSubjects', 'not both'] },
  { name: 'neither forget nor forgetSubjects', config: config({ data: '  members: ./members.jsonl\n  holdout: ./holdout.jsonl' }), names: ['c.yml:4', 'forgetSubjects'] },

  // ---- data files
  { name: 'data file with a wrong extension', files: { 'members.txt': MEMBERS }, config: config().replace('members.jsonl', 'members.txt'), names: ['c.yml:5', 'data.members', '.jsonl'] },
  { name: 'data file not found', config: config().replace('holdout.jsonl', 'gone.jsonl'), names: ['c.yml:7', 'data.holdout', 'gone.jsonl', 'not found'] },
  { name: 'data path is a folder', files: { 'mdir.jsonl/x': '' }, config: config().replace('members.jsonl', 'mdir.jsonl'), names: ['c.yml:5', 'data.members', 'folder'] },
  { name: 'empty data file', files: { 'holdout.jsonl': '' }, names: ['holdout.jsonl', 'no records'] },
  { name: 'JSONL line that is not JSON', files: { 'members.jsonl': `${MEMBERS}\n{"id": "m5", "text": ` }, names: ['members.jsonl:5', 'malformed JSON'] },
  { name: 'JSONL line that is not an object', files: { 'members.jsonl': `${MEMBERS}\n[1, 2, 3]` }, names: ['members.jsonl:5', 'expected a JSON object', 'a list'] },
  { name: 'record without an id', files: { 'members.jsonl': `${MEMBERS}\n{"subject":"s5","text":"no id here"}` }, names: ['members.jsonl:5', 'field "id"'] },
  { name: 'record without text', files: { 'holdout.jsonl': `${HOLDOUT}\n{"id":"h3","subject":"s7"}` }, names: ['holdout.jsonl:3', 'field "text"'] },
  { name: 'duplicate ids', files: { 'members.jsonl': `${MEMBERS}\n${rec('m2', 's2', 'again')}` }, names: ['members.jsonl:5', 'duplicate id "m2"', 'line 2'] },
  { name: 'pii item without a value', files: { 'forget.jsonl': rec('m1', 's1', 'Refund request from the first customer, order 1001.', { pii: [{ type: 'order' }] }) }, names: ['forget.jsonl:1', 'pii[0].value'] },
  { name: 'forget record that is not a member', files: { 'forget.jsonl': rec('x9', 's1', 'never trained on') }, names: ['forget.jsonl:1', 'x9', 'subset of members'] },
  { name: 'forget record whose text differs from the member', files: { 'forget.jsonl': rec('m1', 's1', 'Refund request, edited.') }, names: ['forget.jsonl:1', 'different text', 'members.jsonl:1'] },
  { name: 'unknown forget subject', config: config({ data: '  members: ./members.jsonl\n  forgetSubjects: [s1, nobody]\n  holdout: ./holdout.jsonl' }), names: ['c.yml:6', 'data.forgetSubjects[1]', 'nobody'] },
  { name: 'holdout record that is a member (same id)', files: { 'holdout.jsonl': `${HOLDOUT}\n${rec('m3', 's3', 'Third customer asks about a late parcel.')}` }, names: ['holdout.jsonl:3', 'm3', 'members.jsonl:3'] },
  { name: 'holdout record with a member’s text', files: { 'holdout.jsonl': `${HOLDOUT}\n${rec('h3', 's7', 'Third customer asks about a late parcel.')}` }, names: ['holdout.jsonl:3', 'same text', 'members.jsonl:3'] },
  {
    name: 'a subject with records in members and holdout (named by line, not by id)',
    files: { 'holdout.jsonl': `${HOLDOUT}\n${rec('h3', 'person-42', 'A ticket of a person who is also a member.')}`, 'members.jsonl': `${MEMBERS}\n${rec('m5', 'person-42', 'Fifth ticket, by person 42.')}` },
    names: ['holdout.jsonl:3', 'field "subject"', 'members.jsonl:5', 'holdout must be people'],
    not: ['person-42'],
  },
  { name: 'data file in Latin-1 (invalid UTF-8)', files: { 'members.jsonl': Buffer.concat([Buffer.from(`${MEMBERS}\n{"id":"m5","subject":"s5","text":"caf`), Buffer.from([0xe9]), Buffer.from(' au lait"}\n')]) }, names: ['members.jsonl:5', 'not valid UTF-8', '0xe9', 'column'] },
  { name: 'data file in UTF-16', files: { 'holdout.jsonl': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HOLDOUT, 'utf16le')]) }, names: ['holdout.jsonl:1', 'UTF-16'] },
  {
    name: 'BOM and CRLF are read as text: a duplicate id on line 3 is reported as "m2" on line 3',
    files: { 'members.jsonl': `\ufeff${[rec('m1', 's1', 'Refund request from the first customer, order 1001.'), rec('m2', 's2', 'two'), rec('m2', 's2', 'again')].join('\r\n')}\r\n` },
    names: ['members.jsonl:3', 'duplicate id "m2"', 'line 2'],
    not: ['\ufeff', '\r'],
  },
  { name: 'CSV with a broken row (unclosed quote)', files: { 'holdout.csv': 'id,subject,text\nh1,s8,fine\nh2,s9,"not closed\n' }, config: config().replace('holdout.jsonl', 'holdout.csv'), names: ['holdout.csv:3', 'malformed CSV'] },
  { name: 'CSV row with a pii cell that is not JSON', files: { 'holdout.csv': 'id,subject,text,pii\nh1,s8,fine,\nh2,s9,mail me,[{type: email}]\n' }, config: config().replace('holdout.jsonl', 'holdout.csv'), names: ['holdout.csv:3', 'field "pii"'] },
  { name: 'CSV without a text column', files: { 'holdout.csv': 'id,subject,body\nh1,s8,fine\n' }, config: config().replace('holdout.jsonl', 'holdout.csv'), names: ['holdout.csv:1', '"text" column'] },
  { name: 'record larger than limits.maxRecordKiB', files: { 'holdout.jsonl': `${HOLDOUT}\n${rec('h3', 's7', 'y'.repeat(3000))}` }, config: config({ extra: 'limits: { maxRecordKiB: 2 }' }), names: ['holdout.jsonl:3', 'larger than the limit', 'maxRecordKiB'] },
  { name: 'data file larger than limits.maxDataFileMiB', files: { 'members.jsonl': `${MEMBERS}\n${rec('m5', 's5', 'z'.repeat(3000))}` }, config: config({ extra: 'limits: { maxDataFileMiB: 0.002 }' }), names: ['members.jsonl', 'larger than the limit', 'maxDataFileMiB'] },

  // ---- model files, opened before the pool starts
  { name: 'tokenizer.json that is not JSON', config: (d) => config({ model: brokenModel(d, 'm', { 'tokenizer.json': '{"version": "1.0"\n  "model": {}}' }) }), names: ['m/tokenizer.json:2', 'not valid JSON'] },
  { name: 'tokenizer.json that is JSON but not a tokenizer', config: (d) => config({ model: brokenModel(d, 'm', { 'tokenizer.json': '{"hello": "world"}' }) }), names: ['m/tokenizer.json', 'field "model"', 'not a Hugging Face tokenizer'] },
  { name: 'config.json that is not JSON', config: (d) => config({ model: brokenModel(d, 'm', { 'config.json': '{\n  "model_type": "gpt2",\n  "vocab_size": 257\n  "n_layer": 2\n}' }) }), names: ['m/config.json:4', 'not valid JSON'] },
  {
    name: 'config.json without n_positions or max_position_embeddings',
    config: (d) => config({ model: brokenModel(d, 'm', { 'config.json': editJson((o) => { delete o.n_positions; delete o.n_ctx; }) }) }),
    names: ['m/config.json', 'field "n_positions"', 'max_position_embeddings'],
  },
  { name: 'config.json without model_type', config: (d) => config({ model: brokenModel(d, 'm', { 'config.json': editJson((o) => delete o.model_type) }) }), names: ['m/config.json', 'field "model_type"'] },
  { name: 'config.json whose head count disagrees with the graph', config: (d) => config({ model: brokenModel(d, 'm', { 'config.json': editJson((o) => (o.n_head = 8)) }) }), names: ['m/onnx/model.onnx', 'past_key_values.0.key', 'do not belong together'] },
  { name: 'config.json whose vocab_size is smaller than the tokenizer', config: (d) => config({ model: brokenModel(d, 'm', { 'config.json': editJson((o) => { o.vocab_size = 100; delete o.eos_token_id; delete o.bos_token_id; delete o.pad_token_id; }) }) }), names: ['m/tokenizer.json', 'vocab_size is 100'] },
  { name: 'generation_config.json that is not JSON', config: (d) => config({ model: brokenModel(d, 'm', { 'generation_config.json': '{"do_sample": false,}' }) }), names: ['m/generation_config.json:1', 'not valid JSON'] },
  { name: 'truncated onnx/model.onnx', config: (d) => config({ model: brokenModel(d, 'm', { 'onnx/model.onnx': (old) => old.subarray(0, Math.floor(old.length / 2)) }) }), names: ['m/onnx/model.onnx', 'not an ONNX model'] },
  {
    name: 'onnx/model.onnx exported without the key/value cache',
    config: (d) => config({ model: brokenModel(d, 'm', { 'onnx/model.onnx': readFileSync(path.join(TICKETS, 'models/model.onnx')) }) }),
    names: ['m/onnx/model.onnx', 'past_key_values.0.key', 'key/value cache'],
  },
  { name: 'onnx: classifier file that is not ONNX', files: { 'bad.onnx': 'not a graph' }, config: tabular({ model: 'onnx:./bad.onnx' }), names: ['bad.onnx', 'not an ONNX model'] },
  {
    name: 'onnx: text classifier with a tokenizer that is not one',
    files: { 'tok/tokenizer.json': '{"model": {"vocab": {}}}' },
    config: config({ model: `{ ref: "onnx:${path.join(TICKETS, 'models/model.onnx')}", tokenizer: ./tok/tokenizer.json }` }),
    names: ['tok/tokenizer.json', 'not a Hugging Face tokenizer'],
  },
  { name: 'models of different kinds', config: config({ model: `hf:${MODEL}\n  after: onnx:${path.join(TABULAR, 'models/overfit.onnx')}` }), names: ['c.yml', 'models.after', 'same kind'] },

  // ---- token budgets against the model's context (n_positions 256)
  { name: 'prefixTokens + suffixTokens beyond the context', config: config({ attacks: '  prefix-extraction: { prefixTokens: 200, suffixTokens: 100 }' }), names: ['c.yml:9', 'attacks.prefix-extraction.prefixTokens', '= 301 tokens', 'n_positions 256', 'at most 255'] },
  { name: 'pii-extraction maxNewTokens beyond half the context', config: config({ attacks: '  pii-extraction: { maxNewTokens: 1000 }' }), names: ['c.yml:9', 'attacks.pii-extraction.maxNewTokens', 'maxNewTokens 1000', 'n_positions 256', 'at most 127'] },
  { name: 'canary longer than the context', config: config({ attacks: `  canary-exposure:\n    canaries:\n      - { format: "${'note '.repeat(60)}{secret}", secret: "123456" }` }), names: ['c.yml:11', 'attacks.canary-exposure.canaries[0]', 'n_positions 256'] },

  // ---- attacks that cannot run on the model kind
  { name: 'only pii-extraction on a classifier', config: tabular({ attacks: '  pii-extraction: {}' }), names: ['c.yml:9', 'attacks.pii-extraction', 'no configured attack can run', 'classifier', 'text generation'] },
  { name: 'only the reference attack, without a reference model', config: config({ attacks: '  reference: {}' }), names: ['c.yml:9', 'no configured attack can run', 'causal LM', 'models.reference'] },
];

describe.concurrent('bad-input corpus: exit 2, a message naming the file/line/field, no stack trace, no verdict written', () => {
  it('has at least 45 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
  });
  for (const c of cases) {
    it(c.name, async ({ expect }) => {
      const { dir, cfg, out } = workspace(c);
      const argv = c.argv ? c.argv(dir) : ['run', cfg, '--out', out, ...(c.args ?? [])];
      const r = await cli(argv);
      expect(r.code, r.stderr).toBe(2);
      const message = r.stderr.split('\n').filter((l) => l.startsWith('privacy-audit: error:'));
      expect(message, r.stderr).toHaveLength(1);
      for (const n of c.names) expect(message[0], r.stderr).toContain(n);
      for (const n of c.not ?? []) expect(r.stderr).not.toContain(n);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      for (const f of VERDICT_FILES) expect(existsSync(path.join(out, f)), f).toBe(false);
    });
  }
});

describe('what is not a mistake is a result', () => {
  it('an empty continuation (end-of-text first) is a miss, and records/prompts longer than the context are windowed and counted', async () => {
    // The fixture model with its end-of-text id set to the token it greedily emits first after most
    // PII prompts (a space, id 32): real weights, real decoding, empty continuations.
    const dir = tempDir('pa-eos-');
    const ref = brokenModel(dir, 'eos', {
      'config.json': editJson((o) => (o.eos_token_id = 32)),
      'generation_config.json': editJson((o) => (o.eos_token_id = 32)),
    });
    // One record longer than the 256-token context (byte-level tokens), with a PII value at its end.
    const long = `${'The customer wrote a very long complaint about the order and the delivery. '.repeat(4)}Email: long@mail.test`;
    const pii = (v: string) => ({ pii: [{ type: 'email', value: v }] });
    const members = [MEMBERS, rec('m5', 's5', long, pii('long@mail.test')), rec('m6', 's6', 'Email: six@mail.test please', pii('six@mail.test'))].join('\n');
    writeFileSync(path.join(dir, 'members.jsonl'), members);
    writeFileSync(path.join(dir, 'forget.jsonl'), [rec('m5', 's5', long, pii('long@mail.test')), rec('m6', 's6', 'Email: six@mail.test please', pii('six@mail.test'))].join('\n'));
    writeFileSync(path.join(dir, 'holdout.jsonl'), [HOLDOUT, rec('h3', 's7', 'Email: seven@mail.test thanks', pii('seven@mail.test'))].join('\n'));
    writeFileSync(path.join(dir, 'c.yml'), config({ model: ref, attacks: '  loss: {}\n  pii-extraction: { maxNewTokens: 24 }' }));
    const out = path.join(dir, 'out');
    const r = await cli(['run', path.join(dir, 'c.yml'), '--out', out, '--workers', '1', '--no-cache', '--bootstrap', '50']);
    expect([0, 1, 4], r.stderr).toContain(r.code);
    expect(r.stderr).not.toContain('runtime failure');
    const result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;
    const byId = Object.fromEntries(result.attacks.map((a) => [a.id, a]));
    expect(byId['pii-extraction']).toMatchObject({ status: 'ok', truncated: { before: 1 } });
    expect(byId.loss).toMatchObject({ status: 'ok', truncated: { before: 1 } });
    const forget = result.extraction.find((e) => e.attack === 'pii-extraction' && e.split === 'forget')!;
    expect(forget).toMatchObject({ trials: 2, hits: 0 });
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('pii-extraction on before: 1');
  });
});
