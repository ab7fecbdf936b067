/**
 * The "load" stage: read a YAML or JSON config, validate it (zod), resolve every path against the
 * config file's folder, check that every model and data file exists and SHA-256 hash it (provenance).
 *
 * Every mistake is an `InputError` naming the config file, the line of the offending key (found with
 * the `yaml` package's source ranges — JSON is parsed as YAML, so this works for JSON too), the field
 * path (`data.holdout`, `data.forgetSubjects[1]`, `attacks.min-k.k`) and what was expected.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { InputError, type Where } from '../errors.ts';
import { MODEL_ROLES, type ModelRole } from '../types.ts';
import { RECORD_EXTENSIONS, resolveFields, typeName, type ResolvedFieldMap } from '../data/records.ts';
import { assertUtf8 } from '../data/utf8.ts';
import { parseGateName, type AssertConfig } from '../assert/names.ts';
import { configSchema, HTTP_URL, splitModelRef, type ConfigParsed, type DpClaimInput, type LoraModelInput, type SisaModelInput, type ModelRefInput, type ModelRefKind, type ServedModelInput } from './schema.ts';
import type { LoraSpec } from '../claims/lora/provenance.ts';
import { readSisaManifest, type SisaManifest } from '../claims/sisa/manifest.ts';
import {
  DEFAULT_DATA_LIMITS,
  formatBytes,
  MAX_CONFIG_BYTES,
  MAX_CONFIG_DEPTH,
  MAX_YAML_ALIASES,
  threadsProblem,
  workersProblem,
  type DataLimits,
} from './limits.ts';

export interface ModelRef {
  kind: ModelRefKind;
  /** Absolute path: the folder for `hf:`, the .onnx file for `onnx:`, model.json for `tfjs:`. */
  path: string;
  /** Absolute path of a tokenizer.json (only `onnx:` refs given as `{ ref, tokenizer }`). */
  tokenizer?: string;
  /** The ref as written in the config, e.g. `hf:./models/before`. */
  raw: string;
  /** What a classifier (onnx:, tfjs:) outputs; 'auto' detects it. */
  outputs?: 'auto' | 'logits' | 'probabilities';
  /** A model served over an OpenAI-compatible API (kind `openai`; `path` is then its baseURL). */
  served?: ServedConfig;
  /** A LoRA adapter over a base (config `{ kind: lora, ... }`): `path` is then the merged model's folder. */
  lora?: LoraSpec;
  /**
   * A SISA ensemble (config `{ kind: sisa, manifest }`): `path` is then the manifest and `kind` its
   * constituents' kind (tfjs or onnx).
   */
  sisa?: SisaSpec;
}

/** How to reach and query a served model (config `{ kind: openai-compatible, ... }`), defaults applied. */
export interface ServedConfig {
  baseURL: string;
  model: string;
  /** Absolute path of a folder with tokenizer.json and config.json. */
  tokenizer: string;
  /** Where the tokenizer came from when the config did not name one (`models.reference`). */
  tokenizerFrom?: string;
  apiKeyEnv?: string;
  protocol: 'auto' | 'echo' | 'prompt-logprobs' | 'sglang' | 'tgi' | 'chat';
  maxConcurrency: number;
  timeoutMs: number;
  maxRetries: number;
  budget?: { requests?: number; tokens?: number };
}

/** Shadow-model training as the attacker assumes it (config `shadow`), defaults applied. */
export interface ShadowTraining {
  /** Hidden widths; undefined = clone a tfjs: target's topology, else the default [256, 128]. */
  layers?: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/** One hashed input file (provenance manifest). `role`: `config`, `model:<role>` or `data:<role>`. */
export interface InputFile {
  role: string;
  path: string;
  sha256: string;
}

/** Where config fields were written, so later stages (splits) can point at the config file. */
export interface ConfigOrigin {
  /** Absolute config file path; undefined for `configFromObject`. */
  file?: string;
  /** 1-based line of each key/item (under `data`, or everywhere), keyed by field path (`data.forgetSubjects[0]`). */
  lines: Record<string, number>;
}

export interface LoadedData {
  members: string;
  forget?: string;
  /**
   * Subject ids as written (numbers become strings; index i is `data.forgetSubjects[i]` in
   * `origin.lines`). Exactly one of `forget` / `forgetSubjects` is set.
   */
  forgetSubjects?: string[];
  holdout: string;
  population?: string;
  fields: ResolvedFieldMap;
  /** Retain sample size; undefined = the forget size; 'all' = every retain record. */
  retainSample?: number | 'all';
  /** File and record size limits (config `limits`); undefined = the defaults in limits.ts. */
  limits?: DataLimits;
  origin: ConfigOrigin;
}

export interface LoadedConfig {
  /** Absolute path of the config file; undefined when built with `configFromObject`. */
  configPath?: string;
  seed: number;
  workers: number;
  /** Where local ONNX models run (config `device`, default the CPU). */
  device: 'cpu' | 'cuda';
  /** `workers: auto` (the default): the CLI may take fewer when the models' copies would not fit in memory. */
  workersAuto?: boolean;
  /** onnxruntime intra-op threads per worker (config `threads`); absent: auto (config/limits.ts poolShape). */
  threads?: number;
  models: Partial<Record<ModelRole, ModelRef>>;
  data: LoadedData;
  /** Attack id -> options parsed by the attack's schema (defaults applied), in config order. */
  attacks: Record<string, unknown>;
  shadow: ShadowTraining;
  outputDir: string;
  /** The config's `cache.dir`, absolute; undefined = `<outputDir>/.cache` unless the command line says otherwise. */
  cacheDir?: string;
  /** Gates: a preset plus the user's assertions (names validated against the configured attacks). */
  assert?: AssertConfig;
  /**
   * Claims checked by the audit (src/claims): a DP claim as written, with its files made absolute
   * (read and checked by src/claims/dp/prepare.ts before any model work).
   */
  claims?: { dp?: Omit<DpClaimInput, 'record' | 'canaries'> & { record?: string; canaries?: { manifest: string; candidates?: number } } };
  /** The config object as written (before defaults), for embedding in the report. */
  raw: unknown;
  inputs: InputFile[];
  /**
   * Where every key of the config is written (`attacks.pii-extraction.maxNewTokens` → line), so
   * checks made after loading (budgets against a model's context) can point at the line.
   */
  origin: ConfigOrigin;
}

export interface LoadOptions {
  /** The options schema of an attack, or undefined for an unknown id. */
  attackOptions: (id: string) => z.ZodType | undefined;
  /** Registered attack ids, listed when an unknown id is used. Default: ids with an options schema. */
  knownAttacks?: readonly string[];
  /** An attack's family, to check that a gate's metric fits it. */
  attackFamily?: (id: string) => 'membership' | 'extraction' | undefined;
}

export const CONFIG_EXTENSIONS = ['.yml', '.yaml', '.json'] as const;

type PathKey = string | number;

/** Maps a field path to the line where it is written (nearest existing ancestor when it is missing). */
export class Locator {
  constructor(
    readonly file?: string,
    private readonly doc?: Document,
    private readonly lc?: LineCounter,
  ) {}

  lineOf(fieldPath: readonly PropertyKey[]): number | undefined {
    if (!this.doc || !this.lc) return undefined;
    let node: unknown = this.doc.contents;
    let line: number | undefined;
    for (const seg of fieldPath) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg));
        if (!pair) break;
        const key = pair.key as Node | null;
        const at = key?.range?.[0];
        if (at !== undefined) line = this.lc.linePos(at).line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        const at = item.range?.[0];
        if (at !== undefined) line = this.lc.linePos(at).line;
        node = item;
      } else break;
    }
    return line;
  }

  where(fieldPath: readonly PropertyKey[]): Where {
    const where: Where = {};
    if (this.file) where.file = this.file;
    const line = this.lineOf(fieldPath);
    if (line !== undefined) where.line = line;
    if (fieldPath.length > 0) where.field = formatPath(fieldPath);
    return where;
  }

  error(fieldPath: readonly PropertyKey[], message: string): InputError {
    return new InputError(message, this.where(fieldPath));
  }

  /** Line of every key/item under `prefix`, keyed by formatted field path. */
  linesUnder(prefix: readonly PathKey[], value: unknown): Record<string, number> {
    const out: Record<string, number> = {};
    const walk = (p: PathKey[], v: unknown) => {
      const line = this.lineOf(p);
      if (line !== undefined) out[formatPath(p)] = line;
      if (Array.isArray(v)) v.forEach((x, i) => walk([...p, i], x));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk([...p, k], x);
    };
    walk([...prefix], value);
    return out;
  }
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return key === null || key === undefined ? undefined : String(key);
}

/** `['data', 'forgetSubjects', 1]` → `data.forgetSubjects[1]`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of p) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += (s ? '.' : '') + String(seg);
  }
  return s;
}

/**
 * Reads and validates a config file (.yml, .yaml or .json), resolving paths against its folder.
 * Throws `InputError` (file, line, field) for any problem with the config or the files it names.
 */
export async function loadConfig(configPath: string, opts: LoadOptions): Promise<LoadedConfig> {
  const { file, raw, locator } = await readConfigDocument(configPath);
  const cfg = await buildConfig(raw, path.dirname(file), opts, locator);
  const inputs = [{ role: 'config', path: file, sha256: await sha256File(file) }, ...cfg.inputs];
  return { ...cfg, configPath: file, inputs };
}

/** Reads and parses a config file (size, UTF-8, YAML syntax, depth, aliases checked), keeping where each key is written. */
export async function readConfigDocument(configPath: string): Promise<{ file: string; raw: unknown; locator: Locator }> {
  const file = path.resolve(configPath);
  const ext = path.extname(file).toLowerCase();
  if (!(CONFIG_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new InputError(`unsupported config file type "${ext || '(no extension)'}"; expected .yml, .yaml or .json`, {
      file,
    });
  }
  let buf: Buffer;
  try {
    const st = await stat(file);
    if (st.isFile() && st.size > MAX_CONFIG_BYTES) {
      throw new InputError(`config file is ${formatBytes(st.size)}, more than the ${formatBytes(MAX_CONFIG_BYTES)} a config can be (is this a data file?)`, { file });
    }
    buf = await readFile(file);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? 'config file not found' : code === 'EISDIR' ? 'expected a config file, found a folder' : `cannot read config file: ${(e as Error).message}`,
      { file },
    );
  }
  assertUtf8(buf, file, 'config file');
  const text = buf.toString('utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const where: Where = { file };
    const line = syntax.linePos?.[0]?.line;
    if (line !== undefined) where.line = line;
    const first = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    // The parser recurses per nesting level: a hostile file overflows the stack before our depth check.
    if (/call stack/i.test(first)) throw new InputError(`the config is nested too deeply (more than ${MAX_CONFIG_DEPTH} levels)`, where);
    if (syntax.code === 'DUPLICATE_KEY') {
      const key = /^\s*["']?([^"':\n]+)/.exec(text.slice(syntax.pos[0]))?.[1]?.trim();
      throw new InputError(`duplicate key${key ? ` "${key}"` : ''}: each key may appear once in a mapping`, { ...where, ...(key ? { field: key } : {}) });
    }
    throw new InputError(`${ext === '.json' ? 'JSON' : 'YAML'} syntax error: ${first}`, where);
  }
  const deep = tooDeep(doc.contents, MAX_CONFIG_DEPTH);
  if (deep) {
    const where: Where = { file };
    if (deep.range) where.line = lineCounter.linePos(deep.range[0]).line;
    throw new InputError(`the config is nested too deeply (more than ${MAX_CONFIG_DEPTH} levels)`, where);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // The yaml package refuses an alias that expands too much ("billion laughs").
    if (/alias/i.test((e as Error).message)) {
      throw new InputError(`too many YAML alias expansions (more than ${MAX_YAML_ALIASES}): a config does not need them, and so many can exhaust memory`, { file });
    }
    throw new InputError(`cannot read the config: ${(e as Error).message}`, { file });
  }
  return { file, raw, locator: new Locator(file, doc, lineCounter) };
}

/** Builds a config from an object (e.g. the demo's), resolving relative paths against `baseDir`. */
export async function configFromObject(obj: unknown, baseDir: string, opts: LoadOptions): Promise<LoadedConfig> {
  return buildConfig(obj, path.resolve(baseDir), opts, new Locator());
}

async function buildConfig(raw: unknown, baseDir: string, opts: LoadOptions, loc: Locator): Promise<LoadedConfig> {
  if (raw === null || raw === undefined) throw loc.error([], 'the config is empty; expected a mapping with models and data');
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw loc.error([], `expected a mapping (key: value) at the top of the config, got ${typeName(raw)}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw issuesToError(parsed.error.issues, raw, [], loc);
  const cfg: ConfigParsed = parsed.data;
  if (typeof cfg.workers === 'number') {
    const problem = workersProblem(cfg.workers);
    if (problem) throw loc.error(['workers'], problem);
  }
  if (typeof cfg.threads === 'number') {
    const problem = threadsProblem(cfg.threads);
    if (problem) throw loc.error(['threads'], problem);
  }

  const attacks = parseAttacks(cfg.attacks ?? {}, opts, loc);

  // Models: resolve, check files exist, list files to hash (one entry per file of a folder).
  const toHash: { role: string; path: string }[] = [];
  const models: Partial<Record<ModelRole, ModelRef>> = {};
  for (const role of MODEL_ROLES) {
    const input = cfg.models[role];
    if (input === undefined) continue;
    const { ref, files } = await resolveModel(input, role, baseDir, loc);
    models[role] = ref;
    for (const f of files) toHash.push({ role: `model:${role}`, path: f });
  }
  // A LoRA target's frozen base is the model that never saw the fine-tuning data: the natural
  // reference (shared/research/sisa-lora.md B.3), unless the config names another.
  const loraBefore = models.before?.lora;
  if (loraBefore && !models.reference) {
    models.reference = { kind: 'hf', path: loraBefore.base, raw: loraBefore.raw.base };
    for (const f of await hfFiles(loraBefore.base)) toHash.push({ role: 'model:reference', path: f });
  }
  // A served model given in the short form borrows the tokenizer of a local causal LM of the audit
  // (the base model, as `reference`, first): a fine-tune keeps its base model's tokenizer, and the
  // probe checks it against the server's own tokenization anyway.
  for (const role of MODEL_ROLES) {
    const served = models[role]?.served;
    if (!served || served.tokenizer) continue;
    const local = (['reference', ...MODEL_ROLES] as ModelRole[]).find((r) => models[r]?.kind === 'hf');
    if (!local) {
      throw loc.error(
        ['models', role],
        `the served model "${models[role]!.raw}" needs a tokenizer: give { kind: openai-compatible, baseURL: "${served.baseURL}", model: "${served.model}", tokenizer: <folder with tokenizer.json and config.json> }, or a local hf: model of the same tokenizer as models.reference`,
      );
    }
    served.tokenizer = models[local]!.path;
    served.tokenizerFrom = `models.${local}`;
    for (const f of await servedTokenizerFiles(served.tokenizer)) toHash.push({ role: `model:${role}`, path: f });
  }

  // Data files.
  const d = cfg.data;
  const dataRoles = ['members', 'forget', 'holdout', 'population'] as const;
  const dataPaths: Partial<Record<(typeof dataRoles)[number], string>> = {};
  for (const role of dataRoles) {
    const rel = d[role];
    if (rel === undefined) continue;
    const abs = path.resolve(baseDir, rel);
    const field = ['data', role];
    const ext = path.extname(abs).toLowerCase();
    if (!(RECORD_EXTENSIONS as readonly string[]).includes(ext)) {
      throw loc.error(field, `unsupported data file type "${ext || '(no extension)'}" (${abs}); expected ${RECORD_EXTENSIONS.join(', ')}`);
    }
    await expectFile(abs, field, 'data file', loc);
    dataPaths[role] = abs;
    toHash.push({ role: `data:${role}`, path: abs });
  }

  // A DP claim's files: checked to exist and hashed here, read by the claims stage.
  let claims: LoadedConfig['claims'];
  const dp = cfg.claims?.dp;
  if (dp) {
    const { record, canaries, ...rest } = dp;
    const out: NonNullable<NonNullable<LoadedConfig['claims']>['dp']> = { ...rest };
    if (record !== undefined) {
      const abs = path.resolve(baseDir, record);
      await expectFile(abs, ['claims', 'dp', 'record'], 'training record', loc);
      toHash.push({ role: 'claim:dp-record', path: abs });
      out.record = abs;
    }
    if (canaries !== undefined) {
      const abs = path.resolve(baseDir, canaries.manifest);
      await expectFile(abs, ['claims', 'dp', 'canaries', 'manifest'], 'canary manifest', loc);
      toHash.push({ role: 'claim:dp-canaries', path: abs });
      out.canaries = { manifest: abs, ...(canaries.candidates !== undefined ? { candidates: canaries.candidates } : {}) };
      if ('canary-exposure' in attacks)
        throw loc.error(['claims', 'dp', 'canaries'], 'the one-run audit scores its canaries with the canary-exposure attack: remove attacks.canary-exposure, or audit those canaries in a separate config');
    }
    claims = { dp: out };
  }

  const data: LoadedData = {
    members: dataPaths.members!,
    holdout: dataPaths.holdout!,
    fields: resolveFields(d.fields),
    limits: {
      maxFileBytes: cfg.limits?.maxDataFileMiB !== undefined ? Math.floor(cfg.limits.maxDataFileMiB * 1024 * 1024) : DEFAULT_DATA_LIMITS.maxFileBytes,
      maxRecordBytes: cfg.limits?.maxRecordKiB !== undefined ? Math.floor(cfg.limits.maxRecordKiB * 1024) : DEFAULT_DATA_LIMITS.maxRecordBytes,
    },
    origin: { lines: loc.linesUnder(['data'], (raw as Record<string, unknown>).data) },
  };
  if (loc.file) data.origin.file = loc.file;
  if (dataPaths.forget) data.forget = dataPaths.forget;
  if (dataPaths.population) data.population = dataPaths.population;
  if (d.forgetSubjects) data.forgetSubjects = d.forgetSubjects.map(String);
  if (d.retainSample !== undefined) data.retainSample = d.retainSample;

  return {
    seed: cfg.seed,
    workers: cfg.workers === 'auto' ? Math.max(1, Math.min(os.availableParallelism(), 4)) : cfg.workers,
    ...(cfg.workers === 'auto' ? { workersAuto: true } : {}),
    ...(typeof cfg.threads === 'number' ? { threads: cfg.threads } : {}),
    device: cfg.device ?? 'cpu',
    models,
    data,
    attacks,
    shadow: {
      ...(cfg.shadow?.layers ? { layers: cfg.shadow.layers } : {}),
      epochs: cfg.shadow?.epochs ?? 30,
      batchSize: cfg.shadow?.batchSize ?? 64,
      learningRate: cfg.shadow?.learningRate ?? 0.001,
    },
    outputDir: path.resolve(baseDir, cfg.output?.dir ?? './privacy-audit-report'),
    ...(cfg.cache?.dir ? { cacheDir: path.resolve(baseDir, cfg.cache.dir) } : {}),
    ...(cfg.assert ? { assert: validateAssertions(cfg.assert, attacks, opts, loc) } : {}),
    ...(claims ? { claims } : {}),
    raw,
    inputs: await hashAll(toHash),
    origin: { ...(loc.file ? { file: loc.file } : {}), lines: loc.linesUnder([], raw) },
  };
}

/** The first node nested deeper than `max` collections, if any (iterative: no recursion to overflow). */
function tooDeep(root: unknown, max: number): Node | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= max) return node as Node;
    for (const item of node.items) {
      if (isPair(item)) stack.push({ node: item.value, depth: depth + 1 });
      else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Every assertion name must parse and name an attack this config runs (or `*`). */
function validateAssertions(
  cfg: AssertConfig,
  attacks: Record<string, unknown>,
  opts: LoadOptions,
  loc: Locator,
): AssertConfig {
  for (const name of Object.keys(cfg.assertions)) {
    const field = ['assert', 'assertions', name];
    const parsed = parseGateName(name);
    if (typeof parsed === 'string') throw loc.error(field, `unknown gate ${parsed}`);
    if (parsed.attack === '*') continue;
    if (!(parsed.attack in attacks)) {
      throw loc.error(field, `unknown gate "${name}": attack "${parsed.attack}" is not in attacks (configured: ${Object.keys(attacks).join(', ') || 'none'})`);
    }
    const family = opts.attackFamily?.(parsed.attack);
    const wants = parsed.kind === 'extraction' ? 'extraction' : 'membership';
    if (family && family !== wants)
      throw loc.error(field, `unknown gate "${name}": ${parsed.attack} is a ${family} attack; its metrics are ${family === 'membership' ? 'auc, advantage, tpr@…, equivalence and privleak' : 'rate, near-rate, hits, subjects-leaked'}`);
  }
  return cfg;
}

function parseAttacks(
  input: Record<string, Record<string, unknown> | null>,
  opts: LoadOptions,
  loc: Locator,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, options] of Object.entries(input)) {
    const schema = opts.attackOptions(id);
    const known = opts.knownAttacks ? opts.knownAttacks.includes(id) : schema !== undefined;
    if (!known) {
      const list = opts.knownAttacks ? `; known attacks: ${[...opts.knownAttacks].sort().join(', ')}` : '';
      throw loc.error(['attacks', id], `unknown attack "${id}"${list}`);
    }
    const s = schema ?? z.strictObject({});
    const value = options ?? {};
    const r = s.safeParse(value);
    if (!r.success) throw issuesToError(r.error.issues, value, ['attacks', id], loc, `attack "${id}": `);
    out[id] = r.data;
  }
  return out;
}

async function resolveModel(
  input: ModelRefInput,
  role: ModelRole,
  baseDir: string,
  loc: Locator,
): Promise<{ ref: ModelRef; files: string[] }> {
  if (typeof input !== 'string' && 'kind' in input) {
    if (input.kind === 'sisa') return resolveSisa(input, role, baseDir, loc);
    return input.kind === 'lora' ? resolveLora(input, role, baseDir, loc) : resolveServed(input, role, baseDir, loc);
  }
  const isObj = typeof input !== 'string';
  const rawRef = isObj ? input.ref : input;
  const field: PathKey[] = isObj ? ['models', role, 'ref'] : ['models', role];
  const parts = splitModelRef(rawRef)!; // validated by the schema
  if (parts.kind === 'openai') {
    const hash = parts.path.lastIndexOf('#');
    const baseURL = hash > 0 ? parts.path.slice(0, hash) : '';
    const model = hash > 0 ? parts.path.slice(hash + 1) : '';
    if (!HTTP_URL.test(baseURL) || model === '') {
      throw loc.error(field, `served model ref "${rawRef}" must read openai:<baseURL>#<served model id>, e.g. openai:http://127.0.0.1:8000/v1#support-desk`);
    }
    return resolveServed({ kind: 'openai-compatible', baseURL, model }, role, baseDir, loc, rawRef);
  }
  const abs = path.resolve(baseDir, parts.path);
  const ref: ModelRef = { kind: parts.kind, path: abs, raw: rawRef };
  if (isObj && input.outputs !== undefined) ref.outputs = input.outputs;
  const files: string[] = [];

  if (parts.kind === 'hf') {
    await expectDir(abs, field, `Hugging Face model folder (from "${rawRef}")`, loc);
    await expectHfFiles(abs, field, rawRef, loc);
    files.push(...(await hfFiles(abs)));
  } else if (parts.kind === 'onnx') {
    await expectFile(abs, field, `ONNX model file (from "${rawRef}")`, loc);
    files.push(abs);
    // External weights (`model.onnx_data`) are part of the model.
    if (await isFile(`${abs}_data`)) files.push(`${abs}_data`);
    if (isObj && input.tokenizer !== undefined) {
      const tok = path.resolve(baseDir, input.tokenizer);
      await expectFile(tok, ['models', role, 'tokenizer'], 'tokenizer file', loc);
      ref.tokenizer = tok;
      files.push(tok);
      // Its config beside it sets truncation (model_max_length): part of the model's identity.
      const tokConfig = path.join(path.dirname(tok), 'tokenizer_config.json');
      if (await isFile(tokConfig)) files.push(tokConfig);
    }
  } else {
    await expectFile(abs, field, `TF.js model.json (from "${rawRef}")`, loc);
    files.push(abs, ...(await tfjsWeightFiles(abs, field, loc)));
  }
  return { ref, files };
}

const HF_REQUIRED = ['config.json', 'tokenizer.json', 'onnx/model.onnx'];

async function expectHfFiles(abs: string, field: readonly PathKey[], rawRef: string, loc: Locator): Promise<void> {
  const missing: string[] = [];
  for (const f of HF_REQUIRED) if (!(await isFile(path.join(abs, f)))) missing.push(f);
  if (missing.length > 0) {
    throw loc.error(field, `model folder ${abs} (from "${rawRef}") is missing ${missing.join(', ')}; an hf: folder needs ${HF_REQUIRED.join(', ')}`);
  }
}

/** The files of an hf: folder that make the model (its identity and provenance). */
async function hfFiles(abs: string): Promise<string[]> {
  const files: string[] = [];
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']) {
    const p = path.join(abs, f);
    if (HF_REQUIRED.includes(f) || (await isFile(p))) files.push(p);
  }
  return files;
}

/**
 * `{ kind: lora, base, adapter, merged }`: the merged folder is what runs; base and adapter are part of
 * the model's identity (hashed with it) and are checked against it before any model work (run.ts).
 */
async function resolveLora(input: LoraModelInput, role: ModelRole, baseDir: string, loc: Locator): Promise<{ ref: ModelRef; files: string[] }> {
  const folders: Record<'base' | 'merged', string> = { base: '', merged: '' };
  const files: string[] = [];
  for (const key of ['merged', 'base'] as const) {
    const abs = path.resolve(baseDir, input[key].slice('hf:'.length));
    const field = ['models', role, key];
    await expectDir(abs, field, `Hugging Face model folder (from "${input[key]}")`, loc);
    await expectHfFiles(abs, field, input[key], loc);
    folders[key] = abs;
    files.push(...(await hfFiles(abs)));
  }
  const adapter = path.resolve(baseDir, input.adapter);
  const field = ['models', role, 'adapter'];
  await expectDir(adapter, field, 'PEFT adapter folder', loc);
  const cfgFile = path.join(adapter, 'adapter_config.json');
  if (!(await isFile(cfgFile))) throw loc.error(field, `adapter folder ${adapter} has no adapter_config.json; a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors`);
  files.push(cfgFile);
  const weights = path.join(adapter, 'adapter_model.safetensors');
  if (await isFile(weights)) files.push(weights);
  else if (await isFile(path.join(adapter, 'adapter_model.bin'))) {
    throw loc.error(field, `adapter folder ${adapter} holds adapter_model.bin, a Python pickle (loading one runs code): refused; save the adapter with safe_serialization=True (adapter_model.safetensors)`);
  } else throw loc.error(field, `adapter folder ${adapter} has no adapter_model.safetensors`);
  const lora: LoraSpec = { base: folders.base, adapter, merged: folders.merged, raw: { base: input.base, adapter: input.adapter, merged: input.merged } };
  return { ref: { kind: 'hf', path: folders.merged, raw: input.merged, lora }, files };
}

/** A SISA ensemble as loaded: its manifest, and each shard's constituent model and the files it is made of. */
export interface SisaSpec {
  manifest: SisaManifest;
  /** The manifest as written in the config. */
  raw: string;
  members: { shard: number; kind: 'tfjs' | 'onnx'; path: string; raw: string; files: string[] }[];
}

/**
 * `{ kind: sisa, manifest }`: the manifest is read and its form checked (exit 2 naming the JSON path);
 * each shard's constituent is resolved relative to the manifest and must exist. The role's files
 * (its identity) are the manifest and every constituent's files.
 */
async function resolveSisa(input: SisaModelInput, role: ModelRole, baseDir: string, loc: Locator): Promise<{ ref: ModelRef; files: string[] }> {
  const file = path.resolve(baseDir, input.manifest);
  await expectFile(file, ['models', role, 'manifest'], 'SISA manifest', loc);
  const manifest = await readSisaManifest(file);
  const dir = path.dirname(file);
  const members: SisaSpec['members'] = [];
  const files = [file];
  for (const s of manifest.shards) {
    const parts = splitModelRef(s.model)!; // tfjs: or onnx:, checked by the manifest reader
    const abs = path.resolve(dir, parts.path);
    const where = { file, field: `shards[${s.shard}].model` };
    let own: string[];
    try {
      const st = await stat(abs);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      throw new InputError(`constituent model of shard ${s.shard} not found: ${abs} (from "${s.model}", relative to the manifest)`, where);
    }
    if (parts.kind === 'onnx') own = [abs, ...((await isFile(`${abs}_data`)) ? [`${abs}_data`] : [])];
    else own = [abs, ...(await tfjsWeightFiles(abs, ['models', role, 'manifest'], loc))];
    members.push({ shard: s.shard, kind: parts.kind as 'tfjs' | 'onnx', path: abs, raw: s.model, files: own });
    files.push(...own);
  }
  const kinds = new Set(members.map((m) => m.kind));
  if (kinds.size > 1) throw new InputError('the constituents of a SISA ensemble must all be tfjs: or all onnx: models', { file, field: 'shards' });
  return { ref: { kind: members[0]!.kind, path: file, raw: input.manifest, sisa: { manifest, raw: input.manifest, members } }, files };
}

/** The files that make a tokenizer folder: what a served model's local identity rests on. */
async function servedTokenizerFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json']) if (await isFile(path.join(dir, f))) files.push(path.join(dir, f));
  return files;
}

async function resolveServed(
  input: ServedModelInput,
  role: ModelRole,
  baseDir: string,
  loc: Locator,
  rawRef = `openai:${input.baseURL}#${input.model}`,
): Promise<{ ref: ModelRef; files: string[] }> {
  const served: ServedConfig = {
    baseURL: input.baseURL.replace(/\/+$/, ''),
    model: input.model,
    tokenizer: '',
    protocol: input.protocol ?? 'auto',
    maxConcurrency: input.maxConcurrency ?? 4,
    timeoutMs: Math.round((input.timeoutSeconds ?? 60) * 1000),
    maxRetries: input.maxRetries ?? 4,
  };
  if (input.apiKeyEnv !== undefined) served.apiKeyEnv = input.apiKeyEnv;
  if (input.budget !== undefined) served.budget = input.budget;
  const files: string[] = [];
  if (input.tokenizer !== undefined) {
    const dir = path.resolve(baseDir, input.tokenizer);
    const field: PathKey[] = ['models', role, 'tokenizer'];
    await expectDir(dir, field, 'tokenizer folder (tokenizer.json and config.json)', loc);
    const missing = [];
    for (const f of ['tokenizer.json', 'config.json']) if (!(await isFile(path.join(dir, f)))) missing.push(f);
    if (missing.length > 0) throw loc.error(field, `tokenizer folder ${dir} is missing ${missing.join(', ')}; a served model's tokenizer folder needs tokenizer.json and config.json`);
    served.tokenizer = dir;
    files.push(...(await servedTokenizerFiles(dir)));
  }
  return { ref: { kind: 'openai', path: served.baseURL, raw: rawRef, served }, files };
}

/** The weight shards a TF.js model.json lists (`weightsManifest[].paths`), which must exist. */
async function tfjsWeightFiles(modelJson: string, field: PathKey[], loc: Locator): Promise<string[]> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(modelJson, 'utf8'));
  } catch (e) {
    throw loc.error(field, `${modelJson} is not a valid TF.js model.json: ${(e as Error).message}`);
  }
  const groups = (manifest as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(groups)) return [];
  const out: string[] = [];
  for (const g of groups) {
    const paths = (g as { paths?: unknown })?.paths;
    if (!Array.isArray(paths)) continue;
    for (const p of paths) {
      if (typeof p !== 'string') continue;
      const abs = path.resolve(path.dirname(modelJson), p);
      if (!(await isFile(abs))) throw loc.error(field, `TF.js weights file ${abs}, listed in ${modelJson}, not found`);
      out.push(abs);
    }
  }
  return out;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function expectFile(abs: string, field: readonly PathKey[], what: string, loc: Locator): Promise<void> {
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw loc.error(field, `${what} not found: ${abs}`);
  }
  if (!st.isFile()) throw loc.error(field, `${what} ${abs} is a folder; expected a file`);
}

async function expectDir(abs: string, field: readonly PathKey[], what: string, loc: Locator): Promise<void> {
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw loc.error(field, `${what} not found: ${abs}`);
  }
  if (!st.isDirectory()) throw loc.error(field, `${what} ${abs} is a file; expected a folder`);
}

/** SHA-256 of a file, streamed (model files can be large). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function hashAll(files: { role: string; path: string }[]): Promise<InputFile[]> {
  const cache = new Map<string, Promise<string>>();
  const hashOf = (p: string) => {
    let h = cache.get(p);
    if (!h) cache.set(p, (h = sha256File(p)));
    return h;
  };
  return Promise.all(files.map(async (f) => ({ role: f.role, path: f.path, sha256: await hashOf(f.path) })));
}

// ---------------------------------------------------------------------------------------------
// zod issues → InputError

type Issue = z.core.$ZodIssue;

/** The first issue (in file order) as an InputError; `prefix` is the field path of `value`. */
export function issuesToError(
  issues: readonly Issue[],
  value: unknown,
  prefix: readonly PathKey[],
  loc: Locator,
  msgPrefix = '',
): InputError {
  const flat = issues.flatMap((i) => unionBranch(i, value)).map((i) => describeIssue(i, value, prefix));
  // Issues at a key that is written in the file (e.g. an unknown key, a bad value) come before
  // issues about a missing key, which can only point at its parent: with a typo (`holdot:`), the
  // unknown-key error names the allowed keys and so shows the fix.
  const withLines = flat.map((f, order) => ({
    ...f,
    order,
    exact: getIn(value, f.path.slice(prefix.length)) !== undefined,
    line: loc.lineOf(f.path) ?? Number.MAX_SAFE_INTEGER,
  }));
  withLines.sort((a, b) => Number(b.exact) - Number(a.exact) || a.line - b.line || a.order - b.order);
  const first = withLines[0]!;
  const more = withLines.length - 1;
  const suffix = more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : '';
  return loc.error(first.path, `${msgPrefix}${first.message}${suffix}`);
}

/**
 * A model ref that is an object fails as a union of four forms; report the issues of the form it
 * was meant to be ({ kind: openai-compatible, ... } or { ref, ... }), not "expected a string".
 */
function unionBranch(issue: Issue, root: unknown): Issue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length !== 5) return [issue];
  const value = getIn(root, issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s)) as PathKey[]);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [issue];
  const kind = (value as { kind?: unknown }).kind;
  const branch = issue.errors['kind' in value ? (kind === 'lora' ? 3 : kind === 'sisa' ? 4 : 2) : 1]!;
  return branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue).flatMap((i) => unionBranch(i, root));
}

function describeIssue(issue: Issue, root: unknown, prefix: readonly PathKey[]): { path: PathKey[]; message: string } {
  const rel = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s)) as PathKey[];
  const full = [...prefix, ...rel];
  if (issue.code === 'unrecognized_keys') {
    // Point at the (first) unknown key itself.
    return { path: [...full, issue.keys[0]!], message: issue.message };
  }
  if (issue.code === 'invalid_type') {
    const value = getIn(root, rel);
    // YAML's .nan and .inf parse as numbers; zod calls them "not a number" types. Say what they are.
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const what = issue.message.startsWith('Invalid input') ? `expected ${describeExpected(issue.expected)}` : issue.message;
      return { path: full, message: `${what}, got ${describeValue(value)}; every number in the config must be finite` };
    }
    const expected = describeExpected(issue.expected);
    if (value === undefined) {
      const what = issue.message.startsWith('Invalid input') ? `expected ${expected}` : issue.message;
      return { path: full, message: `required field "${String(rel.at(-1) ?? '')}" is missing (${what})` };
    }
    // Custom messages (set in the schema) already say what was expected.
    if (!issue.message.startsWith('Invalid input')) return { path: full, message: `${issue.message}, got ${typeName(value)}` };
    return { path: full, message: `expected ${expected}, got ${typeName(value)}` };
  }
  if (issue.code === 'invalid_union' || issue.code === 'invalid_value') {
    const value = getIn(root, rel);
    if (value === undefined) {
      return { path: full, message: `required field "${String(rel.at(-1) ?? '')}" is missing (${issue.message})` };
    }
    return { path: full, message: `${issue.message}, got ${describeValue(value)}` };
  }
  if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_format' || issue.code === 'not_multiple_of') {
    const value = getIn(root, rel);
    if (value === null || typeof value !== 'object') return { path: full, message: `${issue.message}, got ${describeValue(value)}` };
  }
  return { path: full, message: issue.message };
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'object':
    case 'record':
      return 'a mapping (key: value)';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    default:
      return expected;
  }
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return typeName(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeName(v);
}

function getIn(root: unknown, p: readonly PathKey[]): unknown {
  let v = root;
  for (const seg of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathKey, unknown>)[seg];
  }
  return v;
}
