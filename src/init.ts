/**
 * `privacy-audit init [MODEL | URL]`: a commented privacy-audit.yml for the model it finds.
 *
 * The kind comes from what is on disk: a folder with config.json and onnx/model.onnx is a causal LM
 * (`hf:`), an .onnx file or a tfjs model.json a classifier, an http(s) URL a served model
 * (OpenAI-compatible; `URL#model-id` names the served model). Without an argument the current folder
 * is searched (three levels deep); folder and file names give the roles (before, after, retrained,
 * reference). Data files are found by name (members, forget, holdout, population; .jsonl or .csv);
 * what is not found is a clearly marked placeholder. The file is validated with the real config
 * loader before it is put in place, and an existing file is never replaced without `force`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from './api.ts';
import { InputError, isInputError } from './errors.ts';
import { PACKAGE_ROOT } from './version.ts';

/** Marks every value the user must fill in; the loader's error then names it. */
export const PLACEHOLDER = 'CHANGE-ME';

export type InitKind = 'causal-lm' | 'classifier' | 'served';
type Role = 'before' | 'after' | 'retrained' | 'reference';
type DataRole = 'members' | 'forget' | 'holdout' | 'population';

export interface InitResult {
  file: string;
  kind: InitKind;
  /** Model refs by role, as written (relative to the config). */
  models: Partial<Record<Role, string>>;
  /** Data files by role, as written; undefined where a placeholder was written. */
  data: Partial<Record<DataRole, string>>;
  /** The fields left as placeholders (the file does not run until they are filled in). */
  placeholders: string[];
  /** True when there is no placeholder and the config loader accepted the file (with placeholders, it accepted everything up to them). */
  valid: boolean;
}

interface FoundModel {
  kind: 'hf' | 'onnx' | 'tfjs';
  path: string;
}

const SKIP = new Set(['node_modules', '.git', 'privacy-audit-report', 'dist']);

/** Local models under `dir` (at most `depth` levels down), in a stable order. */
function findModels(dir: string, depth = 3): FoundModel[] {
  const out: FoundModel[] = [];
  const walk = (d: string, level: number) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      return;
    }
    if (isHfFolder(d)) {
      out.push({ kind: 'hf', path: d });
      return; // its onnx/model.onnx is part of it, not a classifier
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !SKIP.has(e.name) && level < depth) walk(p, level + 1);
      } else if (e.isFile() && e.name.toLowerCase().endsWith('.onnx')) out.push({ kind: 'onnx', path: p });
      else if (e.isFile() && e.name === 'model.json' && isTfjsModel(p)) out.push({ kind: 'tfjs', path: p });
    }
  };
  walk(dir, 0);
  return out;
}

const isHfFolder = (d: string) => existsSync(path.join(d, 'config.json')) && existsSync(path.join(d, 'onnx', 'model.onnx'));

function isTfjsModel(file: string): boolean {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return 'modelTopology' in j && 'weightsManifest' in j;
  } catch {
    return false;
  }
}

/** The role a model's path suggests, if any. */
function roleOf(p: string): Role | undefined {
  const name = p.toLowerCase();
  // "after-retrained" is the after model (made by retraining); a bare "retrained" the gold standard.
  if (/after|unlearn|forgot|deleted/.test(name)) return 'after';
  if (/retrain/.test(name)) return 'retrained';
  if (/(^|[^a-z])(base|reference|pretrained)([^a-z]|$)/.test(name)) return 'reference';
  if (/before|release|finetun|fine-tun|original/.test(name)) return 'before';
  return undefined;
}

/** Data files by role, found by name in `dir` and its data/ folder(s), .jsonl before .csv. */
function findData(dir: string): Partial<Record<DataRole, string>> {
  const names: Record<DataRole, RegExp> = {
    members: /^(members?|train(ing)?)(\.|$)/,
    forget: /^(forget|deleted|erase(d)?)(\.|$)/,
    holdout: /^(holdout|held-out|heldout|non-?members|test)(\.|$)/,
    population: /^(population|aux(iliary)?)(\.|$)/,
  };
  const found: Partial<Record<DataRole, string>> = {};
  for (const d of [dir, path.join(dir, 'data')]) {
    let files: string[];
    try {
      files = readdirSync(d).filter((f) => /\.(jsonl|csv)$/i.test(f)).sort((a, b) => Number(b.endsWith('.jsonl')) - Number(a.endsWith('.jsonl')) || a.localeCompare(b));
    } catch {
      continue;
    }
    for (const f of files) {
      for (const [role, re] of Object.entries(names) as [DataRole, RegExp][]) {
        if (!found[role] && re.test(f.toLowerCase()) && statSync(path.join(d, f)).isFile()) found[role] = path.join(d, f);
      }
    }
  }
  return found;
}

/** Whether the first records of a JSONL file declare PII (pii-extraction has something to look for). */
function hasPii(file: string | undefined): boolean {
  if (!file) return false;
  try {
    return /"pii"\s*:\s*\[\s*\{/.test(readFileSync(file, 'utf8').slice(0, 64 * 1024));
  } catch {
    return false;
  }
}

/** A causal LM's context (n_positions), to size the extraction prompts. */
function contextOf(dir: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const n = c.n_positions ?? c.max_position_embeddings;
    return typeof n === 'number' && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

const rel = (base: string, p: string) => {
  const r = path.relative(base, p).split(path.sep).join('/');
  return r.startsWith('.') ? r : `./${r}`;
};
/** YAML scalar: plain when safe, else double-quoted JSON. */
const y = (s: string) => (/^[\w./:@+-][\w./:@+#-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : JSON.stringify(s));

export interface InitOptions {
  /** The folder to search and to write privacy-audit.yml into. */
  cwd: string;
  /** A model folder or file, or a served model's URL (`http://host:8000/v1#model-id`). */
  target?: string;
  force?: boolean;
}

export async function init(opts: InitOptions): Promise<InitResult> {
  const cwd = path.resolve(opts.cwd);
  const file = path.join(cwd, 'privacy-audit.yml');
  if (!opts.force && existsSync(file)) throw new InputError('already exists; run init with --force to replace it', { file });
  const placeholders: string[] = [];
  const models: Partial<Record<Role, string>> = {};
  const modelLines: string[] = [];
  let kind: InitKind;
  let context: number | undefined;

  if (opts.target !== undefined && /^https?:\/\//i.test(opts.target)) {
    kind = 'served';
    const [base, id] = opts.target.split('#', 2) as [string, string | undefined];
    // The served model's tokenizer: a local base model's folder, by name if there is one.
    const local = findModels(cwd).filter((m) => m.kind === 'hf');
    const tokenizer = local.find((m) => roleOf(path.relative(cwd, m.path)) === 'reference') ?? local[0];
    if (!id) placeholders.push('models.before.model');
    if (!tokenizer) placeholders.push('models.before.tokenizer');
    models.before = `${base}#${id ?? PLACEHOLDER}`;
    modelLines.push(
      '  before:',
      '    kind: openai-compatible',
      `    baseURL: ${y(base)}                 # what the openai client talks to (vLLM, SGLang, TGI, a vendor)`,
      `    model: ${y(id ?? PLACEHOLDER)}${id ? '' : '                # the served model id, as GET <baseURL>/models lists it'}`,
      `    tokenizer: ${y(tokenizer ? rel(cwd, tokenizer.path) : `./${PLACEHOLDER}-tokenizer-folder`)}   # the base model's folder with tokenizer.json and config.json`,
      '    # apiKeyEnv: VLLM_API_KEY          # the variable that holds the key (never the key itself)',
      '    # maxConcurrency: 4                # requests in flight',
      '    # budget: { requests: 20000, tokens: 5000000 }   # a ceiling, checked before anything is sent',
      '  # after: openai:http://host:8001/v1#model-after-deletion   # the served model after the deletion',
      ...(tokenizer ? [`  # reference: hf:${rel(cwd, tokenizer.path)}   # the local base model, for the reference attack`] : []),
    );
  } else {
    let found: FoundModel[];
    if (opts.target !== undefined) {
      const t = path.resolve(cwd, opts.target);
      if (!existsSync(t)) throw new InputError('no such file or folder', { file: t });
      if (statSync(t).isDirectory()) {
        if (!isHfFolder(t)) throw new InputError('not a model folder: expected config.json and onnx/model.onnx (a Hugging Face-format causal LM exported to ONNX), an .onnx file, a tfjs model.json or an http(s) URL of a served model', { file: t });
        found = [{ kind: 'hf', path: t }];
      } else if (t.toLowerCase().endsWith('.onnx')) found = [{ kind: 'onnx', path: t }];
      else if (path.basename(t) === 'model.json' && isTfjsModel(t)) found = [{ kind: 'tfjs', path: t }];
      else throw new InputError('not a model: expected a folder with config.json and onnx/model.onnx, an .onnx file, a tfjs model.json or an http(s) URL', { file: t });
      // The others of the same kind beside it may be its after/retrained/reference models.
      const others = findModels(cwd).filter((m) => m.path !== t && (m.kind === 'hf') === (found[0]!.kind === 'hf'));
      found.push(...others);
    } else {
      found = findModels(cwd);
      if (found.length === 0) {
        throw new InputError(
          'no model found here (a folder with config.json and onnx/model.onnx, an .onnx file or a tfjs model.json, up to three levels down); run init in the folder that holds the model, or give it: privacy-audit init ./model | model.onnx | http://host:8000/v1#model-id',
          { file: cwd },
        );
      }
      // One audit attacks one kind: the causal LMs if there are any, else the classifiers.
      const lms = found.filter((m) => m.kind === 'hf');
      found = lms.length > 0 ? lms : found;
    }
    kind = found[0]!.kind === 'hf' ? 'causal-lm' : 'classifier';
    // Roles by name; the given model (or the first one left) is `before`.
    const byRole = new Map<Role, FoundModel>();
    if (opts.target !== undefined) byRole.set('before', found[0]!);
    for (const m of found) {
      const r = roleOf(path.relative(cwd, m.path));
      if (r && !byRole.has(r) && ![...byRole.values()].includes(m)) byRole.set(r, m);
    }
    if (!byRole.has('before')) {
      const left = found.find((m) => ![...byRole.values()].includes(m));
      if (left) byRole.set('before', left);
      else {
        // Only after/retrained/reference names: the first one found stands as `before`.
        const [r, m] = [...byRole.entries()][0]!;
        byRole.delete(r);
        byRole.set('before', m);
      }
    }
    const notes: Record<Role, string> = {
      before: 'required: the model as released',
      after: 'after the deletion (retrained or unlearned)',
      retrained: 'gold standard: retrained without the forget set',
      reference: 'the base model before fine-tuning (reference attack)',
    };
    for (const r of ['before', 'after', 'retrained', 'reference'] as Role[]) {
      const m = byRole.get(r);
      if (!m) continue;
      models[r] = `${m.kind}:${rel(cwd, m.path)}`;
      modelLines.push(`  ${r}: ${y(models[r]!)}   # ${notes[r]}`);
      if (m.kind === 'hf' && r !== 'reference') context = Math.min(context ?? Infinity, contextOf(m.path) ?? Infinity);
    }
    for (const r of ['after', 'retrained', 'reference'] as Role[]) {
      if (!byRole.has(r) && !(kind === 'classifier' && r === 'reference')) modelLines.push(`  # ${r}: ${kind === 'causal-lm' ? 'hf:./path/to/folder' : 'onnx:./path/to/model.onnx'}   # optional: ${notes[r]}`);
    }
  }

  const found = findData(cwd);
  const data: Partial<Record<DataRole, string>> = {};
  const dataLines: string[] = [];
  const dataNotes: Record<DataRole, string> = {
    members: 'what `before` was trained on (JSONL or CSV: id, subject, text, pii)',
    forget: 'records of the deleted people (a subset of members), or forgetSubjects: [ids]',
    holdout: 'same distribution, never trained on by any model',
    population: 'auxiliary records for shadow models, never trained on by the target',
  };
  for (const r of ['members', 'forget', 'holdout', 'population'] as DataRole[]) {
    const f = found[r];
    if (f) {
      data[r] = rel(cwd, f);
      dataLines.push(`  ${r}: ${y(data[r]!)}   # ${dataNotes[r]}`);
    } else if (r === 'population') {
      if (kind === 'classifier') dataLines.push(`  # population: ./population.jsonl   # ${dataNotes[r]} (rmia needs it)`);
    } else {
      placeholders.push(`data.${r}`);
      dataLines.push(`  ${r}: ./${PLACEHOLDER}-${r}.jsonl   # ${PLACEHOLDER}: ${dataNotes[r]}`);
    }
  }

  // Attacks that can run on this kind; sizes that fit the model's context.
  const attackLines: string[] = [];
  const pii = hasPii(found.members) || hasPii(found.forget);
  if (kind === 'classifier') {
    attackLines.push('  loss: {}', '  shadow: { shadows: 8 }          # Shokri et al.: shadow models trained here, in the worker pool', '  lira: { shadows: 16 }            # Carlini et al. 2022');
    attackLines.push(found.population ? '  rmia: { references: 4 }          # Zarifzadeh et al. 2024' : '  # rmia: { references: 4 }        # needs data.population');
  } else {
    const half = context !== undefined && Number.isFinite(context) ? Math.max(1, Math.min(32, Math.floor((context - 1) / 2))) : 32;
    attackLines.push('  loss: {}                         # Yeom et al.: the loss of each record', '  zlib: {}', '  min-k: { k: 0.2 }');
    attackLines.push(kind === 'served' ? '  # min-k-plus-plus needs the whole next-token distribution: local (hf:) models only' : '  min-k-plus-plus: { k: 0.2 }');
    if (models.reference) attackLines.push('  reference: {}                    # ratio to the base model (models.reference)');
    attackLines.push(`  prefix-extraction: { prefixTokens: ${half}, suffixTokens: ${half} }   # Carlini et al. 2023: does a record's start make the model complete it?`);
    attackLines.push(pii ? '  pii-extraction: {}               # are the deleted people\'s declared PII values emitted?' : '  # pii-extraction: {}             # needs records with "pii": [{ type, value }]');
  }

  const schema = path.join(PACKAGE_ROOT, 'schema', 'config.schema.json');
  const text = [
    '# privacy-audit.yml — written by `privacy-audit init`; paths are relative to this file.',
    `# Model kind found: ${kind === 'causal-lm' ? 'a causal LM (Hugging Face-format folder with onnx/model.onnx)' : kind === 'classifier' ? 'a classifier (ONNX or TensorFlow.js)' : 'a served model (OpenAI-compatible endpoint)'}.`,
    ...(placeholders.length > 0 ? [`# Replace every ${PLACEHOLDER} (${placeholders.join(', ')}) before \`privacy-audit run\`.`] : []),
    `# yaml-language-server: $schema=${rel(cwd, schema)}`,
    'version: 1',
    'seed: 1                              # same seed, same result.json',
    'workers: auto                        # worker threads: min(cores, 4), fewer if the models would not fit in memory',
    'models:',
    ...modelLines,
    'data:',
    ...dataLines,
    '  # fields: { id: id, subject: subject, text: text, pii: pii }   # if your records use other names',
    ...(kind === 'classifier' ? ['shadow: { epochs: 30, batchSize: 64 }   # the training recipe the attacker assumes (shadow models)'] : []),
    'attacks:',
    ...attackLines,
    '# deletion: { method: retrained without the deleted subjects, date: 2026-01-31, reference: DSR-1234 }   # shown in the report',
    'assert: { preset: privacy-audit:unlearning }   # or privacy-audit:anonymisation (every person trained on), or none',
    'output: { dir: ./privacy-audit-report }',
    '',
  ].join('\n');

  // Validated where it will live (relative paths), under a temporary name; put in place only if valid.
  const tmp = path.join(cwd, `.privacy-audit.yml.${process.pid}.tmp.yml`);
  await writeFile(tmp, text, { flag: 'wx' });
  let valid = true;
  try {
    await loadConfig(tmp);
  } catch (e) {
    const placeholderOnly = isInputError(e) && placeholders.length > 0 && (e.format().includes(PLACEHOLDER));
    if (!placeholderOnly) {
      await unlink(tmp).catch(() => {});
      if (isInputError(e)) throw new InputError(`the config init would write does not load (nothing was written): ${e.format().replace(tmp, file)}`, { file });
      throw e;
    }
    valid = false;
  }
  try {
    if (opts.force) await rename(tmp, file);
    else {
      // link() fails if the file appeared meanwhile: never replaced without --force.
      await link(tmp, file).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') throw new InputError('already exists; run init with --force to replace it', { file });
        throw e;
      });
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return { file, kind, models, data, placeholders, valid: valid && placeholders.length === 0 };
}
