/**
 * A LoRA adapter's provenance: does the merged model the audit runs really come from this base and
 * this adapter? (shared/research/sisa-lora.md B.2, B.5.)
 *
 * PEFT (Hu et al., "LoRA", arXiv 2106.09685 §4.1; PEFT `tuners/lora/layer.py`, `get_delta_weight`):
 * an adapted linear layer with frozen weight W [out, in] becomes W' = W + s·B·A, with A [r, in],
 * B [out, r] and s = lora_alpha / r (lora_alpha / √r with `use_rslora`, Kalajdzievski arXiv
 * 2312.03732), r and alpha overridden per module by `rank_pattern` / `alpha_pattern`. The check reads
 * the adapter's safetensors and the base's and merged model's ONNX initializers, and requires, within
 * tolerance, merged − base = s·B·A on every adapted weight and merged = base everywhere else. Any
 * mismatch is an InputError (exit 2): auditing a merged model that is not this adapter on this base
 * would be a verdict about something else.
 *
 * Mapping of PEFT names to ONNX initializers (module path m = the tensor name without the leading
 * `base_model.model.` and the trailing `.lora_A[.<adapter name>].weight`):
 *   1. an initializer named `m.weight`, or `<prefix>.m.weight` (optimum's and torch's exports keep
 *      parameter names: `transformer.h.0.attn.c_attn.weight`, `model.layers.0.self_attn.q_proj.weight`);
 *   2. else (torch.onnx constant-folds the transpose of an nn.Linear weight into an unnamed
 *      `onnx::MatMul_N`) the weight input of the one MatMul/Gemm node whose scope name,
 *      `/…/m-with-slashes/MatMul`, read with dots, is m or ends with `.m`.
 * The layout of the found initializer follows from the node that consumes it: the B input of a
 * MatMul is [in, out]; a Gemm's is [out, in] when transB = 1; a weight that is transposed first is
 * [out, in]. None or several candidates is an error naming the adapter tensor.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError, type Where } from '../../errors.ts';
import { readJsonObject } from '../../models/validate.ts';
import { readSafetensors, type Tensor } from './safetensors.ts';
import { initializerValues, readOnnxWeights, type OnnxInitializer, type OnnxWeights } from './onnx-weights.ts';

/** merged − base may differ from s·B·A by this much (absolute) plus this much times |merged|: float32 rounding of W + ΔW. */
export const LORA_ATOL = 1e-5;
export const LORA_RTOL = 1e-5;

export interface LoraSpec {
  /** Absolute folders. */
  base: string;
  adapter: string;
  merged: string;
  /** As written in the config (for messages and the report). */
  raw: { base: string; adapter: string; merged: string };
}

export interface LoraModuleCheck {
  module: string;
  initializer: string;
  /** [out, in] of the adapted weight. */
  shape: [number, number];
  rank: number;
  scaling: number;
  /** ‖s·B·A‖_F: 0 would be a no-op adapter. */
  deltaNorm: number;
  /** max |merged − base − s·B·A| over the weight. */
  maxAbsError: number;
}

/** What result.json says of a LoRA model role (no absolute paths: the refs as written). */
export interface LoraProvenance {
  base: string;
  adapter: string;
  merged: string;
  baseModelNameOrPath?: string;
  taskType?: string;
  rank: number;
  alpha: number;
  rslora: boolean;
  targetModules: string[] | string;
  adapterBytes: number;
  adapterParameters: number;
  modules: LoraModuleCheck[];
  /** Initializers outside the adapted layers: how many, and the largest |merged − base| among them (0: untouched). */
  otherWeights: { count: number; maxAbsDiff: number };
  tolerance: { atol: number; rtol: number };
}

const TENSOR = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/;

type Json = Record<string, unknown>;

/** PEFT's pattern lookup (`get_pattern_key`): a key matches a module when the path ends with it at a dot boundary. */
function patternValue(patterns: unknown, module: string): number | undefined {
  if (typeof patterns !== 'object' || patterns === null) return undefined;
  for (const [key, value] of Object.entries(patterns as Json)) {
    if (typeof value !== 'number') continue;
    try {
      if (new RegExp(`(^|\\.)${key}$`).test(module)) return value;
    } catch {
      if (module === key || module.endsWith(`.${key}`)) return value;
    }
  }
  return undefined;
}

/** PEFT's `check_target_module_exists`: a list matches by name or `.name` suffix, a string is a full regex match. */
function isTarget(targets: string[] | string, module: string): boolean {
  if (typeof targets === 'string') {
    if (targets === 'all-linear') return true;
    try {
      return new RegExp(`^(?:${targets})$`).test(module);
    } catch {
      return false;
    }
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** Where an adapted module's weight is in an ONNX graph, and how it is laid out. */
function locate(module: string, w: OnnxWeights, tensorName: string, where: Where): { name: string; layout: 'out-in' | 'in-out' } {
  const consumers = (name: string) => w.nodes.filter((n) => n.inputs.includes(name));
  const layoutOf = (name: string, fallback: 'out-in' | 'in-out'): 'out-in' | 'in-out' => {
    for (const n of consumers(name)) {
      if (n.opType === 'Transpose') return 'out-in';
      if (n.opType === 'MatMul' && n.inputs[1] === name) return 'in-out';
      if (n.opType === 'Gemm' && n.inputs[1] === name) return n.ints.transB === 1 ? 'out-in' : 'in-out';
    }
    return fallback;
  };
  const named = [...w.initializers.keys()].filter((n) => n === `${module}.weight` || n.endsWith(`.${module}.weight`));
  if (named.length === 1) return { name: named[0]!, layout: layoutOf(named[0]!, 'out-in') };
  if (named.length > 1) {
    throw new InputError(`adapter tensor "${tensorName}" (module ${module}) matches ${named.length} initializers of ${w.file} (${named.slice(0, 3).join(', ')}); cannot tell which weight it adapts`, where);
  }
  const scoped = w.nodes.filter((n) => {
    if ((n.opType !== 'MatMul' && n.opType !== 'Gemm') || !w.initializers.has(n.inputs[1] ?? '')) return false;
    const scope = n.name.replace(/^\//, '').split('/').slice(0, -1).join('.');
    return scope === module || scope.endsWith(`.${module}`);
  });
  if (scoped.length === 1) {
    const name = scoped[0]!.inputs[1]!;
    return { name, layout: layoutOf(name, 'in-out') };
  }
  throw new InputError(
    scoped.length === 0
      ? `adapter tensor "${tensorName}" adapts module ${module}, but ${w.file} has no initializer "${module}.weight" (or "<prefix>.${module}.weight") and no MatMul/Gemm node in scope ${module}: is this the model the adapter was trained on?`
      : `adapter tensor "${tensorName}" (module ${module}) matches ${scoped.length} MatMul/Gemm nodes of ${w.file}; cannot tell which weight it adapts`,
    where,
  );
}

const dimsText = (d: readonly number[]) => `[${d.join(', ')}]`;

/**
 * Checks that `merged` = `base` + the adapter, and describes the adapter. `where` names the config
 * field (models.<role>) in every error.
 */
export async function verifyLora(spec: LoraSpec, where: Where): Promise<LoraProvenance> {
  // Errors name the file and the config field of the part at fault (models.<role>.adapter / .merged).
  const at = (file: string, _detail?: string): Where => {
    const part = file.startsWith(spec.adapter + path.sep) ? 'adapter' : file.startsWith(spec.merged + path.sep) ? 'merged' : file.startsWith(spec.base + path.sep) ? 'base' : undefined;
    return { ...where, file, ...(where.field && part ? { field: `${where.field}.${part}` } : {}) };
  };
  const cfgFile = path.join(spec.adapter, 'adapter_config.json');
  const cfg = await readJsonObject(cfgFile, 'adapter_config.json');
  const peftType = cfg.peft_type ?? 'LORA';
  if (peftType !== 'LORA') throw new InputError(`adapter_config.json: peft_type is ${JSON.stringify(peftType)}; only LoRA adapters ("LORA") are supported`, at(cfgFile, 'peft_type'));
  if (cfg.use_dora === true) throw new InputError('adapter_config.json: use_dora is true: a DoRA adapter merges as m ⊙ (W + sBA)/‖W + sBA‖, not W + sBA; not supported', at(cfgFile, 'use_dora'));
  if (cfg.bias !== undefined && cfg.bias !== null && cfg.bias !== 'none') {
    throw new InputError(`adapter_config.json: bias is ${JSON.stringify(cfg.bias)}: an adapter that also trains biases is not supported (expected "none")`, at(cfgFile, 'bias'));
  }
  if (Array.isArray(cfg.modules_to_save) && cfg.modules_to_save.length > 0) {
    throw new InputError(`adapter_config.json: modules_to_save (${cfg.modules_to_save.join(', ')}) replaces whole modules; not supported (expected none)`, at(cfgFile, 'modules_to_save'));
  }
  const r = cfg.r;
  const alpha = cfg.lora_alpha;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new InputError(`adapter_config.json: r is ${JSON.stringify(r)}; expected a positive integer (the LoRA rank)`, at(cfgFile, 'r'));
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) throw new InputError(`adapter_config.json: lora_alpha is ${JSON.stringify(alpha)}; expected a positive number`, at(cfgFile, 'lora_alpha'));
  const rslora = cfg.use_rslora === true;
  const targets = cfg.target_modules;
  const targetModules: string[] | string =
    typeof targets === 'string' ? targets : Array.isArray(targets) && targets.every((t) => typeof t === 'string') ? (targets as string[]) : [];
  if (typeof targets !== 'string' && (!Array.isArray(targets) || targetModules.length === 0)) {
    throw new InputError(`adapter_config.json: target_modules is ${JSON.stringify(targets)}; expected a list of module names or a regex string`, at(cfgFile, 'target_modules'));
  }

  const weightsFile = path.join(spec.adapter, 'adapter_model.safetensors');
  const present = await readdir(spec.adapter).catch(() => [] as string[]);
  if (!present.includes('adapter_model.safetensors')) {
    throw new InputError(
      present.includes('adapter_model.bin')
        ? 'the adapter is adapter_model.bin (a Python pickle, which runs code when loaded): refused; save it with safe_serialization=True (adapter_model.safetensors)'
        : 'adapter_model.safetensors not found',
      at(weightsFile),
    );
  }
  const { tensors, bytes } = await readSafetensors(weightsFile);
  const pairs = new Map<string, { A?: Tensor; B?: Tensor }>();
  for (const t of tensors.values()) {
    const m = TENSOR.exec(t.name);
    if (!m) throw new InputError(`tensor "${t.name}" is not a LoRA A or B matrix (…lora_A.weight / …lora_B.weight); DoRA magnitudes, embeddings adapters and saved modules are not supported`, at(weightsFile, t.name));
    const entry = pairs.get(m[1]!) ?? {};
    entry[m[2] as 'A' | 'B'] = t;
    pairs.set(m[1]!, entry);
  }
  if (pairs.size === 0) throw new InputError('the adapter holds no LoRA tensors', at(weightsFile));

  const [baseW, mergedW] = await Promise.all([readOnnxWeights(path.join(spec.base, 'onnx', 'model.onnx')), readOnnxWeights(path.join(spec.merged, 'onnx', 'model.onnx'))]);
  // Same architecture, same export: the same initializers by name, shape and type.
  for (const [name, b] of baseW.initializers) {
    const m = mergedW.initializers.get(name);
    if (!m) throw new InputError(`the merged model has no initializer "${name}" of the base model: not the same architecture or export (export both the same way: README "Auditing a LoRA adapter")`, at(mergedW.file, name));
    if (dimsText(m.dims) !== dimsText(b.dims) || m.dataType !== b.dataType) {
      throw new InputError(`initializer "${name}" is ${dimsText(m.dims)} (type ${m.dataType}) in the merged model but ${dimsText(b.dims)} (type ${b.dataType}) in the base`, at(mergedW.file, name));
    }
  }
  for (const name of mergedW.initializers.keys()) {
    if (!baseW.initializers.has(name)) throw new InputError(`the merged model has an initializer "${name}" the base model lacks: not the same architecture or export`, at(mergedW.file, name));
  }

  const modules: LoraModuleCheck[] = [];
  const adapted = new Set<string>();
  let parameters = 0;
  for (const [module, { A, B }] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const some = (A ?? B)!;
    if (!A || !B) throw new InputError(`module ${module} has a lora_${A ? 'A' : 'B'} matrix but no lora_${A ? 'B' : 'A'}`, at(weightsFile, some.name));
    if (!isTarget(targetModules, module)) {
      throw new InputError(`tensor "${A.name}" adapts module ${module}, which target_modules (${JSON.stringify(targetModules)}) does not name`, at(weightsFile, A.name));
    }
    const rank = patternValue(cfg.rank_pattern, module) ?? r;
    const a = patternValue(cfg.alpha_pattern, module) ?? alpha;
    if (A.shape.length !== 2 || B.shape.length !== 2 || A.shape[0] !== rank || B.shape[1] !== rank) {
      throw new InputError(`module ${module}: lora_A is ${dimsText(A.shape)} and lora_B ${dimsText(B.shape)}; expected [${rank}, in] and [out, ${rank}] for rank ${rank}`, at(weightsFile, A.name));
    }
    const [out, inn] = [B.shape[0]!, A.shape[1]!];
    const scaling = rslora ? a / Math.sqrt(rank) : a / rank;
    const { name, layout } = locate(module, mergedW, A.name, at(weightsFile, A.name));
    const bw = baseW.initializers.get(name)!;
    const mw = mergedW.initializers.get(name)!;
    const expected = layout === 'out-in' ? [out, inn] : [inn, out];
    if (dimsText(mw.dims) !== dimsText(expected)) {
      throw new InputError(`module ${module}: the adapter (lora_B ${dimsText(B.shape)} · lora_A ${dimsText(A.shape)}) gives a ${out}×${inn} update, but initializer "${name}" is ${dimsText(mw.dims)} (layout ${layout}): the adapter does not fit this model`, at(weightsFile, A.name));
    }
    const bv = values(bw, baseW.file);
    const mv = values(mw, mergedW.file);
    let maxErr = 0;
    let tooFar = 0;
    let norm2 = 0;
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inn; i++) {
        let d = 0;
        for (let k = 0; k < rank; k++) d += B.data[o * rank + k]! * A.data[k * inn + i]!;
        d *= scaling;
        norm2 += d * d;
        const idx = layout === 'out-in' ? o * inn + i : i * out + o;
        const err = Math.abs(mv[idx]! - bv[idx]! - d);
        if (err > maxErr) maxErr = err;
        if (!(err <= LORA_ATOL + LORA_RTOL * Math.abs(mv[idx]!))) tooFar++;
      }
    }
    if (tooFar > 0) {
      throw new InputError(
        `merged weight "${name}" (module ${module}) differs from base + (lora_alpha/r)·B·A = base + ${fmt(scaling)}·B·A by up to ${fmt(maxErr)} in ${tooFar} of ${out * inn} entries (tolerance ${LORA_ATOL} + ${LORA_RTOL}·|w|): the merged model was not built from this adapter on this base`,
        at(mergedW.file, name),
      );
    }
    adapted.add(name);
    parameters += A.data.length + B.data.length;
    modules.push({ module, initializer: name, shape: [out, inn], rank, scaling, deltaNorm: Math.sqrt(norm2), maxAbsError: maxErr });
  }
  if (modules.every((m) => m.deltaNorm === 0)) {
    throw new InputError('every lora_B·lora_A is zero: the adapter is a no-op (untrained or corrupted), so the merged model is the base and an audit of it says nothing about the fine-tuning data', at(weightsFile));
  }
  let otherMax = 0;
  let others = 0;
  for (const [name, b] of baseW.initializers) {
    if (adapted.has(name)) continue;
    others++;
    const m = mergedW.initializers.get(name)!;
    const bv = initializerValues(b);
    const mv = initializerValues(m);
    if (!bv || !mv) {
      if (!Buffer.from(b.raw ?? []).equals(Buffer.from(m.raw ?? []))) throw new InputError(`initializer "${name}" differs between the base and the merged model, and the adapter does not adapt it`, at(mergedW.file, name));
      continue;
    }
    let d = 0;
    for (let i = 0; i < bv.length; i++) d = Math.max(d, Math.abs(mv[i]! - bv[i]!));
    if (!(d <= LORA_ATOL)) {
      throw new InputError(`initializer "${name}" differs between the base and the merged model by up to ${fmt(d)}, and the adapter does not adapt it: the merged model holds other changes than this adapter`, at(mergedW.file, name));
    }
    otherMax = Math.max(otherMax, d);
  }
  return {
    base: spec.raw.base,
    adapter: spec.raw.adapter,
    merged: spec.raw.merged,
    ...(typeof cfg.base_model_name_or_path === 'string' ? { baseModelNameOrPath: cfg.base_model_name_or_path } : {}),
    ...(typeof cfg.task_type === 'string' ? { taskType: cfg.task_type } : {}),
    rank: r,
    alpha,
    rslora,
    targetModules,
    adapterBytes: bytes,
    adapterParameters: parameters,
    modules,
    otherWeights: { count: others, maxAbsDiff: otherMax },
    tolerance: { atol: LORA_ATOL, rtol: LORA_RTOL },
  };
}

function values(t: OnnxInitializer, file: string): Float64Array {
  const v = initializerValues(t);
  if (!v) throw new InputError(`initializer "${t.name}" has data type ${t.dataType}, not a floating-point type`, { file, field: t.name });
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (v.length !== n) throw new InputError(`initializer "${t.name}" holds ${v.length} values for dims ${dimsText(t.dims)}`, { file, field: t.name });
  return v;
}

const fmt = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2));
