/**
 * Classifier targets: `onnx:model.onnx` (onnxruntime-node) and `tfjs:model.json` (TensorFlow.js
 * LayersModel on the wasm backend). They take a float feature vector per record — or, for an ONNX
 * text classifier (an `input_ids` input), the record's text tokenized with the configured
 * tokenizer.json — and give class probabilities; logits are turned into probabilities with a
 * softmax (float64, max-shifted).
 *
 * Runs inside pool workers (one intra-op thread each), like the causal-LM adapter.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { InputError } from '../errors.ts';
import { executionProviders, type Device } from './device.ts';
import type * as tfTypes from '@tensorflow/tfjs';

export type ClassifierOutputs = 'auto' | 'logits' | 'probabilities';

export interface SingleClassifierSpec {
  kind: 'onnx' | 'tfjs';
  path: string;
  outputs: ClassifierOutputs;
  /** tokenizer.json of an ONNX text classifier. */
  tokenizer?: string;
  /** Where an onnx: model runs (default the CPU). */
  device?: Device;
}

/** How a SISA ensemble combines its constituents (Bourtoule et al. 2021): mean of softmax outputs, or majority vote of labels. */
export type EnsembleAggregation = 'mean-softmax' | 'vote';

/**
 * A SISA ensemble (src/claims/sisa): one constituent per shard, aggregated as the manifest says.
 * It is one classifier to every attack: the ensemble's output is what the deployment serves.
 */
export interface EnsembleSpec {
  kind: 'sisa';
  members: SingleClassifierSpec[];
  aggregation: EnsembleAggregation;
}

export type ClassifierSpec = SingleClassifierSpec | EnsembleSpec;

/** What a classifier takes: feature vectors (tabular) or token ids (text). */
export type ClassifierInput = 'features' | 'tokens';

export interface Classifier {
  readonly input: ClassifierInput;
  /** Width of the feature vector, when the model declares it. */
  readonly dim: number | undefined;
  /** n × classes probabilities, row-major; `classes` is read from the output. */
  predict(features: Float32Array, n: number, dim: number): Promise<{ probs: Float32Array; classes: number }>;
  /** The same for a text classifier: texts are tokenized, truncated and right-padded here. */
  predictTexts(texts: string[]): Promise<{ probs: Float32Array; classes: number }>;
}

/** An ONNX session, or an InputError naming the file when it is not a model onnxruntime can load. */
async function openSession(file: string, device?: Device): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: executionProviders(device) });
  } catch (e) {
    throw new InputError(`not an ONNX model onnxruntime can load: ${(e as Error).message.split('\n')[0]}`, { file });
  }
}

type InputMeta = { name: string; type?: string; shape?: (number | string)[] };
const inputMetadata = (session: ort.InferenceSession): InputMeta[] => {
  const meta = (session as unknown as { inputMetadata?: InputMeta[] }).inputMetadata;
  return Array.isArray(meta) ? meta : [];
};

/**
 * The input an ONNX classifier expects, read from its graph: `input_ids` means a text classifier;
 * otherwise one float32 input whose last dimension (when fixed) is the feature width.
 */
export async function onnxClassifierInput(file: string): Promise<{ input: ClassifierInput; names: string[]; dim: number | undefined }> {
  const session = await openSession(file);
  const names = [...session.inputNames];
  const meta = inputMetadata(session)[0];
  await session.release();
  if (names.includes('input_ids')) return { input: 'tokens', names, dim: undefined };
  if (names.length !== 1) {
    throw new InputError(`a classifier must have one input (a float32 feature matrix [n, dim]) or input_ids for text; this one has ${names.join(', ') || 'none'}`, { file });
  }
  if (meta?.type !== undefined && meta.type !== 'float32') {
    throw new InputError(`input "${names[0]}" has type ${meta.type}; a feature-vector classifier takes float32 [n, dim]`, { file });
  }
  const last = meta?.shape?.[meta.shape.length - 1];
  return { input: 'features', names, dim: typeof last === 'number' && last > 0 ? last : undefined };
}

export interface TextTokenizer {
  /** Token ids, truncated to `maxLength`. */
  encode(text: string): number[];
  padId: number;
  maxLength: number;
  /** Largest token id + 1. */
  vocabSize: number;
}

/** A tokenizer.json (with tokenizer_config.json beside it, if present), read from disk. */
export async function loadTextTokenizer(file: string): Promise<TextTokenizer> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`not a readable tokenizer.json: ${(e as Error).message}`, { file });
  }
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(path.join(path.dirname(file), 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // tokenizer_config.json is optional: the defaults below apply
  }
  const tok = new PreTrainedTokenizer(json, config);
  const max = typeof config.model_max_length === 'number' && config.model_max_length < 1e6 ? config.model_max_length : 512;
  const padId = typeof tok.pad_token_id === 'number' ? tok.pad_token_id : 0;
  // A loop, not Math.max(...): spreading a 250k-token vocabulary overflows the call stack.
  let vocabSize = 0;
  for (const id of tok.get_vocab().values()) if (id + 1 > vocabSize) vocabSize = id + 1;
  return { encode: (t) => tok.encode(t).slice(0, max), padId, maxLength: max, vocabSize };
}

/** Rows of non-negative values that sum to 1 (to 1e-3) are probabilities; anything else is logits. */
export function looksLikeProbabilities(out: Float32Array, n: number, classes: number): boolean {
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const v = out[i * classes + c]!;
      if (!(v >= 0)) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

/** Row-wise softmax in float64 (max-shifted); returns float32 like the model outputs. */
export function softmaxRows(out: Float32Array, n: number, classes: number): Float32Array {
  const probs = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, out[i * classes + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(out[i * classes + c]! - max);
    for (let c = 0; c < classes; c++) probs[i * classes + c] = Math.exp(out[i * classes + c]! - max) / sum;
  }
  return probs;
}

/**
 * Decided per batch from the batch alone (never from what a worker saw before), so results do not
 * depend on how batches fall on workers.
 */
function toProbabilities(out: Float32Array, n: number, classes: number, outputs: ClassifierOutputs): Float32Array {
  const isProb = outputs === 'probabilities' || (outputs === 'auto' && looksLikeProbabilities(out, n, classes));
  return isProb ? out : softmaxRows(out, n, classes);
}

async function loadOnnx(spec: SingleClassifierSpec): Promise<Classifier> {
  const session = await openSession(spec.path, spec.device);
  const output = (out: ort.InferenceSession.OnnxValueMapType, n: number) => {
    // The first float output shaped [n, classes] (sklearn-onnx puts a label output before it).
    const name = session.outputNames.find((o) => {
      const t = out[o];
      return t !== undefined && t.type === 'float32' && t.dims.length === 2 && t.dims[0] === n;
    });
    if (name === undefined) {
      throw new InputError(
        `no float32 output shaped [n, classes] among ${session.outputNames.join(', ')} (an sklearn-onnx export needs options={"zipmap": False} to output a probability matrix)`,
        { file: spec.path },
      );
    }
    const t = out[name]!;
    const classes = t.dims[1]!;
    return { probs: toProbabilities(t.data as Float32Array, n, classes, spec.outputs), classes };
  };
  const unsupported = async (): Promise<never> => {
    throw new Error(`${spec.path}: this classifier takes ${session.inputNames.includes('input_ids') ? 'token ids' : 'feature vectors'}`);
  };

  if (session.inputNames.includes('input_ids')) {
    if (!spec.tokenizer) throw new Error(`${spec.path}: a text classifier (input_ids) needs a tokenizer: models.<role>: { ref, tokenizer }`);
    const tok = await loadTextTokenizer(spec.tokenizer);
    const withMask = session.inputNames.includes('attention_mask');
    const predictTexts = async (texts: string[]): Promise<{ probs: Float32Array; classes: number }> => {
      // Without an attention mask, padding would change a record's output with its batch: one at a time.
      if (!withMask && texts.length > 1) {
        const parts = [];
        for (const t of texts) parts.push(await predictTexts([t]));
        const classes = parts[0]!.classes;
        const probs = new Float32Array(texts.length * classes);
        parts.forEach((p, i) => probs.set(p.probs, i * classes));
        return { probs, classes };
      }
      const ids = texts.map((t) => tok.encode(t));
      const n = texts.length;
      const L = Math.max(1, ...ids.map((x) => x.length));
      const input = new BigInt64Array(n * L).fill(BigInt(tok.padId));
      const mask = new BigInt64Array(n * L);
      ids.forEach((x, r) => x.forEach((v, c) => ((input[r * L + c] = BigInt(v)), (mask[r * L + c] = 1n))));
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', input, [n, L]) };
      if (withMask) feeds.attention_mask = new ort.Tensor('int64', mask, [n, L]);
      return output(await session.run(feeds), n);
    };
    return { input: 'tokens', dim: undefined, predict: unsupported, predictTexts };
  }

  const inputName = session.inputNames[0];
  if (inputName === undefined || session.inputNames.length !== 1) {
    throw new InputError(`a classifier must have exactly one input (a float feature matrix [n, dim], or input_ids for text); it has ${session.inputNames.join(", ") || "none"}`, { file: spec.path });
  }
  const inMeta = inputMetadata(session)[0];
  if (inMeta?.type !== undefined && inMeta.type !== 'float32') {
    throw new InputError(`input "${inputName}" has type ${inMeta.type}; classifier targets take float32 feature vectors`, { file: spec.path });
  }
  const last = inMeta?.shape?.[inMeta.shape.length - 1];
  const dim = typeof last === 'number' && last > 0 ? last : undefined;
  return {
    input: 'features',
    dim,
    async predict(features, n, d) {
      return output(await session.run({ [inputName]: new ort.Tensor('float32', features, [n, d]) }), n);
    },
    predictTexts: unsupported,
  };
}

async function loadTfjs(spec: SingleClassifierSpec): Promise<Classifier> {
  // tfjs (~40 MB per thread once loaded) only where a tfjs model is: an LM audit never loads it.
  const tf = await import('@tensorflow/tfjs');
  const { useBackend } = await import('../shadow/mlp.ts');
  const { loadLayersModel, outputsProbabilities } = await import('./tfjs-io.ts');
  await useBackend('wasm');
  const model: tfTypes.LayersModel = await loadLayersModel(spec.path);
  const shape = model.inputs[0]?.shape;
  const last = shape?.[shape.length - 1];
  const softmaxOut = outputsProbabilities(model);
  const outputs: ClassifierOutputs = spec.outputs !== 'auto' ? spec.outputs : softmaxOut ? 'probabilities' : 'logits';
  return {
    input: 'features',
    dim: typeof last === 'number' ? last : undefined,
    predictTexts: async () => {
      throw new Error(`${spec.path}: tfjs: classifiers take feature vectors`);
    },
    async predict(features, n, d) {
      const y = tf.tidy(() => model.predict(tf.tensor2d(features, [n, d])) as tfTypes.Tensor);
      const classes = y.shape[1]!;
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return { probs: toProbabilities(out, n, classes, outputs), classes };
    },
  };
}

/**
 * Aggregates constituents' probabilities as SISA does. `mean-softmax`: the mean of their probability
 * rows. `vote`: each constituent votes for its top class (ties to the lowest index, like argmax);
 * the output row is the share of votes per class, so a label-only deployment's answers are what
 * the attacks see (a 0 share is floored by the attacks that take its logarithm).
 */
export function aggregateProbabilities(parts: readonly Float32Array[], n: number, classes: number, aggregation: EnsembleAggregation): Float32Array {
  const out = new Float32Array(n * classes);
  const acc = new Float64Array(n * classes);
  for (const p of parts) {
    if (aggregation === 'mean-softmax') {
      for (let i = 0; i < n * classes; i++) acc[i]! += p[i]!;
      continue;
    }
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (p[i * classes + c]! > p[i * classes + best]!) best = c;
      acc[i * classes + best]! += 1;
    }
  }
  for (let i = 0; i < n * classes; i++) out[i] = acc[i]! / parts.length;
  return out;
}

async function loadEnsemble(spec: EnsembleSpec): Promise<Classifier> {
  if (spec.members.length === 0) throw new Error('a SISA ensemble needs at least one constituent');
  const members: Classifier[] = [];
  for (const m of spec.members) members.push(await loadSingle(m));
  const input = members[0]!.input;
  const dims = new Set(members.map((m) => m.dim));
  if (members.some((m) => m.input !== input) || dims.size > 1) {
    throw new InputError(`the constituents of a SISA ensemble must take the same input; they take ${members.map((m) => `${m.input}${m.dim !== undefined ? ` [${m.dim}]` : ''}`).join(', ')}`, { file: spec.members[0]!.path });
  }
  const combine = async (run: (m: Classifier) => Promise<{ probs: Float32Array; classes: number }>, n: number) => {
    const outs = [];
    for (const m of members) outs.push(await run(m));
    const classes = outs[0]!.classes;
    const odd = outs.findIndex((o) => o.classes !== classes);
    if (odd >= 0) throw new InputError(`constituent ${odd} outputs ${outs[odd]!.classes} classes, constituent 0 outputs ${classes}: a SISA ensemble's constituents share their classes`, { file: spec.members[odd]!.path });
    return { probs: aggregateProbabilities(outs.map((o) => o.probs), n, classes, spec.aggregation), classes };
  };
  return {
    input,
    dim: members[0]!.dim,
    predict: (features, n, d) => combine((m) => m.predict(features, n, d), n),
    predictTexts: (texts) => combine((m) => m.predictTexts(texts), texts.length),
  };
}

function loadSingle(spec: SingleClassifierSpec): Promise<Classifier> {
  return spec.kind === 'onnx' ? loadOnnx(spec) : loadTfjs(spec);
}

export function loadClassifier(spec: ClassifierSpec): Promise<Classifier> {
  return spec.kind === 'sisa' ? loadEnsemble(spec) : loadSingle(spec);
}
