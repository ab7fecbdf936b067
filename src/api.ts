/**
 * The library behind `import { audit, evaluate, loadConfig, renderReport } from 'privacy-audit'`
 * (re-exported by src/index.ts). The CLI calls these same functions: one pipeline.
 *
 * Library code never ends the process and never prints: log lines and progress arrive as events
 * (`onEvent`), failures as exceptions that carry the exit code the CLI gives them (`exitCode`:
 * 2 input, 3 runtime; `exitCodeOf` in src/errors.ts), a verdict as a result (`exitCodeFor`).
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { attackIds, getAttack } from '../attacks/index.ts';
import { loadConfig as loadConfigFile, type LoadedConfig } from './config/load.ts';
import { poolShape } from './config/limits.ts';
import { AuditAbortedError, InputError } from './errors.ts';
import { evaluateObservations, evaluateScores, type ObservationOptions } from './evaluate/index.ts';
import { checkOutputDir, commitOutputs, isOutputError, renderOutputs, writeOutputs, type OutputName } from './outputs.ts';
import { keyFileIsShared, loadPseudonymKey, parseKey } from './pseudonym.ts';
import { loadSigner } from './sign.ts';
import { checkConsistency } from './verify.ts';
import { PRESETS, type AssertConfig } from './assert/index.ts';
import type { Progress } from './audit/signals.ts';
import type { AuditResult, RunInfo } from './result/types.ts';

/** What an audit reports while it runs: a log line, or a batch of model work finished. */
export type AuditEvent =
  | { type: 'log'; message: string }
  | ({ type: 'progress' } & Parameters<Progress>[0]);

/** Reads and validates a config file (YAML or JSON) and every file it names; `InputError` (exit 2) names the file, line and field of a mistake. */
export function loadConfig(file: string): Promise<LoadedConfig> {
  return loadConfigFile(path.resolve(file), {
    attackOptions: (id) => getAttack(id)?.options,
    knownAttacks: attackIds(),
    attackFamily: (id) => getAttack(id)?.meta.family,
  });
}

export interface AuditOptions {
  /**
   * Where to write report.html, result.json, junit.xml, summary.md and run.json (checked before any
   * model work). Default: the config's `output.dir`; `false` writes nothing (the result is returned).
   */
  out?: string | false;
  /** Worker threads; default the config's `workers` (`auto`: decided with `threads` from the models' size, the cores and the free memory). */
  workers?: number;
  /** onnxruntime intra-op threads per worker for causal-LM sessions; default the config's `threads`, else decided with `workers`. */
  threads?: number;
  /** `false` recomputes everything; default true. */
  cache?: boolean;
  /** Cache folder; default the config's `cache.dir`, else `<out or output.dir>/.cache`. */
  cacheDir?: string;
  /** Bootstrap iterations for intervals (default 1000). */
  bootstrap?: number;
  /** Real subject ids and unmasked PII in the result (authorised internal review only). */
  reveal?: boolean;
  /**
   * Secret key of the subject pseudonyms (32+ bytes, or its hex/base64 text). Default:
   * $PRIVACY_AUDIT_PSEUDONYM_KEY, else `<out>/.pseudonym-key` (made on first use; with `out: false`,
   * the one in the config's output.dir), so pseudonyms, and result.json, are the same run after run.
   */
  pseudonymKey?: Uint8Array | string;
  /** An Ed25519 private key (PEM file) that signs result.json and report.html. */
  signKey?: string;
  /** Cancels the audit: it rejects with an `AuditAbortedError` (name 'AbortError'); finished batches stay cached. */
  signal?: AbortSignal;
  /** Log lines and progress (the CLI prints them on stderr). */
  onEvent?: (event: AuditEvent) => void;
  /** `run --merge`: statistics and outputs from the work `--shard i/N` runs left in the cache. */
  merge?: boolean;
  /** The command line recorded in run.json. */
  argv?: string[];
}

/** An audit's result with what varies between runs (run.json) and what was written. */
export interface AuditOutcome {
  result: AuditResult;
  run: RunInfo;
  /** cache-manifest.txt: the cache entries the result rests on. */
  cacheManifest: string;
  /** The folder written, when outputs were written. */
  out?: string;
  /** The cache folder used (undefined with `cache: false`). */
  cacheDir?: string;
}

/**
 * Workers × intra-op threads (config/limits.ts poolShape): what the caller or the config gives, the
 * rest decided from the local models' size, the cores and the free memory.
 */
export async function poolShapeFor(
  cfg: LoadedConfig,
  given: { workers?: number | undefined; threads?: number | undefined } = {},
  log: (line: string) => void = () => {},
): Promise<{ workers: number; threads: number }> {
  let bytes = 0;
  for (const i of cfg.inputs) if (i.role.startsWith('model:')) bytes += (await stat(i.path)).size;
  const workers = given.workers ?? (cfg.workersAuto ? undefined : cfg.workers);
  // Intra-op threads only reach causal-LM sessions: classifier audits (onnx:, tfjs:, shadow training)
  // keep single-threaded workers.
  const lmsOnly = Object.values(cfg.models).every((m) => m === undefined || m.kind === 'hf' || m.kind === 'openai');
  const threads = given.threads ?? cfg.threads ?? (lmsOnly ? undefined : 1);
  const shape = poolShape({ modelBytes: bytes, availableBytes: os.freemem(), cores: os.availableParallelism(), ...(workers !== undefined ? { workers } : {}), ...(threads !== undefined ? { threads } : {}) });
  log(`pool: ${shape.workers} worker(s) × ${shape.threads} intra-op thread(s): ${shape.why}`);
  return shape;
}

/** The workers an audit of `cfg` uses when the caller does not say. */
export async function workersFor(cfg: LoadedConfig, log: (line: string) => void = () => {}): Promise<number> {
  return (await poolShapeFor(cfg, {}, log)).workers;
}

function pseudonymKeyOf(k: Uint8Array | string): Uint8Array {
  if (typeof k !== 'string') {
    if (k.length < 32) throw new InputError('pseudonymKey must be at least 32 bytes');
    return k;
  }
  const key = parseKey(k);
  if (!key) throw new InputError('pseudonymKey must be a random key of at least 32 bytes, as 64 hex digits or base64');
  return key;
}

/** One audit with its run information; `audit()` returns only the result. */
export async function auditWithOutcome(config: string | LoadedConfig, opts: AuditOptions = {}): Promise<AuditOutcome> {
  const emit = opts.onEvent ?? (() => {});
  const log = (message: string) => emit({ type: 'log', message });
  const cfg = typeof config === 'string' ? await loadConfig(config) : config;
  const out = opts.out === false ? undefined : path.resolve(opts.out ?? cfg.outputDir);
  // Before any model work: a folder that cannot take the outputs or a bad key is an InputError now.
  if (out) await checkOutputDir(out);
  const signer = opts.signKey ? loadSigner(path.resolve(opts.signKey)) : undefined;
  const { workers, threads } = await poolShapeFor(cfg, { workers: opts.workers, threads: opts.threads }, log);
  const cacheDir = opts.cache === false ? undefined : opts.cacheDir ? path.resolve(opts.cacheDir) : (cfg.cacheDir ?? path.join(out ?? cfg.outputDir, '.cache'));
  let pseudonymKey: Uint8Array | undefined;
  if (!opts.reveal) {
    if (opts.pseudonymKey !== undefined) pseudonymKey = pseudonymKeyOf(opts.pseudonymKey);
    else {
      const k = await loadPseudonymKey(out ?? cfg.outputDir);
      if (k.from === 'created') log(`pseudonym key created: ${k.file} (keep it private; see README, "Pseudonyms")`);
      if (k.file && (await keyFileIsShared(k.file))) log(`warning: ${k.file} is readable by other users; chmod 600 it`);
      pseudonymKey = k.key;
    }
  }
  // Imported here: the model libraries it pulls in take seconds to load, and a config mistake should
  // be reported without waiting for them.
  const { runAudit } = await import('./audit/run.ts');
  let outcome;
  try {
    outcome = await runAudit(cfg, {
      merge: opts.merge ?? false,
      workers,
      threads,
      cacheDir,
      ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}),
      argv: opts.argv ?? [],
      ...(opts.reveal ? { reveal: true } : {}),
      ...(pseudonymKey ? { pseudonymKey } : {}),
      log,
      progress: (p) => emit({ type: 'progress', ...p }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if (opts.signal?.aborted) {
      throw new AuditAbortedError(`audit cancelled${cacheDir ? `; the finished model work is cached in ${cacheDir}, so running it again resumes` : ''}`, { cause: opts.signal.reason });
    }
    throw e;
  }
  const { result, run, cacheManifest, sidecars } = outcome;
  if (out) {
    try {
      await writeOutputs(out, result, { run, cacheManifest, sidecars, ...(signer ? { signer } : {}) });
    } catch (e) {
      if (isOutputError(e) && cacheDir) e.message += `; the finished model work is cached in ${cacheDir}, so a rerun resumes`;
      throw e;
    }
  }
  return { result, run, cacheManifest, ...(out ? { out } : {}), ...(cacheDir ? { cacheDir } : {}) };
}

/**
 * Audits the models a config names (a path, or a config from `loadConfig`) and returns result.json's
 * content; writes the outputs to the config's output.dir unless `out` says otherwise (`false`: none).
 */
export async function audit(config: string | LoadedConfig, opts: AuditOptions = {}): Promise<AuditResult> {
  return (await auditWithOutcome(config, opts)).result;
}

/** What `evaluate` is given: scores computed elsewhere, or shadow-model outputs for LiRA/RMIA. */
export type EvaluateInput =
  | { scores: string; preset?: AssertConfig['preset'] }
  | ({ observations: string } & Omit<ObservationOptions, 'seed' | 'bootstrap'>);

export interface EvaluateOptions {
  seed?: number;
  bootstrap?: number;
  /** Write the outputs into this folder too. */
  out?: string;
  signKey?: string;
}

/** Our statistics, gates and verdict on scores (or shadow outputs) computed elsewhere: `privacy-audit evaluate`. */
export async function evaluate(input: EvaluateInput, opts: EvaluateOptions = {}): Promise<AuditResult> {
  const out = opts.out ? path.resolve(opts.out) : undefined;
  if (out) await checkOutputDir(out);
  const signer = opts.signKey ? loadSigner(path.resolve(opts.signKey)) : undefined;
  const seed = opts.seed ?? 1;
  let result: AuditResult;
  if ('observations' in input) {
    const { observations, ...rest } = input;
    result = await evaluateObservations(path.resolve(observations), { ...rest, seed, ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}) });
  } else {
    if (input.preset !== undefined && !(input.preset in PRESETS)) throw new InputError(`preset expects one of ${Object.keys(PRESETS).join(', ')}, got "${input.preset}"`);
    result = await evaluateScores(path.resolve(input.scores), {
      seed,
      ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}),
      ...(input.preset ? { assert: { preset: input.preset, assertions: {} } } : {}),
    });
  }
  if (out) await writeOutputs(out, result, signer ? { signer } : {});
  return result;
}

export interface RenderReportOptions {
  /** Write the files into this folder (atomically, replacing an earlier run's outputs). */
  out?: string;
  /** Timings and machine for the report's reproducibility section (run.json). */
  run?: RunInfo;
  signKey?: string;
}

/**
 * Every output of a result (report.html, result.json, junit.xml, summary.md; run.json with `run`),
 * rendered in memory and, with `out`, written. A result whose verdict does not follow from its own
 * gates (or its gates from its findings) was edited: it is refused (InputError).
 */
export async function renderReport(result: AuditResult, opts: RenderReportOptions = {}): Promise<Partial<Record<OutputName, string>>> {
  const broken = checkConsistency(result).find((c) => c.status === 'fail');
  if (broken) throw new InputError(`inconsistent result: ${broken.what.replace(/^the /, '')} is false (${broken.detail}); refusing to render it`, { field: 'verdict' });
  const signer = opts.signKey ? loadSigner(path.resolve(opts.signKey)) : undefined;
  const out = opts.out ? path.resolve(opts.out) : undefined;
  if (out) await checkOutputDir(out);
  const files = await renderOutputs(result, { ...(opts.run ? { run: opts.run } : {}), ...(signer ? { signer } : {}) });
  if (out) await commitOutputs(out, files);
  return Object.fromEntries(files);
}

/** The verdict's exit code: 0 pass, 1 fail, 4 inconclusive (or 1/0 with `inconclusive: 'fail' | 'pass'`). */
export function exitCodeFor(result: Pick<AuditResult, 'verdict'>, inconclusive?: 'fail' | 'pass'): 0 | 1 | 4 {
  if (result.verdict === 'pass') return 0;
  if (result.verdict === 'fail') return 1;
  return inconclusive === 'fail' ? 1 : inconclusive === 'pass' ? 0 : 4;
}
