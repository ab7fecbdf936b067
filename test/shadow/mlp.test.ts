/**
 * Synthetic Purchase-100-like data and the tfjs (wasm) MLP used for shadow models: determinism,
 * an overfit gap between training and fresh records, and a weights round trip.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendFallbackNote, TrainedMlp, trainMlp, type MlpData } from '../../src/shadow/mlp.ts';
import { makePurchase } from '../../src/shadow/purchase.ts';

const D = 600;
const C = 100;

function slice(d: { features: Float32Array; labels: Int32Array }, from: number, to: number, dim: number, classes: number): MlpData {
  return { features: d.features.slice(from * dim, to * dim), labels: d.labels.slice(from, to), dim, classes };
}

function meanTrueConfidence(m: TrainedMlp, d: MlpData): number {
  const p = m.predict(d.features, d.labels.length);
  let s = 0;
  d.labels.forEach((y, i) => (s += p[i * d.classes + y]!));
  return s / d.labels.length;
}

describe('makePurchase', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = makePurchase({ n: 200, seed: 3 });
    const b = makePurchase({ n: 200, seed: 3 });
    const c = makePurchase({ n: 200, seed: 4 });
    expect(a.features.length).toBe(200 * D);
    expect(a.labels.length).toBe(200);
    expect(a.dim).toBe(D);
    expect(a.classes).toBe(C);
    expect(a.features).toEqual(b.features);
    expect(a.labels).toEqual(b.labels);
    expect(a.features).not.toEqual(c.features);
    expect(a.features.every((v) => v === 0 || v === 1)).toBe(true);
    expect(a.labels.every((y) => y >= 0 && y < C)).toBe(true);
    // A prefix of a larger draw is the smaller draw.
    const big = makePurchase({ n: 300, seed: 3 });
    expect(big.features.subarray(0, 200 * D)).toEqual(a.features);
    const small = makePurchase({ n: 50, features: 20, classes: 5, seed: 1 });
    expect(small.features.length).toBe(1000);
    expect(small.labels.every((y) => y < 5)).toBe(true);
  });
});

describe('trainMlp', () => {
  const opts = { layers: [32, 16], epochs: 3, batchSize: 32, learningRate: 1e-3 };
  const small = makePurchase({ n: 200, features: 60, classes: 10, seed: 11 });
  const data: MlpData = { ...small };

  it('uses the wasm backend', async () => {
    const m = await trainMlp(data, { ...opts, epochs: 1, seed: 1 });
    m.dispose();
    expect(backendFallbackNote()).toBeUndefined();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('is deterministic per seed, and the seed matters', async () => {
    const before = tf.memory().numTensors;
    const a = await trainMlp(data, { ...opts, seed: 5 });
    const b = await trainMlp(data, { ...opts, seed: 5 });
    const c = await trainMlp(data, { ...opts, seed: 6 });
    const wa = a.weights();
    expect(wa.map((w) => w.shape)).toEqual([[60, 32], [32], [32, 16], [16], [16, 10], [10]]);
    expect(b.weights()).toEqual(wa);
    expect(c.weights()).not.toEqual(wa);
    const p = a.predict(data.features, 200);
    expect(p.length).toBe(200 * 10);
    for (let i = 0; i < 200; i++) expect(p.subarray(i * 10, i * 10 + 10).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    a.dispose();
    b.dispose();
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => a.predict(data.features, 200)).toThrow(/dispose/);
  });

  it('rejects malformed input', async () => {
    await expect(trainMlp({ ...data, dim: 61 }, { ...opts, seed: 1 })).rejects.toThrow(/expected n × dim/);
    await expect(trainMlp({ ...data, classes: 3 }, { ...opts, seed: 1 })).rejects.toThrow(/outside/);
  });
});

describe('overfitting on Purchase-like data (500 records, D=600, C=100, [256, 128])', () => {
  let model: TrainedMlp;
  let train: MlpData;
  let fresh: MlpData;
  beforeAll(async () => {
    const all = makePurchase({ n: 1000, seed: 2024 });
    train = slice(all, 0, 500, D, C);
    fresh = slice(all, 500, 1000, D, C);
    model = await trainMlp(train, { layers: [256, 128], epochs: 40, batchSize: 64, learningRate: 1e-3, seed: 1 });
  });
  afterAll(() => model.dispose());

  it('is much more confident on its training records than on fresh ones', () => {
    const inTrain = meanTrueConfidence(model, train);
    const outTrain = meanTrueConfidence(model, fresh);
    // Measured (seeds 1, 2): about 0.995 vs 0.20.
    expect(inTrain).toBeGreaterThan(0.8);
    expect(outTrain).toBeLessThan(0.4);
    expect(inTrain - outTrain).toBeGreaterThan(0.5);
  });

  it('fromWeights(weights()) predicts identically, also through JSON', async () => {
    const w = model.weights();
    const back = await TrainedMlp.fromWeights(JSON.parse(JSON.stringify(w)) as typeof w);
    expect(back.dim).toBe(D);
    expect(back.classes).toBe(C);
    expect(back.layers).toEqual([256, 128]);
    expect(back.predict(fresh.features, 500)).toEqual(model.predict(fresh.features, 500));
    expect(back.weights()).toEqual(w);
    back.dispose();
  });

  it('fromWeights rejects inconsistent shapes', async () => {
    await expect(TrainedMlp.fromWeights([{ shape: [3, 2], values: [0, 0, 0, 0, 0, 0] }, { shape: [3], values: [0, 0, 0] }])).rejects.toThrow(
      /kernel \[in, out\]/,
    );
  });
});

describe('training a cloned topology with Dropout and BatchNormalization', () => {
  it('trains in training mode, reproducibly: same seed same weights, another seed other weights; Math.random restored', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { cloneArchitecture, outputsProbabilities } = await import('../../src/models/tfjs-io.ts');
    const { trainLayersModel, useBackend } = await import('../../src/shadow/mlp.ts');
    const { makePurchase } = await import('../../src/shadow/purchase.ts');
    await useBackend('wasm');
    const src = tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, activation: 'relu', inputShape: [30] }),
        tf.layers.batchNormalization(),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 5, activation: 'softmax' }),
      ],
    });
    const topology = src.toJSON(null, false) as object;
    const data = makePurchase({ n: 120, features: 30, classes: 5, seed: 2 });
    const random = Math.random;
    const train = async (seed: number) => {
      const m = await cloneArchitecture({ modelTopology: topology }, seed);
      const t = await trainLayersModel(m, outputsProbabilities(m), data, { epochs: 3, batchSize: 16, learningRate: 0.01, seed });
      return t.weights().flatMap((w) => w.values);
    };
    const a = await train(1);
    const b = await train(1);
    const c = await train(2);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Math.random).toBe(random);
    // Training mode: BatchNormalization's moving statistics moved off their initial 0 / 1.
    const m = await cloneArchitecture({ modelTopology: topology }, 1);
    const t = await trainLayersModel(m, true, data, { epochs: 1, batchSize: 16, learningRate: 0.01, seed: 1 });
    const bn = t.layersModel.layers[1]!.getWeights().map((w) => Array.from(w.dataSync()));
    expect(bn[2]!.some((v) => v !== 0)).toBe(true); // moving mean
    src.dispose();
  });
});
