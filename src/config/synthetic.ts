/**
 * Loads a config whose target is a released synthetic dataset (`target: { synthetic }`): the same
 * checks and messages as a model config (src/config/load.ts: file, line, field, what was expected),
 * every input resolved against the config's folder and SHA-256 hashed.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { InputError } from '../errors.ts';
import { typeName } from '../data/records.ts';
import { issuesToError, readConfigDocument, sha256File, type InputFile, type Locator } from './load.ts';
import { syntheticConfigSchema, type SyntheticConfigParsed } from './schema.ts';
import { DEFAULT_DATA_LIMITS, type DataLimits } from './limits.ts';
import { parseSyntheticGate, type SyntheticAssertConfig } from '../assert/synthetic-names.ts';

export interface LoadedSyntheticConfig {
  configPath: string;
  seed: number;
  target: { synthetic: string; kind: 'tabular' | 'text'; columns: Record<string, 'numeric' | 'categorical'>; text: string };
  data: { members: string; holdout: string; population?: string; id: string; subject: string };
  /** Attack id → parsed options, in config order. */
  attacks: Record<string, unknown>;
  assert?: SyntheticAssertConfig;
  outputDir: string;
  limits: DataLimits;
  raw: unknown;
  inputs: InputFile[];
  /** Line of a config key (for errors found after loading, e.g. a column named in attack options). */
  where: (fieldPath: (string | number)[]) => { file?: string; line?: number; field?: string };
}

export interface SyntheticLoadOptions {
  attackOptions: (id: string) => z.ZodType | undefined;
  knownAttacks: readonly string[];
  /** Default attacks when the config names none (by target kind). */
  defaults: (kind: 'tabular' | 'text') => Record<string, unknown>;
}

/** Whether a config file declares a synthetic target (a top-level `target` key); false when it cannot be read (loadConfig then says why). */
export async function isSyntheticConfig(configPath: string): Promise<boolean> {
  try {
    const { raw } = await readConfigDocument(configPath);
    return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'target' in raw;
  } catch {
    return false;
  }
}

export async function loadSyntheticConfig(configPath: string, opts: SyntheticLoadOptions): Promise<LoadedSyntheticConfig> {
  const { file, raw, locator } = await readConfigDocument(configPath);
  const parsed = syntheticConfigSchema.safeParse(raw);
  if (!parsed.success) throw issuesToError(parsed.error.issues, raw, [], locator);
  const cfg: SyntheticConfigParsed = parsed.data;
  const base = path.dirname(file);
  const inputs: InputFile[] = [{ role: 'config', path: file, sha256: await sha256File(file) }];
  const resolveFile = async (fieldPath: string[], p: string, role: string) => {
    const abs = path.resolve(base, p);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw locator.error(fieldPath, `file not found: ${abs}`);
    if (!st.isFile()) throw locator.error(fieldPath, `expected a file, found a folder: ${abs}`);
    inputs.push({ role, path: abs, sha256: await sha256File(abs) });
    return abs;
  };
  const synthetic = await resolveFile(['target', 'synthetic'], cfg.target.synthetic, 'data:synthetic');
  const members = await resolveFile(['data', 'members'], cfg.data.members, 'data:members');
  const holdout = await resolveFile(['data', 'holdout'], cfg.data.holdout, 'data:holdout');
  const population = cfg.data.population === undefined ? undefined : await resolveFile(['data', 'population'], cfg.data.population, 'data:population');
  const kind = cfg.target.kind ?? 'tabular';
  if (kind === 'text' && cfg.target.columns) throw locator.error(['target', 'columns'], '"columns" declares the types of a tabular target; a text target has one text column (target.text)');
  const attacks: Record<string, unknown> = {};
  const given = cfg.attacks ?? opts.defaults(kind);
  for (const [id, o] of Object.entries(given)) {
    const schema = opts.attackOptions(id);
    if (!schema) throw locator.error(['attacks', id], `unknown synthetic-data attack "${id}"; known: ${opts.knownAttacks.join(', ')}`);
    const r = schema.safeParse(o ?? {});
    if (!r.success) throw issuesToError(r.error.issues, o ?? {}, ['attacks', id], locator as Locator);
    attacks[id] = r.data;
  }
  if (Object.keys(attacks).length === 0) throw locator.error(['attacks'], 'no attacks: name at least one of ' + opts.knownAttacks.join(', '));
  for (const name of Object.keys(cfg.assert?.assertions ?? {})) {
    const g = parseSyntheticGate(name);
    if (typeof g === 'string') throw locator.error(['assert', 'assertions', name], g);
    if (g.attack !== '*' && !(g.attack in attacks)) throw locator.error(['assert', 'assertions', name], `the gate names attack "${g.attack}", which this config does not run (attacks: ${Object.keys(attacks).join(', ')})`);
  }
  const limits: DataLimits = {
    maxFileBytes: cfg.limits?.maxDataFileMiB !== undefined ? cfg.limits.maxDataFileMiB * 1024 * 1024 : DEFAULT_DATA_LIMITS.maxFileBytes,
    maxRecordBytes: cfg.limits?.maxRecordKiB !== undefined ? cfg.limits.maxRecordKiB * 1024 : DEFAULT_DATA_LIMITS.maxRecordBytes,
  };
  if (typeof raw !== 'object' || raw === null) throw new InputError(`expected a mapping, got ${typeName(raw)}`, { file });
  return {
    configPath: file,
    seed: cfg.seed,
    target: { synthetic, kind, columns: cfg.target.columns ?? {}, text: cfg.target.text ?? 'text' },
    data: { members, holdout, ...(population ? { population } : {}), id: cfg.data.fields?.id ?? 'id', subject: cfg.data.fields?.subject ?? 'subject' },
    attacks,
    ...(cfg.assert ? { assert: cfg.assert as SyntheticAssertConfig } : {}),
    outputDir: path.resolve(base, cfg.output?.dir ?? './privacy-audit-report'),
    limits,
    raw,
    inputs,
    where: (p) => locator.where(p),
  };
}
