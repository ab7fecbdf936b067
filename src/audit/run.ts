/**
 * One audit, end to end after loading: plan → collect (pool) → evaluate (pure) → measure → gates.
 * Returns the result; writing files is the caller's job (see src/outputs.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { getAttack } from '../../attacks/index.ts';
import {
  missingCapabilities,
  type Attack,
  type AuditSplits,
  type Capability,
  type CollectContext,
  type ExposureObservation,
  type ExtractionObservation,
  type MembershipObservation,
  type ModelUnderTest,
  type Observation,
} from '../../attacks/types.ts';
import { diskCache, sha256, type Cache } from '../cache.ts';
import { cacheEvidence, recordingCache, renderCacheManifest } from '../evidence.ts';
import { mattersInReport, scoresSidecar, subjectsSidecar, type SidecarFile } from '../sidecars.ts';
import type { LoadedConfig } from '../config/load.ts';
import { buildSplits, type Splits } from '../data/splits.ts';
import { loadClassifier, loadTextTokenizer, onnxClassifierInput, type ClassifierInput } from '../models/classifier.ts';
import { loadTokenizer, scoringIdentity } from '../models/hf.ts';
import { validateCausalLM, validateTextTokenizer, type CausalLMInfo } from '../models/validate.ts';
import { assumedServedModel, openServedModel, type ServedModel } from '../models/served.ts';
import { deviceProblem } from '../models/device.ts';
import { checkBudgets, type BudgetModel } from './budgets.ts';
import { describeSource, recordSource, setRecordSource, whereOf } from '../data/records.ts';
import { BAG_OF_TOKENS_MAX_DIM, bagOfTokens, checkClassifierRecords, shadowPool, type Architecture } from '../shadow/bank.ts';
import { InputError, isInputError, isServedUnavailable } from '../errors.ts';
import { mapStrings, redaction } from '../pseudonym.ts';
import { quantile } from '../metrics/index.ts';
import { DrawMemo } from '../metrics/bootstrap.ts';
import { createPool, isWorkerDied, type Pool } from '../pool/index.ts';
import type { ModelSpec } from '../pool/protocol.ts';
import type { AuditResult, InputFile, RunInfo, ServedModelInfo, SubjectVerdict } from '../result/types.ts';
import { SCHEMA_VERSION } from '../result/types.ts';
import type { DataRecord, ModelRole } from '../types.ts';
import { dependencyVersions, TOOL } from '../version.ts';
import { defaultGates, verdictOf, type AdapterDropped, type AttackStatus } from './gates.ts';
import { checkDpClaim, type ResolvedDpClaim } from '../claims/dp/claim.ts';
import { prepareDpClaim } from '../claims/dp/prepare.ts';
import type { DpClaimSummary } from '../claims/dp/types.ts';
import { extractionComparisons, membershipComparisons, type Comparison } from './compare.ts';
import {
  exposureSummaries,
  extractionSummaries,
  membershipFindings,
  subjectFindings,
  type ExposureSummary,
  type ExtractionSummary,
  type Finding,
} from './measure.ts';
import { createSignals, STORED, type Progress, type ShadowSetup } from './signals.ts';
import { subjectMeans } from './subjects.ts';
import { verifyLora, type LoraProvenance } from '../claims/lora/provenance.ts';
import { attributeToAdapter } from '../claims/lora/attribution.ts';
import { ensembleSpec, sisaClaim } from '../claims/sisa/audit.ts';
import { sisaGates } from '../claims/sisa/checks.ts';

/** Roles that are attacked; `reference` only calibrates other attacks. */
const TARGET_ROLES: ModelRole[] = ['before', 'after', 'retrained'];
const HF_CAPABILITIES: Capability[] = ['tokenLogprobs', 'tokenStats', 'generate', 'sample'];
const CLASSIFIER_CAPABILITIES: Capability[] = ['probabilities'];
/** How a missing capability reads in a not-applicable reason. */
const CAPABILITY_HELP: Record<string, string> = {
  tokenLogprobs: "per-token log-probabilities of a given text (a causal LM, hf:, or a served model whose endpoint returns prompt log-probabilities; the probe's findings are in result.json models[].served)",
  tokenStats: 'vocabulary statistics per token (a local causal LM, hf:; a served endpoint returns at most the top 5–20 alternatives, not the whole distribution)',
  generate: 'text generation (a causal LM, hf:, or a served model with a completions or chat endpoint)',
  sample: 'seeded sampling of several continuations per prompt (a causal LM, hf:, or a served model with a completions or chat endpoint that takes n, temperature and seed)',
  probabilities: 'class probabilities (a classifier, onnx: or tfjs:)',
  'tokenLogprobs or probabilities': 'per-token log-probabilities (hf:) or class probabilities (onnx:, tfjs:)',
};

export interface RunOptions {
  workers: number;
  /** onnxruntime intra-op threads of each worker's causal-LM sessions (default 1). */
  threads?: number;
  /** Folder of the content-addressed cache; undefined disables it. */
  cacheDir: string | undefined;
  bootstrap?: number;
  argv?: string[];
  /** Real subject ids and unmasked PII in the result, for authorised internal review. */
  reveal?: boolean;
  /** Secret key of the subject pseudonyms (src/pseudonym.ts); required unless `reveal`. */
  pseudonymKey?: Uint8Array;
  log?: (line: string) => void;
  progress?: Progress;
  /**
   * `run --merge`: the statistics and outputs of an audit whose model work was done by `--shard i/N`
   * runs into this cache; every shard must have finished, and no model work is computed again.
   */
  merge?: boolean;
  /**
   * Cancels the audit: checked after every finished batch (which is cached first) and passed to the
   * pool, which drops queued tasks and ends running ones. The audit then rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Every applicable attack's collect stage, in config order, with `signals` (a shard's, or a plan's):
 * the model work an audit asks for, without evaluating it.
 */
async function collectAll(cfg: LoadedConfig, p: Pick<Prepared, 'models' | 'reference' | 'auditSplits' | 'notApplicable'>, signals: ReturnType<typeof createSignals>, log?: (id: string) => void): Promise<void> {
  for (const [id, options] of Object.entries(cfg.attacks)) {
    if (p.notApplicable(id) !== undefined) continue;
    log?.(id);
    signals.setAttack(id);
    const attack = getAttack(id)!;
    await attack.collect({ options, seed: cfg.seed, splits: p.auditSplits, models: p.models, ...(p.reference ? { reference: p.reference } : {}), signals });
    // The same prompts on a LoRA target's base (attribution, runAudit): part of the audit's model work.
    const base = loraBaseOf(cfg, p.reference);
    if (base && attack.meta.family === 'extraction') await attack.collect({ options, seed: cfg.seed, splits: p.auditSplits, models: [base], reference: base, signals });
  }
}

/** The reference model when it is the frozen base of a LoRA `before`: extraction hits are attributed against it. */
function loraBaseOf(cfg: LoadedConfig, reference: ModelUnderTest | undefined): ModelUnderTest | undefined {
  const l = cfg.models.before?.lora;
  return l && reference && cfg.models.reference?.path === l.base ? reference : undefined;
}

/** Which audit a shard's work belongs to: its seed, attacks, shadow recipe and every input's digest. */
function shardPlanKey(cfg: LoadedConfig): string {
  return sha256(JSON.stringify(['shard-plan/v1', cfg.seed, cfg.attacks, cfg.shadow, cfg.inputs.map((i) => [i.role, i.sha256])]));
}
const shardKey = (cfg: LoadedConfig, index: number, count: number) => sha256(JSON.stringify(['shard/v1', shardPlanKey(cfg), index, count]));

/**
 * `run --shard i/N`: the model work of shard i (batches of scoring, generation, sampling and shadow
 * training whose key falls to it, src/audit/signals.ts) computed into the cache, which the shards
 * share (one folder on a shared volume, or folders combined before the merge). No statistics and no
 * outputs: `run --merge` makes those, byte-identical to a run on one machine.
 */
export async function runShard(cfg: LoadedConfig, opts: RunOptions, shard: { index: number; count: number }): Promise<{ computed: number; fromCache: number; others: number }> {
  if (!opts.cacheDir) throw new InputError('--shard needs the cache: the shards and the merge meet there (drop --no-cache)');
  const p = await prepare(cfg, opts, true);
  const pool = createPool(opts.workers);
  const cache = diskCache(opts.cacheDir, { warn: p.log });
  const signals = createSignals({ pool, cache, specs: p.specs, served: p.served, seed: cfg.seed, progress: opts.progress, shard, ...(p.shadow ? { shadow: p.shadow } : {}) });
  try {
    await collectAll(cfg, p, signals, (id) => p.log(`${id}: collecting shard ${shard.index}/${shard.count}`));
  } finally {
    await pool.close();
  }
  const counts = { ...signals.shardCounts };
  // Written last: its presence says this shard finished.
  await cache.set(shardKey(cfg, shard.index, shard.count), 'shard', { index: shard.index, count: shard.count, ...counts });
  await cache.set(shardPlanKey(cfg), 'shard-plan', { count: shard.count });
  return counts;
}

/** `--merge`: how many shards the audit was cut into; exit 2 naming every shard that has not finished. */
async function checkShards(cfg: LoadedConfig, cacheDir: string | undefined, log: (line: string) => void): Promise<number> {
  if (!cacheDir) throw new InputError('--merge needs the cache the shards wrote (drop --no-cache)');
  // Not the recording cache: the merged result's evidence must be a single run's.
  const cache = diskCache(cacheDir, { warn: log });
  const plan = await cache.get(shardPlanKey(cfg), 'shard-plan', (v) => STORED['shard-plan'].parse(v));
  if (!plan) throw new InputError(`--merge: no shard of this audit has finished in ${cacheDir} (same config, inputs and seed); run --shard i/N first`);
  const missing: number[] = [];
  for (let i = 0; i < plan.count; i++) {
    if (!(await cache.get(shardKey(cfg, i, plan.count), 'shard', (v) => STORED.shard.parse(v)))) missing.push(i);
  }
  if (missing.length > 0) {
    throw new InputError(`--merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${plan.count}`).join(', ')} of this audit ${missing.length > 1 ? 'have' : 'has'} not finished in ${cacheDir}; run ${missing.length > 1 ? 'them' : 'it'} (--shard ${missing[0]}/${plan.count}), then --merge`);
  }
  return plan.count;
}

/**
 * Masks a PII value for the report: an e-mail keeps the first character of its user name and its
 * top-level domain (`j*****@****.test`); anything else keeps its first and last character and its
 * punctuation (`5**-***-***0`). Enough for a reviewer to recognise the kind of value, not to use it.
 */
export function maskValue(value: string): string {
  const at = value.lastIndexOf('@');
  const star = (s: string) => s.replace(/[\p{L}\p{N}]/gu, '*');
  if (at > 0) {
    const domain = value.slice(at + 1);
    const dot = domain.lastIndexOf('.');
    const local = value.slice(0, at);
    return `${local[0]}${star(local.slice(1))}@${dot > 0 ? `${star(domain.slice(0, dot))}${domain.slice(dot)}` : star(domain)}`;
  }
  if (value.length <= 2) return star(value);
  return `${value[0]}${star(value.slice(1, -1))}${value.slice(-1)}`;
}

function servedInfo(s: ServedModel): ServedModelInfo {
  const p = s.probe;
  return {
    baseURL: s.config.baseURL,
    model: s.config.model,
    scoring: p.scoring,
    generation: p.generation,
    tokenizerCheck: p.tokenizerCheck,
    ...(s.config.tokenizerFrom ? { tokenizerFrom: s.config.tokenizerFrom } : {}),
    served: p.servedModel,
    ...(p.systemFingerprint ? { systemFingerprint: p.systemFingerprint } : {}),
    fingerprint: p.fingerprint,
    context: p.maxLength,
    probe: p.findings,
  };
}

/** Per served model role: what a run would send it (after the cache, when one is given). */
export type RequestPlan = Record<string, { requests: number; tokens: number; scoring: number; generation: number }>;

/**
 * Runs every applicable attack's collect stage with stand-ins for the served models that count
 * instead of sending, and with local models not run: the requests and tokens (prompt + at most the
 * continuation asked for) each served model would be sent. The repeat checks are counted too: the
 * stand-ins go through the same code as the real ones. A cache hit is not counted (nothing is sent).
 */
async function planRequests(cfg: LoadedConfig, p: Pick<Prepared, 'served' | 'specs' | 'models' | 'reference' | 'auditSplits' | 'notApplicable'>, cache: Cache): Promise<RequestPlan> {
  const plan: RequestPlan = {};
  const standIns = new Map<string, ServedModel>();
  for (const [role, s] of p.served) {
    const tally = (plan[role] = { requests: 0, tokens: 0, scoring: 0, generation: 0 });
    standIns.set(role, {
      ...s,
      score: async (ids) => {
        tally.requests++;
        tally.scoring++;
        tally.tokens += ids.length;
        return new Float32Array(Math.max(ids.length - 1, 0));
      },
      generate: async (ids, maxNewTokens) => {
        tally.requests++;
        tally.generation++;
        tally.tokens += ids.length + maxNewTokens;
        return [];
      },
      sample: async (ids, { n, maxNewTokens }) => {
        tally.requests++;
        tally.generation++;
        tally.tokens += ids.length + n * maxNewTokens;
        return Array.from({ length: n }, () => []);
      },
    });
  }
  const readOnly: Cache = {
    get hits() {
      return cache.hits;
    },
    get misses() {
      return cache.misses;
    },
    get rejected() {
      return cache.rejected;
    },
    get rejections() {
      return cache.rejections;
    },
    get: (key, kind, parse) => cache.get(key, kind, parse),
    // Planning answers are zeros: never stored.
    set: async () => {},
  };
  const noPool: Pool = {
    threads: 0,
    run: () => Promise.reject(new Error('planning runs no model')),
    close: async () => {},
  };
  await collectAll(cfg, p, createSignals({ pool: noPool, cache: readOnly, specs: p.specs, served: standIns, seed: cfg.seed, planning: true }));
  return plan;
}

/** Exit 2 when a run would send a served model more than its budget allows. */
function checkServedBudgets(plan: RequestPlan, served: ReadonlyMap<ModelRole, ServedModel>, cfg: LoadedConfig): void {
  for (const [role, s] of served) {
    const b = s.config.budget;
    const planned = plan[role];
    if (!b || !planned) continue;
    const over = [
      b.requests !== undefined && planned.requests > b.requests ? `${b.requests} requests` : undefined,
      b.tokens !== undefined && planned.tokens > b.tokens ? `${b.tokens} tokens` : undefined,
    ].filter((x): x is string => x !== undefined);
    if (over.length === 0) continue;
    throw new InputError(
      `this run would send models.${role} (${s.config.model}) ${planned.requests} requests (${planned.scoring} scoring, ${planned.generation} generation) and up to ${planned.tokens} tokens, over its budget of ${over.join(' and ')}; nothing was sent: raise models.${role}.budget, narrow the attacks or the data, or see the plan with --dry-run`,
      { ...(cfg.configPath ? { file: cfg.configPath } : {}), ...(cfg.origin?.lines[`models.${role}.budget`] !== undefined ? { line: cfg.origin.lines[`models.${role}.budget`] } : {}), field: `models.${role}.budget` },
    );
  }
}

/** `--dry-run`: what an audit would send each served model, without probing or sending anything. */
export async function planAudit(cfg: LoadedConfig, opts: Pick<RunOptions, 'log'> = {}): Promise<RequestPlan> {
  const p = await prepare(cfg, { workers: 1, cacheDir: undefined, reveal: true, ...opts }, false);
  return planRequests(cfg, p, diskCache(undefined));
}

/** Everything an audit knows before it queries a model: splits, models and what each can do. */
interface Prepared {
  dpClaim?: ResolvedDpClaim;
  started: number;
  timings: Record<string, number>;
  log: (line: string) => void;
  splits: Splits;
  inputs: InputFile[];
  specs: Map<string, ModelSpec>;
  served: Map<ModelRole, ServedModel>;
  models: ModelUnderTest[];
  reference: ModelUnderTest | undefined;
  shadow: (() => Promise<ShadowSetup>) | undefined;
  auditSplits: AuditSplits;
  notApplicable: (id: string) => string | undefined;
  /** LoRA roles whose merged model was verified against base + adapter (src/claims/lora). */
  lora: Map<ModelRole, LoraProvenance>;
}

/**
 * Loads the data and opens every model. Served models are probed (`probe`), or, for a dry run that
 * must send nothing, assumed to score and generate (src/models/served.ts, assumedServedModel).
 */
async function prepare(cfg: LoadedConfig, opts: RunOptions, probe: boolean): Promise<Prepared> {
  // A DP claim's files are read (and its canaries scheduled for scoring) before any model work.
  const dpClaim = await prepareDpClaim(cfg);
  const started = Date.now();
  const timings: Record<string, number> = {};
  const log = opts.log ?? (() => {});
  if (cfg.device !== 'cpu') {
    const why = await deviceProblem(cfg.device);
    if (why) {
      throw new InputError(
        `device: ${cfg.device} needs onnxruntime-node's CUDA execution provider, which does not load on this machine (${why}); install onnxruntime-node with its CUDA files (ONNXRUNTIME_NODE_INSTALL_CUDA=v12 at npm install, CUDA 12 and cuDNN 9 on the machine), or use device: cpu`,
        { ...(cfg.configPath ? { file: cfg.configPath } : {}), ...(cfg.origin?.lines.device !== undefined ? { line: cfg.origin.lines.device } : {}), field: 'device' },
      );
    }
    log(`device: ${cfg.device} (onnxruntime-node's CUDA execution provider loaded); tfjs models stay on the CPU`);
  }
  const t0 = Date.now();
  const splits = await buildSplits(cfg.data, cfg.seed);
  timings.load = Date.now() - t0;

  const baseDir = cfg.configPath ? path.dirname(cfg.configPath) : process.cwd();
  const inputs: InputFile[] = cfg.inputs.map((i) => ({ role: i.role, path: path.relative(baseDir, i.path).split(path.sep).join('/'), sha256: i.sha256 }));

  // A LoRA role runs its merged model only once merged = base + (alpha/r)·B·A is shown; else exit 2.
  const lora = new Map<ModelRole, LoraProvenance>();
  for (const role of TARGET_ROLES) {
    const spec = cfg.models[role]?.lora;
    if (!spec) continue;
    const p = await verifyLora(spec, { field: `models.${role}` });
    lora.set(role, p);
    const worst = Math.max(...p.modules.map((m) => m.maxAbsError));
    log(`models.${role}: LoRA r=${p.rank}, alpha=${p.alpha} on ${p.modules.length} weights (${p.adapterParameters} parameters): merged = base + adapter (max error ${worst.toExponential(1)}), ${p.otherWeights.count} other weights unchanged`);
  }
  // A model role is a causal LM (hf: folder) or a classifier (onnx:, tfjs:); one audit attacks one
  // kind. Its cache identity is the hash of its files.
  const specs = new Map<string, ModelSpec>();
  const kindOf = (role: ModelRole) => (cfg.models[role]?.kind === 'hf' || cfg.models[role]?.kind === 'openai' ? 'lm' : 'classifier');
  // Served models are probed first (a few small requests each): what each endpoint can do decides
  // which attacks run, and its context limits the budgets like a local model's config does.
  const served = new Map<ModelRole, ServedModel>();
  const where = (role: ModelRole) => ({ ...(cfg.configPath ? { file: cfg.configPath } : {}), field: `models.${role}` });
  // Every model file is opened here, in the main thread, before the pool starts: a broken folder or
  // file is exit 2 naming it, and each causal LM's context is known for the budget checks.
  const lmInfo = new Map<string, Promise<CausalLMInfo>>();
  const budgetModels: BudgetModel[] = [];
  for (const role of [...TARGET_ROLES, 'reference'] as ModelRole[]) {
    const ref = cfg.models[role];
    if (ref?.kind === 'hf') {
      let info = lmInfo.get(ref.path);
      if (!info) lmInfo.set(ref.path, (info = validateCausalLM(ref.path, `models.${role}`)));
      // The reference model's context limits only the records it scores (windowed, counted).
      if (role !== 'reference') budgetModels.push({ label: `models.${role}`, info: await info, tokenizer: await loadTokenizer(ref.path) });
    } else if (ref?.served) {
      const s = probe ? await openServedModel(ref.served, where(role), log) : await assumedServedModel(ref.served);
      served.set(role, s);
      const info: CausalLMInfo = {
        dir: ref.served.tokenizer,
        configFile: s.probe.servedModel.maxModelLen !== undefined && s.probe.servedModel.maxModelLen === s.probe.maxLength ? `${ref.served.baseURL}/models` : path.join(ref.served.tokenizer, 'config.json'),
        context: s.probe.maxLength,
        contextField: s.probe.servedModel.maxModelLen === s.probe.maxLength ? 'max_model_len' : 'n_positions',
        vocabSize: 0,
        layers: 0,
      };
      if (role !== 'reference') budgetModels.push({ label: `models.${role}`, info, tokenizer: s.tokenizer });
    } else if (ref?.tokenizer) await validateTextTokenizer(ref.tokenizer);
  }
  checkBudgets(cfg.attacks, budgetModels, cfg.origin ?? { lines: {} });
  // What validation found of each causal LM (the reference model's too): its scoring path.
  const lmChecked = new Map(await Promise.all([...lmInfo].map(async ([dir, info]) => [dir, await info] as const)));
  for (const [dir, info] of lmChecked)
    if (info.scoring === 'js') log(`${path.relative(baseDir, dir) || dir}: scored in JavaScript (the whole logits tensor per batch, slower on large vocabularies): ${info.scoringNote ?? 'the runtime reduction is not available'}`);
  // A classifier takes feature vectors (tabular: shadows can be trained like it) or token ids (text).
  const classifierInputs = new Map<ModelRole, ClassifierInput>();
  for (const role of [...TARGET_ROLES, 'reference'] as ModelRole[]) {
    const ref = cfg.models[role];
    if (!ref || ref.kind === 'hf' || ref.kind === 'openai') continue;
    // Loaded once here (not only in the workers) so a broken file or a width mismatch is exit 2 up front.
    // A SISA ensemble is loaded whole: its constituents must agree on their input (exit 2 otherwise).
    if (ref.sisa && ref.kind === 'onnx' && (await onnxClassifierInput(ref.sisa.members[0]!.path)).input === 'tokens') {
      throw new InputError(`the constituents of this SISA ensemble are text classifiers (they take input_ids); SISA ensembles of feature-vector classifiers (tfjs: or onnx:) are supported, text ones not yet`, where(role));
    }
    const { input, dim } = ref.sisa
      ? await loadClassifier(ensembleSpec(ref.sisa, false))
      : ref.kind === 'tfjs'
        ? { input: 'features' as const, dim: (await loadClassifier({ kind: 'tfjs', path: ref.path, outputs: 'auto' })).dim }
        : await onnxClassifierInput(ref.path);
    if (input === 'tokens' && !ref.tokenizer) {
      throw new InputError(`${ref.raw} is a text classifier (it takes input_ids): give its tokenizer, models.${role}: { ref: "${ref.raw}", tokenizer: <tokenizer.json> }`, where(role));
    }
    const sample = splits.forget[0];
    if (input === 'features' && dim !== undefined && sample?.features !== undefined && sample.features.length !== dim) {
      throw new InputError(
        `${ref.raw} takes ${dim} features per record, but the records have ${sample.features.length} (e.g. forget record "${sample.id}", ${describeSource(sample)})`,
        where(role),
      );
    }
    classifierInputs.set(role, input);
  }
  const load = (role: ModelRole): ModelUnderTest | undefined => {
    const ref = cfg.models[role];
    if (!ref) return undefined;
    const describe = (r: ModelRole) => (kindOf(r) === 'lm' ? 'causal LM' : classifierInputs.get(r) === 'tokens' ? 'text classifier' : 'feature-vector classifier');
    if (describe(role) !== describe('before')) {
      throw new InputError(
        `model ref "${ref.raw}" is a ${describe(role)} but models.before ("${cfg.models.before!.raw}") is a ${describe('before')}; every model of an audit must be the same kind`,
        where(role),
      );
    }
    const files = cfg.inputs.filter((i) => i.role === `model:${role}`).map((i) => i.sha256);
    const srv = served.get(role);
    if (srv) {
      // A served model's identity: its name, its tokenizer files, how it is queried, and what its
      // weights answer to the probe (a redeployment under the same name gets a new identity, so no
      // stale cache hits). Not its URL: the same deployment behind another address is the same model.
      const capabilities: Capability[] = [...(srv.probe.scoring ? (['tokenLogprobs'] as const) : []), ...(srv.probe.generation ? (['generate', 'sample'] as const) : [])];
      const identity = ['served/v1', ref.served!.model, srv.probe.scoring ?? '-', srv.probe.generation ?? '-', ...files, srv.probe.fingerprint];
      return { role, sha256: sha256(identity.join('\n')), capabilities: new Set(capabilities), ...(srv.probe.generation ? { generation: srv.probe.generation === 'chat' ? 'chat' : 'completions' } : {}) };
    }
    if (ref.kind === 'openai') throw new Error(`served model ${role} was not opened`);
    // On CUDA (ONNX models only; tfjs stays on its wasm backend) the numbers are the GPU's: part of
    // the model's identity, so no CPU result is served from the cache for them, nor the reverse.
    const cuda = cfg.device === 'cuda' && ref.kind !== 'tfjs';
    // Where scoring reduces the logits is part of the identity too (the runtime and the JavaScript
    // reductions agree to float32 rounding, not bit for bit); the JavaScript path keeps the old one.
    const scoring = ref.kind === 'hf' ? (lmChecked.get(ref.path)?.scoring ?? 'js') : 'js';
    specs.set(
      role,
      ref.kind === 'hf'
        ? { kind: 'hf', path: ref.path, ...(cuda ? { device: 'cuda' as const } : {}), ...(scoring === 'runtime' ? { scoring } : {}), ...(opts.threads && opts.threads > 1 ? { threads: opts.threads } : {}) }
        : ref.sisa
          ? ensembleSpec(ref.sisa, cuda)
          : { kind: ref.kind, path: ref.path, outputs: ref.outputs ?? 'auto', ...(ref.tokenizer ? { tokenizer: ref.tokenizer } : {}), ...(cuda ? { device: 'cuda' as const } : {}) },
    );
    const capabilities: Capability[] =
      ref.kind === 'hf' ? HF_CAPABILITIES : classifierInputs.get(role) === 'features' ? [...CLASSIFIER_CAPABILITIES, 'featureVectors'] : CLASSIFIER_CAPABILITIES;
    return { role, sha256: sha256([...files, ...(cuda ? ['device:cuda'] : []), ...scoringIdentity(scoring)].join('\n')), capabilities: new Set(capabilities) };
  };
  const models = TARGET_ROLES.map(load).filter((m): m is ModelUnderTest => m !== undefined);
  const reference = load('reference');
  const input = classifierInputs.get('before');
  const shadow = input ? shadowSetup(cfg, splits, models[0]!, input) : undefined;

  const auditSplits: AuditSplits = {
    forget: splits.forget,
    retain: splits.retain,
    holdout: splits.holdout,
    ...(splits.population ? { population: splits.population } : {}),
  };
  // Why an attack cannot run on these models and data (undefined: it can).
  const notApplicable = (id: string): string | undefined => {
    const attack = getAttack(id)!;
    const missing = missingCapabilities(attack.meta.requires, models);
    if (missing.length > 0) return `needs ${missing.map((c) => CAPABILITY_HELP[c] ?? c).join(', ')}`;
    if (attack.meta.needsPopulation && !splits.population) return 'needs data.population (auxiliary records from the same distribution, never trained on by the target)';
    if (attack.meta.needsReference && !reference) return 'needs a reference model (models.reference: the base model before fine-tuning)';
    return undefined;
  };
  // An audit in which nothing can run would report only not-applicable gates: that is a config
  // mistake (e.g. only pii-extraction on a classifier), not a result.
  const configured = Object.keys(cfg.attacks);
  if (configured.length > 0 && configured.every((id) => notApplicable(id) !== undefined)) {
    const kind = kindOf('before') === 'lm' ? 'a causal LM (hf:)' : classifierInputs.get('before') === 'tokens' ? 'a text classifier (onnx: with a tokenizer)' : `a feature-vector classifier (${cfg.models.before!.kind}:)`;
    const first = configured[0]!;
    throw new InputError(
      `no configured attack can run: models.before is ${kind}, and ${configured.map((id) => `${id} ${notApplicable(id)}`).join('; ')}`,
      { ...(cfg.configPath ? { file: cfg.configPath } : {}), ...(cfg.origin?.lines[`attacks.${first}`] !== undefined ? { line: cfg.origin.lines[`attacks.${first}`] } : {}), field: `attacks.${first}` },
    );
  }
  return { started, timings, log, splits, inputs, specs, served, models, reference, shadow, auditSplits, notApplicable, lora, ...(dpClaim ? { dpClaim } : {}) };
}

export async function runAudit(cfg: LoadedConfig, opts: RunOptions): Promise<{ result: AuditResult; run: RunInfo; cacheManifest: string; sidecars: SidecarFile[] }> {
  if (!opts.reveal && !opts.pseudonymKey) throw new Error('runAudit: a pseudonym key is required unless reveal is set');
  const { started, timings, log, splits, inputs, specs, served, models, reference, shadow, auditSplits, notApplicable, lora, dpClaim } = await prepare(cfg, opts, true);
  // Extraction hits of a LoRA audit are attributed against its frozen base, when the base is the reference.
  const loraBase = loraBaseOf(cfg, reference);
  // A budget on a served model is checked against what this run would send (after the cache) before
  // any audit request goes out.
  if ([...served.values()].some((s) => s.config.budget)) {
    const plan = await planRequests(cfg, { served, specs, models, reference, auditSplits, notApplicable }, diskCache(opts.cacheDir, { warn: log }));
    checkServedBudgets(plan, served, cfg);
  }
  const shards = opts.merge ? await checkShards(cfg, opts.cacheDir, log) : undefined;
  const signal = opts.signal;
  signal?.throwIfAborted();
  const pool = createPool(opts.workers, signal);
  // Every cache entry used is recorded, so the report names what it rests on (src/evidence.ts).
  const recorded = recordingCache(diskCache(opts.cacheDir, { warn: log }));
  const cache = recorded.cache;
  const signals = createSignals({
    pool,
    cache,
    specs,
    served,
    seed: cfg.seed,
    // A finished batch is reported (and cached) before the abort is checked, so no work is lost.
    progress: signal
      ? (e) => {
          opts.progress?.(e);
          signal.throwIfAborted();
        }
      : opts.progress,
    ...(shards ? { merge: true, mergeCount: shards } : {}),
    ...(shadow ? { shadow } : {}),
  });
  const bootstrap = opts.bootstrap ?? 1000;
  // The bootstrap's cluster draws depend on the people, not the scores: one set for every attack
  // and model (src/metrics/bootstrap.ts), let go when no membership attack is left.
  const draws = new DrawMemo();

  const attacks: AuditResult['attacks'] = [];
  const findings: Finding[] = [];
  const extraction: ExtractionSummary[] = [];
  const comparisons: Comparison[] = [];
  const exposure: ExposureSummary[] = [];
  const membershipObs = new Map<string, MembershipObservation[]>();
  const extractionObs = new Map<string, ExtractionObservation[]>();
  // Which attacks ask for per-token signals: once the last of them has run, the memo is let go.
  const configured = Object.keys(cfg.attacks);
  const usesTokenSignals = (id: string) => notApplicable(id) === undefined && getAttack(id)!.meta.requires.flat().some((c) => c === 'tokenLogprobs' || c === 'tokenStats');
  try {
    for (const [index, [id, options]] of Object.entries(cfg.attacks).entries()) {
      signal?.throwIfAborted();
      if (!configured.slice(index).some(usesTokenSignals) && signals.releaseTokenSignals()) {
        // The per-token signals were the audit's largest data (~1.4 KB a scored record): collected
        // now rather than whenever V8 next runs a full collection, which at 100k records came after
        // the next attack had grown the heap on top of them (--expose-gc: see the supervisor).
        (globalThis as { gc?: () => void }).gc?.();
      }
      if (!configured.slice(index).some((a) => notApplicable(a) === undefined && getAttack(a)!.meta.family === 'membership')) draws.clear();
      const attack = getAttack(id)!;
      const base = { id, family: attack.meta.family, title: attack.meta.title, options, reference: attack.meta.reference };
      const reason = notApplicable(id);
      if (reason !== undefined) {
        attacks.push({ ...base, status: 'not-applicable', reason });
        continue;
      }
      const ta = Date.now();
      const truncatedBefore = new Map(signals.truncated);
      log(`${id}: collecting on ${models.map((m) => m.role).join(', ')}`);
      signals.setAttack(id);
      try {
        const observations = await observe(attack, { options, seed: cfg.seed, splits: auditSplits, models, ...(reference ? { reference } : {}), signals });
        const stats = { seed: cfg.seed, iterations: bootstrap, draws, ...(dpClaim ? { delta: dpClaim.delta } : {}) };
        const mem = observations.filter((o): o is MembershipObservation => o.family === 'membership');
        let ext = observations.filter((o): o is ExtractionObservation => o.family === 'extraction');
        if (loraBase && ext.length > 0) {
          // The same prompts on the base: what it also emits is not a leak of the fine-tuning data.
          log(`${id}: the same prompts on the base model (${cfg.models.reference!.raw}), to attribute hits to the adapter`);
          const baseEvidence = await attack.collect({ options, seed: cfg.seed, splits: auditSplits, models: [loraBase], reference: loraBase, signals });
          const onBase = attack.evaluate(baseEvidence, { options, seed: cfg.seed, splits: auditSplits }).find((o): o is ExtractionObservation => o.family === 'extraction');
          if (onBase) ext = ext.map((o) => attributeToAdapter(o, onBase));
        }
        const exp = observations.filter((o): o is ExposureObservation => o.family === 'exposure');
        if (mem.length > 0) {
          membershipObs.set(id, mem);
          findings.push(...membershipFindings(id, mem, stats), ...subjectFindings(id, mem, stats));
          comparisons.push(...membershipComparisons(id, mem));
        }
        if (ext.length > 0) {
          extractionObs.set(id, ext);
          extraction.push(...extractionSummaries(id, ext));
          comparisons.push(...extractionComparisons(id, ext, stats));
        }
        if (exp.length > 0) exposure.push(...exposureSummaries(id, exp));
        const warnings = mem.flatMap((o) => o.warnings ?? []);
        for (const w of warnings) log(`${id}: warning: ${w}`);
        // Records or prompts longer than a model's context, windowed (budgets.ts): counted, never silent.
        const truncated: Record<string, number> = {};
        for (const [role, n] of signals.truncated) if (n > (truncatedBefore.get(role) ?? 0)) truncated[role] = n - (truncatedBefore.get(role) ?? 0);
        for (const [role, n] of Object.entries(truncated)) log(`${id}: ${n} record(s) or prompt(s) longer than the context of ${role} were cut to its window`);
        attacks.push({ ...base, status: 'ok', ...(warnings.length > 0 ? { warnings } : {}), ...(Object.keys(truncated).length > 0 ? { truncated } : {}) });
      } catch (e) {
        // A user's mistake found while attacking (e.g. a label the model cannot output) is exit 2.
        // A dead worker (crash, out of memory) stops the audit: exit 3, finished batches cached.
        if (isInputError(e) || isWorkerDied(e) || isServedUnavailable(e)) throw e;
        if (signal?.aborted) throw signal.reason;
        // One broken attack must not hide the others' evidence; its gates become inconclusive.
        attacks.push({ ...base, status: 'error', reason: e instanceof Error ? e.message : String(e) });
        log(`${id}: error: ${e instanceof Error ? e.message : String(e)}`);
      }
      timings[`attack:${id}`] = Date.now() - ta;
    }
  } finally {
    await pool.close();
  }
  if (cache.rejected > 0) {
    // Never silently: a bad entry is evidence that someone or something changed the cache.
    log(`${cache.rejected} cache ${cache.rejected === 1 ? 'entry' : 'entries'} failed verification and ${cache.rejected === 1 ? 'was' : 'were'} recomputed:`);
    for (const r of cache.rejections.slice(0, 5)) log(`  ${r.key.slice(0, 12)}…: ${r.reason}`);
    if (cache.rejected > 5) log(`  … and ${cache.rejected - 5} more (privacy-audit cache verify lists them)`);
  }

  // Without --reveal, no output names a deleted person or holds a PII value: subjects get keyed
  // pseudonyms, and every echoed text (config, paths, error messages) is redacted the same way.
  const redact = opts.reveal
    ? undefined
    : redaction(
        opts.pseudonymKey!,
        splits.forget.map((r) => r.subject ?? r.id),
        [...splits.members, ...splits.holdout, ...(splits.population ?? [])].flatMap((r) => (r.pii ?? []).map((p) => p.value)),
        maskValue,
      );
  if (redact) for (const a of attacks) if (a.reason) a.reason = redact.text(a.reason);
  const gateModel = models.some((m) => m.role === 'after') ? 'after' : 'before';
  const statuses: AttackStatus[] = attacks.map(({ id, family, status, reason }) => ({ id, family, status, ...(reason ? { reason } : {}) }));
  const adapterDropped = droppedAdapter(cfg);
  const resultModels = [...models, ...(reference ? [reference] : [])].map((m) => {
    const ref = cfg.models[m.role]!;
    const s = served.get(m.role);
    const l = lora.get(m.role);
    const spec = specs.get(m.role);
    return {
      role: m.role,
      ref: redact ? redact.text(ref.raw) : ref.raw,
      ...(s && ref.served ? { served: servedInfo(s) } : {}),
      ...(spec?.kind === 'hf' ? { scoring: spec.scoring ?? ('js' as const) } : {}),
      ...(l ? { lora: l } : {}),
      ...(m.role === 'after' && adapterDropped ? { adapterDropped } : {}),
    };
  });
  const gates = defaultGates({ gateModel, attacks: statuses, findings, extraction, comparisons, models: resultModels }, cfg.assert);
  // A DP claim is about the model as trained (before): its gates join the others (src/claims/dp).
  let dp: DpClaimSummary | undefined;
  if (dpClaim) {
    const exp = exposure.find((e) => e.attack === 'canary-exposure' && e.model === 'before');
    const checked = checkDpClaim(dpClaim, {
      findings,
      seed: cfg.seed,
      model: 'before',
      ...(exp && dpClaim.canaries
        ? { canaryScores: { model: 'before', scores: [...exp.canaries].sort((a, b) => a.index - b.index).map((c) => c.exposure), scoring: `canary exposure: rank of each canary's secret among ${dpClaim.canaries.candidates} random secrets of its shape (Secret Sharer)` } }
        : {}),
    });
    dp = checked.summary;
    gates.push(...checked.gates);
  }
  // A SISA ensemble's training manifest(s), checked structurally: pure hashing, no model queries (src/claims/sisa).
  const configDir = cfg.configPath ? path.dirname(cfg.configPath) : process.cwd();
  const checkedSisa = sisaClaim(cfg, splits, {
    alias: redact ? redact.alias : (x) => x,
    record: redact ? redact.record : (x) => x,
    path: (p) => {
      const rel = path.relative(configDir, p).split(path.sep).join('/');
      return redact ? redact.text(rel) : rel;
    },
  });
  // Every string of it redacted too (a request reference or a model path may name a deleted person),
  // before the gates are made from it: verify re-derives them from what result.json holds.
  const sisa = checkedSisa && redact ? (mapStrings(checkedSisa, redact.text) as typeof checkedSisa) : checkedSisa;
  if (sisa) gates.push(...sisaGates(sisa));

  const used = recorded.used();
  const cacheManifest = renderCacheManifest(used);
  // The per-record scores and the whole per-subject table go to sidecars; result.json keeps aggregates
  // and the people that matter (src/sidecars.ts).
  const allSubjects = subjectVerdicts(splits.forget, extractionObs, membershipObs, redact ? redact.alias : (s) => s, opts.reveal ? (v) => v : maskValue);
  const listed = allSubjects.filter(mattersInReport);
  const roles = [...models, ...(reference ? [reference] : [])].map((m) => m.role);
  const sidecars = [
    ...(membershipObs.size > 0 ? [scoresSidecar(membershipObs, redact ? { record: redact.record, subject: redact.alias } : { record: (id) => id, subject: (s) => s })] : []),
    subjectsSidecar(allSubjects, roles),
  ];
  const result: AuditResult = {
    schemaVersion: SCHEMA_VERSION,
    tool: { ...TOOL },
    kind: 'run',
    ...(opts.reveal ? { revealed: true } : {}),
    verdict: verdictOf(gates),
    seed: cfg.seed,
    gateModel,
    inputs: redact ? inputs.map((i) => ({ ...i, path: redact.text(i.path) })) : inputs,
    evidence: { cache: cacheEvidence(cacheManifest, used.size) },
    data: {
      members: count(splits.members),
      forget: count(splits.forget),
      retain: count(splits.retain),
      holdout: count(splits.holdout),
    },
    models: resultModels,
    attacks,
    findings,
    extraction,
    comparisons,
    exposure,
    subjects: listed,
    subjectsNotListed: allSubjects.length - listed.length,
    sidecars: sidecars.map((s) => s.ref),
    gates,
    ...(dp || sisa ? { claims: { ...(dp ? { dp } : {}), ...(sisa ? { sisa } : {}) } } : {}),
    ...(cache.rejected > 0 ? { cacheRejected: cache.rejected } : {}),
    config: redact ? redact.config(cfg.raw) : cfg.raw,
  };
  const run: RunInfo = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    workers: opts.workers,
    ...(opts.threads && opts.threads > 1 ? { threads: opts.threads } : {}),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} × ${os.availableParallelism()}`,
    dependencies: dependencyVersions(),
    argv: redact ? (opts.argv ?? []).map(redact.text) : (opts.argv ?? []),
    cache: { hits: cache.hits, misses: cache.misses, rejected: cache.rejected },
    tokensScored: signals.tokensScored,
    ...(served.size > 0
      ? {
          served: Object.fromEntries(
            [...served].map(([role, s]) => [role, { ...s.stats, repeated: signals.repeatChecks.get(role) ?? { requests: 0, maxAbsDiff: 0 } }]),
          ),
        }
      : {}),
    shadowsTrained: signals.shadowsTrained,
    timings,
  };
  return { result, run, cacheManifest, sidecars };
}

/**
 * The shadow bank's setup for a classifier audit: the pool (population ∪ audited records, all with
 * features and labels), and the architecture the attacker assumes: `shadow.layers` from config, else
 * a tfjs: target's own topology (re-initialised per shadow), else an MLP [256, 128].
 */
function shadowSetup(cfg: LoadedConfig, splits: Splits, classesFrom: ModelUnderTest, input: ClassifierInput): () => Promise<ShadowSetup> {
  const before = cfg.models.before!;
  const names = { features: cfg.data.fields.features, label: cfg.data.fields.label };
  // Checked now, for every record of every file (not only the audited sample): a broken record is
  // a broken dataset, whatever attacks run.
  const every = [...splits.members, ...splits.holdout, ...(splits.population ?? [])];
  if (input === 'tokens') {
    const unlabelled = every.find((r) => r.label === undefined);
    if (unlabelled) throw new InputError(`record "${unlabelled.id}" has no label: classifier attacks need the record's true class index (field "${names.label}")`, whereOf(unlabelled, names.label));
  } else checkClassifierRecords(every, names);

  // Built when an attack first asks for shadows.
  return async () => {
    let parts: { population?: DataRecord[]; forget: DataRecord[]; retain: DataRecord[]; holdout: DataRecord[] } = splits;
    if (input === 'tokens') {
      // A text classifier: shadows train on bag-of-tokens vectors made with the target's own tokenizer.
      const tok = await loadTextTokenizer(before.tokenizer!);
      const dim = Math.min(tok.vocabSize, BAG_OF_TOKENS_MAX_DIM);
      const bag = (r: DataRecord): DataRecord => {
        const copy: DataRecord = { ...r, features: bagOfTokens(tok.encode(r.text), dim) };
        const src = recordSource(r);
        if (src) setRecordSource(copy, src);
        return copy;
      };
      parts = { forget: splits.forget.map(bag), retain: splits.retain.map(bag), holdout: splits.holdout.map(bag), ...(splits.population ? { population: splits.population.map(bag) } : {}) };
    }
    const { pool, dim } = shadowPool(parts, names);
    let architecture: Architecture = { kind: 'mlp', layers: cfg.shadow.layers ?? [256, 128] };
    if (!cfg.shadow.layers && before.kind === 'tfjs') {
      // A SISA ensemble's shadows take its first constituent's topology (one model, not an ensemble).
      // Loaded here, not at the top: tfjs is for tfjs targets and shadow training only.
      const { readLayersModelArtifacts } = await import('../models/tfjs-io.ts');
      const artifacts = await readLayersModelArtifacts(before.sisa ? before.sisa.members[0]!.path : before.path);
      architecture = { kind: 'topology', topology: artifacts.modelTopology };
    }
    const { epochs, batchSize, learningRate } = cfg.shadow;
    return { pool, dim, classesFrom, spec: { architecture, training: { epochs, batchSize, learningRate }, seed: cfg.seed } };
  };
}

/**
 * `after` is the frozen base of a LoRA `before` when every file of its folder has the SHA-256 of the
 * same file of the base folder (both hashed at load): the adapter was dropped.
 */
function droppedAdapter(cfg: LoadedConfig): AdapterDropped | undefined {
  const l = cfg.models.before?.lora;
  const after = cfg.models.after;
  if (!l || !after || after.kind !== 'hf' || after.lora) return undefined;
  const under = (role: string, dir: string) =>
    new Map(cfg.inputs.filter((i) => i.role === role && i.path.startsWith(dir + path.sep)).map((i) => [path.relative(dir, i.path), i.sha256]));
  const base = under('model:before', l.base);
  const mine = under('model:after', after.path);
  if (base.size === 0 || base.size !== mine.size || [...base].some(([f, h]) => mine.get(f) !== h)) return undefined;
  return { base: l.raw.base, files: base.size };
}

/**
 * An attack's collect and evaluate stages. A function of its own so the evidence (for an LM attack,
 * every record's per-token signals) goes with its frame: held in a variable of the audit's loop, it
 * stayed reachable from the suspended async function while the next attacks ran, so letting go of
 * the signals' memo freed nothing (100k records: 144 MB held through pii-extraction to the end).
 */
async function observe<O, E>(attack: Attack<O, E>, ctx: CollectContext<O>): Promise<Observation[]> {
  const evidence = await attack.collect(ctx);
  return attack.evaluate(evidence, { options: ctx.options, seed: ctx.seed, splits: ctx.splits });
}

function count(records: DataRecord[]): { records: number; subjects: number } {
  return { records: records.length, subjects: new Set(records.map((r) => r.subject ?? r.id)).size };
}

/**
 * Deletion is per person: for each forget subject, which extraction attacks still get something of
 * them out, and which membership attacks flag them (their mean record score above the 95th
 * percentile of holdout subjects' mean scores: by construction about 5% of people the model never
 * saw are flagged too, which the report says).
 */
function subjectVerdicts(
  forget: DataRecord[],
  extraction: Map<string, ExtractionObservation[]>,
  membership: Map<string, MembershipObservation[]>,
  alias: (subject: string) => string,
  mask: (value: string) => string,
): SubjectVerdict[] {
  const bySubject = new Map<string, number>();
  for (const r of forget) bySubject.set(r.subject ?? r.id, (bySubject.get(r.subject ?? r.id) ?? 0) + 1);
  const flagged = new Map<string, Record<string, string[]>>();
  for (const [attack, list] of membership) {
    for (const o of list) {
      const f = o.splits.forget;
      const h = o.splits.holdout;
      if (!f || !h) continue;
      const hs = subjectMeans(h);
      const cut = quantileOf([...hs.values()], 0.95);
      for (const [subject, score] of subjectMeans(f)) {
        const entry = flagged.get(subject) ?? {};
        entry[o.model] ??= [];
        if (score > cut) entry[o.model]!.push(attack);
        flagged.set(subject, entry);
      }
    }
  }
  // Each observation's forget hits grouped by person once (not filtered again for every person).
  const hitsOf = new Map<ExtractionObservation, Map<string, ExtractionObservation['trials']>>();
  for (const list of extraction.values()) {
    for (const o of list) {
      const by = new Map<string, ExtractionObservation['trials']>();
      for (const t of o.trials) {
        if (t.split !== 'forget' || !t.hit) continue;
        const key = t.subject ?? t.recordId;
        let g = by.get(key);
        if (!g) by.set(key, (g = []));
        g.push(t);
      }
      hitsOf.set(o, by);
    }
  }
  const out = [...bySubject].map(([subject, records]) => {
    const leakedBy: Record<string, string[]> = {};
    const emitted: Record<string, { type: string; value: string }[]> = {};
    for (const [attack, list] of extraction) {
      for (const o of list) {
        const hits = hitsOf.get(o)!.get(subject) ?? [];
        leakedBy[o.model] ??= [];
        if (hits.length > 0) leakedBy[o.model]!.push(attack);
        for (const t of hits) {
          if (t.emitted === undefined) continue;
          const list2 = (emitted[o.model] ??= []);
          const v = { type: t.target, value: mask(t.emitted) };
          if (!list2.some((x) => x.type === v.type && x.value === v.value)) list2.push(v);
        }
      }
    }
    return { subject: alias(subject), records, leakedBy, flaggedBy: flagged.get(subject) ?? {}, emitted };
  });
  // Sorted by pseudonym so the list order reveals nothing about the input order.
  return out.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));
}

function quantileOf(xs: number[], q: number): number {
  return quantile(Float64Array.from(xs).sort(), q);
}
