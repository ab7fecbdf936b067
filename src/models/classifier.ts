/**
 * Classifier targets: `onnx:model.onnx` (onnxruntime-node) and `tfjs:model.json` (TensorFlow.js
 * LayersModel on the wasm backend). Both take a float feature vector per record and give class
 * probabilities; logits are turned into probabilities with a softmax (float64, max-shifted).
 *
 * Runs inside pool workers (one intra-op thread each), like the causal-LM adapter.
 */
import * as ort from 'onnxruntime-node';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadLayersModel, outputsProbabilities } from './tfjs-io.ts';

export type ClassifierOutputs = 'auto' | 'logits' | 'probabilities';

export interface ClassifierSpec {
  kind: 'onnx' | 'tfjs';
  path: string;
  outputs: ClassifierOutputs;
}

export interface Classifier {
  /** Width of the feature vector, when the model declares it. */
  readonly dim: number | undefined;
  /** n × classes probabilities, row-major; `classes` is read from the output. */
  predict(features: Float32Array, n: number, dim: number): Promise<{ probs: Float32Array; classes: number }>;
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

async function loadOnnx(spec: ClassifierSpec): Promise<Classifier> {
  const session = await ort.InferenceSession.create(spec.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const inputName = session.inputNames[0];
  if (inputName === undefined || session.inputNames.length !== 1) {
    throw new Error(`${spec.path}: a classifier must have exactly one input (a float feature matrix [n, dim]); it has ${session.inputNames.join(', ') || 'none'}`);
  }
  const meta = (session as unknown as { inputMetadata?: { name: string; type?: string; shape?: (number | string)[] }[] }).inputMetadata;
  const inMeta = Array.isArray(meta) ? meta[0] : undefined;
  if (inMeta?.type !== undefined && inMeta.type !== 'float32') {
    throw new Error(`${spec.path}: input "${inputName}" has type ${inMeta.type}; classifier targets take float32 feature vectors`);
  }
  const last = inMeta?.shape?.[inMeta.shape.length - 1];
  const dim = typeof last === 'number' && last > 0 ? last : undefined;
  return {
    dim,
    async predict(features, n, d) {
      const feeds = { [inputName]: new ort.Tensor('float32', features, [n, d]) };
      const out = await session.run(feeds);
      // The first float output shaped [n, classes] (sklearn-onnx puts a label output before it).
      const name = session.outputNames.find((o) => {
        const t = out[o];
        return t !== undefined && t.type === 'float32' && t.dims.length === 2 && t.dims[0] === n;
      });
      if (name === undefined) throw new Error(`${spec.path}: no float32 output shaped [n, classes] among ${session.outputNames.join(', ')}`);
      const t = out[name]!;
      const classes = t.dims[1]!;
      return { probs: toProbabilities(t.data as Float32Array, n, classes, spec.outputs), classes };
    },
  };
}

async function loadTfjs(spec: ClassifierSpec): Promise<Classifier> {
  const tf = await import('@tensorflow/tfjs');
  const { useBackend } = await import('../shadow/mlp.ts');
  await useBackend('wasm');
  const model: tfTypes.LayersModel = await loadLayersModel(spec.path);
  const shape = model.inputs[0]?.shape;
  const last = shape?.[shape.length - 1];
  const softmaxOut = outputsProbabilities(model);
  const outputs: ClassifierOutputs = spec.outputs !== 'auto' ? spec.outputs : softmaxOut ? 'probabilities' : 'logits';
  return {
    dim: typeof last === 'number' ? last : undefined,
    async predict(features, n, d) {
      const y = tf.tidy(() => model.predict(tf.tensor2d(features, [n, d])) as tfTypes.Tensor);
      const classes = y.shape[1]!;
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return { probs: toProbabilities(out, n, classes, outputs), classes };
    },
  };
}

export function loadClassifier(spec: ClassifierSpec): Promise<Classifier> {
  return spec.kind === 'onnx' ? loadOnnx(spec) : loadTfjs(spec);
}
