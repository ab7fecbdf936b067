/**
 * TensorFlow.js LayersModels on local disk (model.json + binary weight shards) without tfjs-node:
 * tfjs's file:// handler lives in tfjs-node and its http handler needs fetch, so the files are read
 * here and handed to tfjs as an in-memory IOHandler. No network.
 *
 * Also seeded re-initialisation, so a target's architecture can be cloned into fresh shadow models.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RandomGenerator } from 'pure-rand';
import { InputError } from '../errors.ts';
import { seededRng } from '../metrics/bootstrap.ts';
import { useBackend } from '../shadow/mlp.ts';

/** Bytes per stored value; a quantized weight is stored in its quantization dtype. */
const BYTES_PER_VALUE: Record<string, number> = {
  float32: 4,
  int32: 4,
  complex64: 8,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const errCode = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

/** Pick wasm only if nobody chose a backend yet, so a caller's useBackend('cpu') is respected. */
async function ensureBackend(): Promise<void> {
  if (!tf.engine().backendName) await useBackend('wasm');
}

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  return spec.shape.reduce((a, b) => a * b, 1) * BYTES_PER_VALUE[dtype]!;
}

/** Validates the manifest's shape up front so the messages can name the offending field. */
function checkManifest(raw: unknown, file: string): tf.io.WeightsManifestConfig {
  const fail = (message: string, field: string): never => {
    throw new InputError(message, { file, field });
  };
  if (!Array.isArray(raw)) return fail('expected an array of {paths: [...], weights: [...]} groups', 'weightsManifest');
  raw.forEach((group: unknown, i) => {
    const at = `weightsManifest[${i}]`;
    if (!isObject(group)) return fail('expected an object {paths: [...], weights: [...]}', at);
    const { paths, weights } = group;
    if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string' || p === ''))
      fail('expected an array of weight file names (relative to the model.json folder)', `${at}.paths`);
    if (!Array.isArray(weights)) return fail('expected an array of {name, shape, dtype} weight specs', `${at}.weights`);
    weights.forEach((w: unknown, j) => {
      const wat = `${at}.weights[${j}]`;
      if (!isObject(w) || typeof w.name !== 'string') return fail('expected a weight spec {name, shape, dtype}', wat);
      if (!Array.isArray(w.shape) || w.shape.some((d) => !Number.isInteger(d) || (d as number) < 0))
        fail(`expected a shape of non-negative integers, got ${JSON.stringify(w.shape)}`, `${wat}.shape`);
      if (w.dtype === 'string') fail('string weights have no fixed size and do not occur in a LayersModel', `${wat}.dtype`);
      if (typeof w.dtype !== 'string' || !(w.dtype in BYTES_PER_VALUE))
        fail(`unknown dtype ${JSON.stringify(w.dtype)}; expected float32, int32, bool or complex64`, `${wat}.dtype`);
      const q = w.quantization;
      if (q !== undefined && (!isObject(q) || typeof q.dtype !== 'string' || !(q.dtype in BYTES_PER_VALUE)))
        fail('expected quantization {dtype: "uint8" | "uint16" | "float16", ...}', `${wat}.quantization`);
    });
  });
  return raw as tf.io.WeightsManifestConfig;
}

async function readWeightGroups(manifest: tf.io.WeightsManifestConfig, file: string): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const dir = path.dirname(file);
  const chunks: Uint8Array[] = [];
  for (const [i, group] of manifest.entries()) {
    let got = 0;
    for (const [k, rel] of group.paths.entries()) {
      const abs = path.resolve(dir, rel);
      let buf: Buffer;
      try {
        buf = await readFile(abs);
      } catch (e) {
        const why = errCode(e) === 'ENOENT' ? 'not found' : `cannot be read (${(e as Error).message})`;
        throw new InputError(`weight file "${rel}" ${why} at ${abs} (weight paths are relative to the model.json folder)`, {
          file,
          field: `weightsManifest[${i}].paths[${k}]`,
        });
      }
      chunks.push(buf);
      got += buf.byteLength;
    }
    // Checked per group: tfjs slices each group's shards by the specs, so a short file would
    // otherwise surface later as a confusing "offset is out of bounds".
    const want = group.weights.reduce((s, w) => s + specBytes(w), 0);
    if (got !== want)
      throw new InputError(
        `weight file(s) ${group.paths.map((p) => `"${p}"`).join(', ')} hold ${got} bytes but the ${group.weights.length} weights listed ` +
          `need ${want} bytes (float32/int32: 4 bytes per value, bool/uint8: 1); a weight file is truncated or belongs to another model`,
        { file, field: `weightsManifest[${i}]` },
      );
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return [manifest.flatMap((g) => g.weights), out.buffer];
}

/**
 * Reads a TensorFlow.js LayersModel `model.json` and every weight shard it lists (relative to its
 * folder), concatenated in manifest order into one ArrayBuffer. User mistakes throw InputError.
 */
export async function readLayersModelArtifacts(file: string): Promise<tf.io.ModelArtifacts> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = errCode(e);
    throw new InputError(
      code === 'ENOENT'
        ? 'model file not found; expected a TensorFlow.js LayersModel model.json'
        : code === 'EISDIR'
          ? 'expected the path of a TensorFlow.js model.json, found a folder'
          : `cannot read model file: ${(e as Error).message}`,
      { file },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON (${(e as Error).message}); expected a TensorFlow.js LayersModel model.json`, { file });
  }
  if (!isObject(json)) throw new InputError('expected a JSON object {modelTopology, weightsManifest} (a TensorFlow.js model.json)', { file });

  const topology = json.modelTopology;
  const isGraph = json.format === 'graph-model' || (isObject(topology) && Array.isArray(topology.node));
  if (isGraph)
    throw new InputError(
      'this is a TensorFlow.js graph model (format "graph-model"); expected a LayersModel (format "layers-model"), ' +
        'e.g. from tensorflowjs_converter --output_format=tfjs_layers_model or model.save() in tfjs',
      { file, field: 'format' },
    );
  if (json.format !== undefined && json.format !== 'layers-model')
    throw new InputError(`unsupported format ${JSON.stringify(json.format)}; expected "layers-model"`, { file, field: 'format' });
  if (topology === undefined)
    throw new InputError('missing modelTopology; expected a TensorFlow.js LayersModel model.json', { file, field: 'modelTopology' });
  // Keras-converted files may wrap the model in {model_config, training_config}; tfjs unwraps it.
  const inner = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(inner) || typeof inner.class_name !== 'string')
    throw new InputError('expected a Keras model topology {class_name, config}', { file, field: 'modelTopology' });

  const modelJSON = json as unknown as tf.io.ModelJSON;
  if (json.weightsManifest !== undefined) modelJSON.weightsManifest = checkManifest(json.weightsManifest, file);
  return tf.io.getModelArtifactsForJSON(modelJSON, (manifest) => readWeightGroups(manifest, file));
}

/** tfjs-layers throws these for a bad topology or weights that do not fit it: the file's fault. */
function asInputError(e: unknown, file: string | undefined): unknown {
  const kind = (e as Error | undefined)?.constructor?.name;
  if (kind === 'ValueError' || kind === 'NotImplementedError' || kind === 'AttributeError')
    return new InputError(`tfjs cannot build a LayersModel from this model: ${(e as Error).message}`, file ? { file } : {});
  return e;
}

/** Loads a LayersModel from a local model.json (initialises the wasm backend if none is set). */
export async function loadLayersModel(file: string): Promise<tf.LayersModel> {
  const artifacts = await readLayersModelArtifacts(file);
  await ensureBackend();
  try {
    // The single-argument fromMemory(artifacts); the positional form is deprecated and warns.
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw asInputError(e, file);
  }
}

/** Writes `model.json` + `weights.bin` into dir (created if needed); returns the model.json path. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  const jsonPath = path.join(dir, 'model.json');
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // Weights first: a model.json on disk then never points at a missing weights.bin.
      await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(weights));
      await writeFile(jsonPath, JSON.stringify(modelJSON));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return jsonPath;
}

/** Uniform double in [0, 1) from 53 random bits (as in shadow/purchase.ts). */
function nextDouble(rng: RandomGenerator): number {
  const hi = rng.unsafeNext() >>> 5;
  const lo = rng.unsafeNext() >>> 6;
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** Keras's fan computation: shape [...receptive, in, out]. */
function fans(shape: number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape.at(-2)! * receptive, shape.at(-1)! * receptive];
}

/**
 * Seeded re-initialisation of every weight (trainable or not): Glorot-uniform kernels, ones for
 * gamma / moving_variance, zeros for the rest. Same seed and architecture give bit-identical weights.
 */
export function reinitialiseWeights(model: tf.LayersModel, seed: number): void {
  const rng = seededRng(seed);
  for (const v of model.weights) {
    // originalName: `name` gets a "_1" suffix when a second model reuses the layer names.
    const base = v.originalName.replace(/_\d+$/, '');
    const size = v.shape.reduce((a: number, b) => a * (b ?? 0), 1);
    const values = new Float32Array(size);
    if (v.shape.length >= 2 || base.endsWith('kernel')) {
      const [fanIn, fanOut] = fans(v.shape as number[]);
      const limit = Math.sqrt(6 / Math.max(1, fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (2 * nextDouble(rng) - 1) * limit;
    } else if (base.endsWith('gamma') || base.endsWith('moving_variance')) {
      values.fill(1);
    }
    const t = tf.tensor(values, v.shape as number[], v.dtype);
    v.write(t);
    t.dispose(); // write() takes its own reference to the data
  }
}

/** A fresh model with the artifacts' architecture only (weights ignored), seeded via reinitialiseWeights. */
export async function cloneArchitecture(artifacts: tf.io.ModelArtifacts, seed: number): Promise<tf.LayersModel> {
  const topology = artifacts.modelTopology;
  if (!isObject(topology) || topology instanceof ArrayBuffer)
    throw new InputError('expected a LayersModel JSON topology to clone', { field: 'modelTopology' });
  await ensureBackend();
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: topology } as Parameters<typeof tf.models.modelFromJSON>[0]);
  } catch (e) {
    throw asInputError(e, undefined);
  }
  reinitialiseWeights(model, seed);
  return model;
}

function layerIsSoftmax(layer: tf.layers.Layer): boolean {
  if (layer instanceof tf.LayersModel) return modelIsSoftmax(layer); // a nested Sequential as last layer
  if (layer.getClassName() === 'Softmax') return true;
  const inner = (layer as { layer?: unknown }).layer; // TimeDistributed / Bidirectional wrappers
  if (inner instanceof tf.layers.Layer) return layerIsSoftmax(inner);
  return layer.getConfig().activation === 'softmax';
}

function modelIsSoftmax(model: tf.LayersModel): boolean {
  const outs = model.outputs.length ? model.outputs.map((o) => o.sourceLayer) : model.layers.slice(-1);
  return outs.length > 0 && outs.every(layerIsSoftmax);
}

/** True when the model ends in softmax (outputs probabilities); false means logits. */
export function outputsProbabilities(model: tf.LayersModel): boolean {
  return modelIsSoftmax(model);
}
