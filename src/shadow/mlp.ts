/**
 * Small multilayer perceptrons for shadow/target models on tabular data (Shokri et al. 2017;
 * LiRA, Carlini et al. 2022), built with @tensorflow/tfjs (wasm backend). A plain stack of Dense
 * layers trains on the WebAssembly kernels of ./dense.ts (same semantics, no per-step tfjs
 * overhead); anything else (Dropout, BatchNormalization, …) trains with tfjs's own loop here.
 *
 * Deterministic given the seed: seeded Glorot-uniform kernels, zero biases, a seeded shuffle done
 * here (tf's own shuffle is not seeded), Adam, single-threaded wasm. No network: the .wasm files
 * are read from the installed @tensorflow/tfjs-backend-wasm package.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { seededRng } from '../metrics/bootstrap.ts';
import { trainDense, type DenseActivation, type DenseSpec } from './dense.ts';

export type MlpBackend = 'wasm' | 'cpu';

export interface MlpData {
  /** n × dim, row-major. */
  features: Float32Array;
  /** n labels in [0, classes). */
  labels: Int32Array;
  dim: number;
  classes: number;
}

export interface MlpOptions {
  /** Hidden layer widths, e.g. [256, 128]; ReLU (tanh if `activation: 'tanh'`). */
  layers: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Default 'adam'. */
  optimizer?: 'adam' | 'sgd';
  activation?: 'relu' | 'tanh';
  /** Default 'wasm' (falls back to 'cpu' with a warning if wasm cannot initialise). */
  backend?: MlpBackend;
  /**
   * 'auto' (default): a plain dense MLP trains on the wasm kernels (./dense.ts), anything else with
   * tfjs. 'tfjs': always tfjs's loop (for comparisons; its numbers are not the cached ones).
   */
  trainer?: 'auto' | 'tfjs';
}

export interface SerializedWeight {
  shape: number[];
  values: number[];
}

let backendNote: string | undefined;
const ready = new Map<MlpBackend, Promise<MlpBackend>>();

function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

async function initBackend(want: MlpBackend): Promise<MlpBackend> {
  if (want === 'wasm') {
    try {
      // In Node, emscripten reads the .wasm with fs, so a plain directory path (with trailing
      // separator) works; no fetch, no network.
      setWasmPaths(wasmDistDir() + path.sep);
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
      fastTransposedMatMul();
      return 'wasm';
    } catch (err) {
      backendNote = `tfjs wasm backend could not initialise (${(err as Error).message}); using the slower pure-JS 'cpu' backend`;
      process.emitWarning(backendNote);
    }
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs cpu backend could not initialise');
  return 'cpu';
}

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul with transposeA/transposeB on a slow generic path (11 ms
 * vs 0.8 ms for a 600×64·64×256 product here), and every dense layer's gradient asks for one. This
 * wraps the wasm kernel to transpose explicitly (the fast Transpose kernel) and multiply on the
 * XNNPACK path: the same products (bit-identical on our checks), 2.4× faster MLP training
 * (npm run bench). Registered once per thread.
 */
function fastTransposedMatMul(): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original.kernelFunc as { patched?: boolean }).patched) return;
  const kernelFunc = ((args: { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend; attrs: Record<string, unknown> }) => {
    const { inputs, backend, attrs } = args;
    const temps: tf.TensorInfo[] = [];
    const t = (x: tf.TensorInfo): tf.TensorInfo => {
      const perm = x.shape.length === 2 ? [1, 0] : [0, 2, 1];
      const out = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    const a = attrs.transposeA ? t(inputs.a!) : inputs.a!;
    const b = attrs.transposeB ? t(inputs.b!) : inputs.b!;
    try {
      return original.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const x of temps) backend.disposeData(x.dataId);
    }
  }) as tf.KernelFunc & { patched?: boolean };
  kernelFunc.patched = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}

/** Select and initialise a tfjs backend (idempotent); returns the backend actually in use. */
export async function useBackend(want: MlpBackend = 'wasm'): Promise<MlpBackend> {
  let p = ready.get(want);
  if (!p) {
    p = initBackend(want);
    ready.set(want, p);
  }
  const got = await p;
  if (tf.getBackend() !== got) await tf.setBackend(got);
  return got;
}

/** Why wasm was not used, if it failed to initialise. */
export function backendFallbackNote(): string | undefined {
  return backendNote;
}

function buildModel(dim: number, hidden: number[], classes: number, seed: number, activation: 'relu' | 'tanh'): tf.Sequential {
  const model = tf.sequential();
  const widths = [...hidden, classes];
  widths.forEach((units, i) => {
    const last = i === widths.length - 1;
    model.add(
      tf.layers.dense({
        units,
        activation: last ? 'softmax' : activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 31 + i + 1 }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [dim] } : {}),
      }),
    );
  });
  return model;
}

function checkData(features: Float32Array, n: number, dim: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`n must be a non-negative integer, got ${String(n)}`);
  if (features.length !== n * dim) {
    throw new Error(`features has ${String(features.length)} values, expected n × dim = ${String(n)} × ${String(dim)}`);
  }
}

export class TrainedMlp {
  readonly dim: number;
  readonly classes: number;
  readonly layers: number[];
  /** False when the model outputs logits (a cloned target without a softmax layer): predict applies softmax. */
  readonly softmaxOutput: boolean;
  private model: tf.LayersModel | undefined;

  private constructor(model: tf.LayersModel, dim: number, hidden: number[], classes: number, softmaxOutput: boolean) {
    this.model = model;
    this.dim = dim;
    this.classes = classes;
    this.layers = hidden;
    this.softmaxOutput = softmaxOutput;
  }

  /** @internal */
  static wrap(model: tf.LayersModel, dim: number, hidden: number[], classes: number, softmaxOutput = true): TrainedMlp {
    return new TrainedMlp(model, dim, hidden, classes, softmaxOutput);
  }

  /** The underlying tfjs model (for saving as model.json). */
  get layersModel(): tf.LayersModel {
    return this.live;
  }

  private get live(): tf.LayersModel {
    if (!this.model) throw new Error('TrainedMlp used after dispose()');
    return this.model;
  }

  /** n × classes softmax probabilities, row-major. */
  predict(features: Float32Array, n: number, batchSize = 1024): Float32Array {
    checkData(features, n, this.dim);
    const model = this.live;
    const out = new Float32Array(n * this.classes);
    for (let start = 0; start < n; start += batchSize) {
      const m = Math.min(batchSize, n - start);
      const probs = tf.tidy(() => {
        const x = tf.tensor2d(features.subarray(start * this.dim, (start + m) * this.dim), [m, this.dim]);
        const y = model.predict(x) as tf.Tensor;
        return (this.softmaxOutput ? y : tf.softmax(y)).dataSync();
      });
      out.set(probs, start * this.classes);
    }
    return out;
  }

  /** Kernel, bias for each dense layer in order; plain JSON, suitable for a disk cache. */
  weights(): SerializedWeight[] {
    return this.live.getWeights().map((w) => ({ shape: [...w.shape], values: Array.from(w.dataSync()) }));
  }

  /**
   * Rebuild from `weights()`. The architecture is read from the shapes ([in, out] kernel then
   * [out] bias per layer). Initialises the backend like trainMlp.
   */
  static async fromWeights(weights: SerializedWeight[], options: { activation?: 'relu' | 'tanh'; backend?: MlpBackend } = {}): Promise<TrainedMlp> {
    // (An MLP of dense layers only: the architecture is read from the kernel and bias shapes.)
    if (weights.length < 2 || weights.length % 2 !== 0) throw new Error('weights must be (kernel, bias) pairs');
    const widths: number[] = [];
    let dim = 0;
    for (let i = 0; i < weights.length; i += 2) {
      const k = weights[i]!;
      const b = weights[i + 1]!;
      const [rows, cols] = k.shape;
      if (k.shape.length !== 2 || rows === undefined || cols === undefined || b.shape.length !== 1 || b.shape[0] !== cols) {
        throw new Error(`layer ${String(i / 2)}: expected kernel [in, out] and bias [out], got ${JSON.stringify(k.shape)} and ${JSON.stringify(b.shape)}`);
      }
      if (i === 0) dim = rows;
      else if (rows !== widths[widths.length - 1]) throw new Error(`layer ${String(i / 2)}: input width ${String(rows)} does not match previous output`);
      widths.push(cols);
    }
    await useBackend(options.backend ?? 'wasm');
    const hidden = widths.slice(0, -1);
    const classes = widths[widths.length - 1]!;
    const model = buildModel(dim, hidden, classes, 0, options.activation ?? 'relu');
    const tensors = weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
    model.setWeights(tensors);
    tf.dispose(tensors);
    return new TrainedMlp(model, dim, hidden, classes, true);
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}

/** Train a softmax MLP with cross-entropy. Deterministic given `opts.seed` and the backend. */
export async function trainMlp(data: MlpData, opts: MlpOptions): Promise<TrainedMlp> {
  await useBackend(opts.backend ?? 'wasm');
  const model = buildModel(data.dim, opts.layers, data.classes, opts.seed, opts.activation ?? 'relu');
  await fitModel(model, true, data, opts);
  return TrainedMlp.wrap(model, data.dim, opts.layers, data.classes);
}

/**
 * Train an already initialised model (e.g. a target's topology cloned and re-initialised) in place:
 * cross-entropy, Adam (or SGD), seeded shuffle. `softmaxOutput` false = the model outputs logits.
 */
export async function trainLayersModel(
  model: tf.LayersModel,
  softmaxOutput: boolean,
  data: MlpData,
  opts: Omit<MlpOptions, 'layers' | 'activation'>,
): Promise<TrainedMlp> {
  await useBackend(opts.backend ?? 'wasm');
  await fitModel(model, softmaxOutput, data, opts);
  const hidden = model.layers.slice(0, -1).flatMap((l) => {
    const units = (l.getConfig() as { units?: unknown }).units;
    return typeof units === 'number' ? [units] : [];
  });
  return TrainedMlp.wrap(model, data.dim, hidden, data.classes, softmaxOutput);
}

/**
 * The model as a plain dense MLP (a Sequential of trainable Dense layers with bias; hidden ReLU,
 * tanh or linear; the last softmax, or linear when the model outputs logits), or undefined.
 */
export function denseSpecOf(model: tf.LayersModel, softmaxOutput: boolean, dim: number, classes: number): DenseSpec | undefined {
  if (!(model instanceof tf.Sequential) || model.layers.length === 0) return undefined;
  const units: number[] = [];
  const hidden: DenseActivation[] = [];
  for (const [i, layer] of model.layers.entries()) {
    const c = layer.getConfig() as { units?: unknown; activation?: unknown; useBias?: unknown };
    if (layer.getClassName() !== 'Dense' || !layer.trainable || c.useBias === false || typeof c.units !== 'number') return undefined;
    if (layer.getWeights().length !== 2) return undefined;
    const act = c.activation ?? 'linear';
    if (i === model.layers.length - 1) {
      if (act !== (softmaxOutput ? 'softmax' : 'linear')) return undefined;
    } else if (act === 'relu' || act === 'tanh' || act === 'linear') hidden.push(act);
    else return undefined;
    units.push(c.units);
  }
  const first = model.layers[0]!.getWeights()[0]!;
  if (first.shape[0] !== dim || units[units.length - 1] !== classes) return undefined;
  return { dim, units, hidden, softmaxOutput };
}

async function fitModel(model: tf.LayersModel, softmaxOutput: boolean, data: MlpData, opts: Omit<MlpOptions, 'layers' | 'activation'>): Promise<void> {
  const { dim, classes, features, labels } = data;
  const n = labels.length;
  checkData(features, n, dim);
  if (n === 0) throw new Error('no training records');
  for (const y of labels) if (y < 0 || y >= classes) throw new Error(`label ${String(y)} outside [0, ${String(classes)})`);
  if (!Number.isSafeInteger(opts.epochs) || opts.epochs < 0) throw new Error('epochs must be a non-negative integer');
  if (!Number.isSafeInteger(opts.batchSize) || opts.batchSize < 1) throw new Error('batchSize must be a positive integer');
  if (!Number.isSafeInteger(opts.seed)) throw new Error('seed must be a safe integer');

  const spec = opts.trainer === 'tfjs' ? undefined : denseSpecOf(model, softmaxOutput, dim, classes);
  if (spec) {
    // Start from the model's own (seeded) initial weights; train on the wasm kernels; write back.
    const init = model.getWeights().map((w) => w.dataSync() as Float32Array);
    const trained = trainDense(spec, init, { features, labels }, opts);
    const tensors = model.getWeights().map((w, i) => tf.tensor(trained[i]!, w.shape, 'float32'));
    model.setWeights(tensors);
    tf.dispose(tensors);
    return;
  }

  const optimizer = opts.optimizer === 'sgd' ? tf.train.sgd(opts.learningRate) : tf.train.adam(opts.learningRate);
  // Cross-entropy on the softmax outputs (clipped, the same loss as Keras' categoricalCrossentropy),
  // or on logits for a model without a softmax layer.
  const ce = (x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar =>
    tf.tidy(() => {
      // training: true, so Dropout drops and BatchNormalization uses (and updates) batch statistics,
      // as when the target was trained.
      const out = model.apply(x, { training: true }) as tf.Tensor2D;
      if (!softmaxOutput) return tf.losses.softmaxCrossEntropy(y, out) as tf.Scalar;
      const p = out.clipByValue(1e-7, 1);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(p)), 1))) as tf.Scalar;
    });

  const rng = seededRng(opts.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const xb = new Float32Array(opts.batchSize * dim);
  const yb = new Int32Array(opts.batchSize);
  // tfjs seeds an unseeded Dropout mask from Math.random(). The loop below never awaits, so for its
  // duration Math.random can be a stream seeded from opts.seed: masks differ per step and per shadow,
  // and a run is reproducible. (Restored in `finally`; nothing else runs on this thread meanwhile.)
  const dropoutRng = seededRng(opts.seed ^ 0x5bd1e995);
  const mathRandom = Math.random;
  Math.random = () => (dropoutRng.unsafeNext() >>> 0) / 4294967296;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      // Seeded Fisher–Yates shuffle.
      for (let i = n - 1; i > 0; i--) {
        const j = Number((BigInt(rng.unsafeNext() >>> 0) * BigInt(i + 1)) >> 32n);
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      for (let start = 0; start < n; start += opts.batchSize) {
        const m = Math.min(opts.batchSize, n - start);
        for (let r = 0; r < m; r++) {
          const src = order[start + r]!;
          xb.set(features.subarray(src * dim, (src + 1) * dim), r * dim);
          yb[r] = labels[src]!;
        }
        tf.tidy(() => {
          const x = tf.tensor2d(xb.subarray(0, m * dim), [m, dim]);
          const y = tf.oneHot(tf.tensor1d(yb.subarray(0, m), 'int32'), classes).toFloat() as tf.Tensor2D;
          optimizer.minimize(() => ce(x, y));
        });
      }
    }
  } catch (err) {
    model.dispose();
    optimizer.dispose();
    throw err;
  } finally {
    Math.random = mathRandom;
  }
  optimizer.dispose();
}
