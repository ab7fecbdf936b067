/**
 * TensorFlow.js LayersModel files on disk (no tfjs-node) on the real wasm backend: save/load round
 * trip, seeded re-initialisation for shadow clones, softmax detection and user-error messages.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  cloneArchitecture,
  loadLayersModel,
  outputsProbabilities,
  readLayersModelArtifacts,
  reinitialiseWeights,
  saveLayersModel,
} from '../../src/models/tfjs-io.ts';
import { useBackend } from '../../src/shadow/mlp.ts';

let tmp: string;
const made: tf.LayersModel[] = [];

function keep<T extends tf.LayersModel>(m: T): T {
  made.push(m);
  return m;
}

function mlp(last: 'softmax' | 'linear' = 'softmax'): tf.Sequential {
  return keep(
    tf.sequential({
      layers: [tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }), tf.layers.dense({ units: 3, activation: last })],
    }),
  );
}

const weightsOf = (m: tf.LayersModel): Float32Array[] => m.getWeights().map((w) => w.dataSync() as Float32Array);

function predict(m: tf.LayersModel): Float32Array {
  const x = tf.tensor2d(Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i) * 2), [5, 8]);
  const y = m.predict(x) as tf.Tensor;
  const out = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  return out;
}

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

let savedJson: string;
let original: tf.Sequential;

beforeAll(async () => {
  expect(await useBackend('wasm')).toBe('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tfjs-io-'));
  original = mlp();
  reinitialiseWeights(original, 1);
  savedJson = await saveLayersModel(original, path.join(tmp, 'a', 'b'));
});

afterAll(async () => {
  for (const m of made) m.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('save / load', () => {
  it('writes model.json + weights.bin in the standard layout', async () => {
    expect(savedJson).toBe(path.join(tmp, 'a', 'b', 'model.json'));
    const json = JSON.parse(await readFile(savedJson, 'utf8')) as tf.io.ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    expect(json.weightsManifest[0]!.weights.map((w) => w.shape)).toEqual([[8, 16], [16], [16, 3], [3]]);
    const art = await readLayersModelArtifacts(savedJson);
    expect(art.weightSpecs).toHaveLength(4);
    expect((art.weightData as ArrayBuffer).byteLength).toBe((8 * 16 + 16 + 16 * 3 + 3) * 4);
  });

  it('reloads to a model with identical predictions', async () => {
    const back = keep(await loadLayersModel(savedJson));
    expect(predict(back)).toEqual(predict(original));
    expect(weightsOf(back)).toEqual(weightsOf(original));
  });

  it("is readable by tfjs's own http loader (served from disk through a local fetchFunc)", async () => {
    const dir = path.dirname(savedJson);
    const fetchFunc = async (input: URL | RequestInfo): Promise<Response> => {
      const url = input instanceof Request ? input.url : String(input);
      return new Response(await readFile(path.join(dir, path.posix.basename(url))));
    };
    const back = keep(await tf.loadLayersModel(tf.io.http('http://local.invalid/model.json', { fetchFunc })));
    expect(predict(back)).toEqual(predict(original));
  });

  it('concatenates several shards and groups in manifest order', async () => {
    const dir = path.join(tmp, 'sharded');
    await mkdir(dir);
    const json = JSON.parse(await readFile(savedJson, 'utf8')) as tf.io.ModelJSON;
    const bin = await readFile(path.join(path.dirname(savedJson), 'weights.bin'));
    const specs = json.weightsManifest[0]!.weights;
    const k1 = 8 * 16 * 4;
    const g1 = k1 + 16 * 4;
    await writeFile(path.join(dir, 'g1s1.bin'), bin.subarray(0, 100));
    await writeFile(path.join(dir, 'g1s2.bin'), bin.subarray(100, g1));
    await writeFile(path.join(dir, 'g2.bin'), bin.subarray(g1));
    json.weightsManifest = [
      { paths: ['g1s1.bin', 'g1s2.bin'], weights: specs.slice(0, 2) },
      { paths: ['g2.bin'], weights: specs.slice(2) },
    ];
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
    const back = keep(await loadLayersModel(path.join(dir, 'model.json')));
    expect(predict(back)).toEqual(predict(original));
  });
});

describe('reinitialiseWeights', () => {
  it('is bit-identical for the same seed and differs for another', () => {
    const [a, b, c] = [mlp(), mlp(), mlp()];
    reinitialiseWeights(a, 42);
    reinitialiseWeights(b, 42);
    reinitialiseWeights(c, 43);
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(c)[0]);
    expect(weightsOf(a)[2]).not.toEqual(weightsOf(c)[2]);
  });

  it('draws Glorot-uniform kernels within sqrt(6 / (fan_in + fan_out)) and zero biases', () => {
    const m = mlp();
    reinitialiseWeights(m, 5);
    const [k1, b1, k2, b2] = weightsOf(m) as [Float32Array, Float32Array, Float32Array, Float32Array];
    for (const [k, limit] of [
      [k1, Math.sqrt(6 / (8 + 16))],
      [k2, Math.sqrt(6 / (16 + 3))],
    ] as const) {
      const absMax = Math.max(...Array.from(k, Math.abs));
      expect(absMax).toBeLessThanOrEqual(Math.fround(limit));
      expect(absMax).toBeGreaterThan(0.8 * limit); // actually spans the range
      expect(new Set(k).size).toBe(k.length);
    }
    expect(Array.from(b1)).toEqual(new Array(16).fill(0));
    expect(Array.from(b2)).toEqual(new Array(3).fill(0));
  });

  it('uses receptive-field fans for conv kernels and ones for gamma / moving_variance', async () => {
    const m = keep(
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [6, 6, 2], kernelSize: 3, filters: 4 }),
          tf.layers.batchNormalization(),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      }),
    );
    reinitialiseWeights(m, 9);
    const byName = new Map(m.weights.map((v) => [v.originalName.split('/').pop()!, v.read().dataSync() as Float32Array]));
    const limit = Math.sqrt(6 / (2 * 9 + 4 * 9));
    const kernel = m.weights[0]!.read().dataSync() as Float32Array;
    expect(Math.max(...Array.from(kernel, Math.abs))).toBeLessThanOrEqual(Math.fround(limit));
    expect(Math.max(...Array.from(kernel, Math.abs))).toBeGreaterThan(0.7 * limit);
    expect(Array.from(byName.get('gamma')!)).toEqual([1, 1, 1, 1]);
    expect(Array.from(byName.get('moving_variance')!)).toEqual([1, 1, 1, 1]);
    expect(Array.from(byName.get('beta')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(byName.get('moving_mean')!)).toEqual([0, 0, 0, 0]);

    // A clone reuses the layer names, so tfjs suffixes its variable names ("gamma_1"): still ones.
    const clone = keep(await cloneArchitecture({ modelTopology: m.toJSON(null, false) as {} }, 9));
    expect(clone.weights.some((v) => v.name !== v.originalName)).toBe(true);
    expect(weightsOf(clone)).toEqual(weightsOf(m));
  });
});

describe('cloneArchitecture', () => {
  it('keeps the shapes, ignores the stored weights and is seeded', async () => {
    const art = await readLayersModelArtifacts(savedJson);
    const a = keep(await cloneArchitecture(art, 3));
    const b = keep(await cloneArchitecture(art, 3));
    const c = keep(await cloneArchitecture(art, 4));
    expect(a.getWeights().map((w) => w.shape)).toEqual(original.getWeights().map((w) => w.shape));
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(original)[0]);
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(c)[0]);
    expect(outputsProbabilities(a)).toBe(true);
  });

  it('rejects artifacts without a JSON topology', async () => {
    await inputError(cloneArchitecture({ weightSpecs: [] }, 1));
  });
});

describe('outputsProbabilities', () => {
  it('detects a softmax last layer in its several spellings', async () => {
    expect(outputsProbabilities(mlp('softmax'))).toBe(true);
    expect(outputsProbabilities(mlp('linear'))).toBe(false);
    const dense = () => tf.layers.dense({ inputShape: [8], units: 3 });
    expect(outputsProbabilities(keep(tf.sequential({ layers: [dense(), tf.layers.softmax()] })))).toBe(true);
    expect(outputsProbabilities(keep(tf.sequential({ layers: [dense(), tf.layers.activation({ activation: 'softmax' })] })))).toBe(true);
    expect(outputsProbabilities(keep(tf.sequential({ layers: [dense(), tf.layers.activation({ activation: 'sigmoid' })] })))).toBe(false);
    expect(outputsProbabilities(keep(await loadLayersModel(savedJson)))).toBe(true);
  });
});

describe('user errors', () => {
  async function copyModel(name: string, edit?: (json: Record<string, unknown>) => void, weights = true): Promise<string> {
    const dir = path.join(tmp, name);
    await mkdir(dir, { recursive: true });
    const json = JSON.parse(await readFile(savedJson, 'utf8')) as Record<string, unknown>;
    edit?.(json);
    const file = path.join(dir, 'model.json');
    await writeFile(file, JSON.stringify(json));
    if (weights) await copyFile(path.join(path.dirname(savedJson), 'weights.bin'), path.join(dir, 'weights.bin'));
    return file;
  }

  it('missing model.json', async () => {
    const file = path.join(tmp, 'nope', 'model.json');
    const e = await inputError(loadLayersModel(file));
    expect(e.where.file).toBe(file);
    expect(e.format()).toContain(file);
    expect(e.message).toMatch(/not found.*LayersModel model\.json/);
  });

  it('missing weights file', async () => {
    const file = await copyModel('noweights', undefined, false);
    const e = await inputError(readLayersModelArtifacts(file));
    expect(e.where).toEqual({ file, field: 'weightsManifest[0].paths[0]' });
    expect(e.message).toContain('"weights.bin" not found');
    expect(e.message).toContain(path.join(path.dirname(file), 'weights.bin'));
  });

  it('truncated weights.bin', async () => {
    const file = await copyModel('truncated');
    await truncate(path.join(path.dirname(file), 'weights.bin'), 100);
    const e = await inputError(loadLayersModel(file));
    expect(e.format()).toContain(file);
    expect(e.message).toMatch(/"weights\.bin" hold 100 bytes but the 4 weights listed need 780 bytes/);
  });

  it('a graph model', async () => {
    const file = await copyModel('graph', (j) => {
      j.format = 'graph-model';
      j.modelTopology = { node: [], library: {}, versions: {} };
    });
    const e = await inputError(loadLayersModel(file));
    expect(e.format()).toContain(file);
    expect(e.message).toMatch(/graph model.*expected a LayersModel/);
  });

  it('malformed JSON, no modelTopology, bad manifest', async () => {
    const dir = path.join(tmp, 'bad');
    await mkdir(dir);
    const bad = path.join(dir, 'model.json');
    await writeFile(bad, '{"modelTopology": ');
    expect((await inputError(readLayersModelArtifacts(bad))).message).toMatch(/not valid JSON/);

    const noTopo = await copyModel('notopo', (j) => delete j.modelTopology);
    expect((await inputError(readLayersModelArtifacts(noTopo))).where.field).toBe('modelTopology');

    const badShape = await copyModel('badshape', (j) => {
      ((j.weightsManifest as tf.io.WeightsManifestConfig)[0]!.weights[1] as { shape: unknown }).shape = [-1];
    });
    expect((await inputError(readLayersModelArtifacts(badShape))).where.field).toBe('weightsManifest[0].weights[1].shape');
  });

  it('a topology tfjs cannot build', async () => {
    const file = await copyModel('unknownlayer', (j) => {
      (j.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers[1]!.class_name = 'MyCustomLayer';
    });
    const e = await inputError(loadLayersModel(file));
    expect(e.message).toMatch(/Unknown layer: MyCustomLayer/);
  });
});
