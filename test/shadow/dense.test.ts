/**
 * The WebAssembly kernels and the dense-MLP trainer built on them: each kernel against a scalar
 * float32 reference (bit for bit), training against tfjs's own loop (same init, shuffle, loss and
 * optimizer: the same weights up to float rounding), sparse = dense, and determinism.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { trainDense, predictDense, type DenseSpec } from '../../src/shadow/dense.ts';
import { instantiateKernels, kernelModuleBytes } from '../../src/shadow/kernels.ts';
import { denseSpecOf, trainLayersModel, trainMlp, useBackend } from '../../src/shadow/mlp.ts';
import { makePurchase } from '../../src/shadow/purchase.ts';

const f = Math.fround;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296 - 0.5;
  };
}

describe('wasm kernels', () => {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const k = instantiateKernels(memory);
  const F = new Float32Array(memory.buffer);
  const I = new Int32Array(memory.buffer);
  let top = 64;
  const alloc = (floats: number) => {
    const at = top;
    top += Math.ceil(floats / 4) * 16;
    return at;
  };
  const put = (a: ArrayLike<number>) => {
    const at = alloc(a.length);
    F.set(a, at / 4);
    return at;
  };
  const read = (at: number, n: number) => Array.from(F.subarray(at / 4, at / 4 + n));
  const r = rng(5);
  // Odd row and reduction counts (the 2-row / 2-column tiles' remainders), 20 columns = one
  // 16-wide block and one 4-wide vector.
  const m = 7;
  const kk = 13;
  const n = 20;
  const a = Array.from({ length: m * kk }, () => (r() < -0.2 ? 0 : r())); // ~30% zeros
  const b = Array.from({ length: kk * n }, r);
  const bias = Array.from({ length: n }, r);
  const A = put(a);
  const B = put(b);
  const BIAS = put(bias);
  /** A in CSR, in kernel memory: byte offsets of B's rows, values, and row starts in bytes. */
  const csrOfA = () => {
    const off: number[] = [];
    const val: number[] = [];
    const start = [0];
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < kk; p++) if (a[i * kk + p] !== 0) (off.push(p * n * 4), val.push(a[i * kk + p]!));
      start.push(off.length * 4);
    }
    const OFF = alloc(off.length);
    I.set(off, OFF / 4);
    const START = alloc(start.length);
    I.set(start, START / 4);
    return { OFF, VAL: put(val), START };
  };

  it('validate as a module', () => {
    expect(WebAssembly.validate(kernelModuleBytes())).toBe(true);
  });

  it('gemm = Σ_p in ascending order with bias and ReLU; spmm on the nonzeros gives the same bits', () => {
    const C = alloc(m * n);
    k.gemm(A, B, C, BIAS, m, kk, n * 4, kk * 4, n * 4, n * 4, 1);
    const want: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = f(bias[j]!);
        for (let p = 0; p < kk; p++) acc = f(acc + f(f(a[i * kk + p]!) * f(b[p * n + j]!)));
        want.push(Math.max(acc, 0));
      }
    expect(read(C, m * n)).toEqual(want);
    const { OFF, VAL, START } = csrOfA();
    const C2 = alloc(m * n);
    k.spmm(OFF, VAL, START, B, C2, BIAS, m, n * 4, n * 4, 1);
    expect(read(C2, m * n)).toEqual(want);
  });

  it('gemmTN = Σ_i in ascending order; spmmTN the same bits; colSum; maskPositive', () => {
    const dy = Array.from({ length: m * n }, r);
    const DY = put(dy);
    const DW = alloc(kk * n);
    k.gemmTN(A, DY, DW, m, kk, n * 4, kk * 4, n * 4, n * 4);
    const want: number[] = [];
    for (let p = 0; p < kk; p++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let i = 0; i < m; i++) acc = f(acc + f(f(a[i * kk + p]!) * f(dy[i * n + j]!)));
        want.push(acc);
      }
    expect(read(DW, kk * n)).toEqual(want);
    const { OFF, VAL, START } = csrOfA();
    const DW2 = put(new Array<number>(kk * n).fill(0));
    k.spmmTN(OFF, VAL, START, DY, DW2, m, n * 4, n * 4);
    expect(read(DW2, kk * n)).toEqual(want);

    const DB = alloc(n);
    k.colSum(DY, DB, m, n * 4, n * 4);
    expect(read(DB, n)).toEqual(Array.from({ length: n }, (_, j) => dy.reduce((s, _v, i) => (i % n === j ? f(s + f(dy[i]!)) : s), 0)));

    const d = put(dy);
    const h = put(Array.from({ length: m * n }, (_, i) => (i % 3 === 0 ? 0 : r())));
    const hv = read(h, m * n);
    k.maskPositive(d, h, m * n * 4);
    expect(read(d, m * n)).toEqual(dy.map((x, i) => (hv[i]! > 0 ? f(x) : 0)));
  });

  it("adam follows tfjs's formula and operation order in float32", () => {
    const cnt = 12;
    const w = Array.from({ length: cnt }, r);
    const g = Array.from({ length: cnt }, r);
    const mm = Array.from({ length: cnt }, () => r() * 0.1);
    const vv = Array.from({ length: cnt }, () => Math.abs(r()) * 0.01);
    const W = put(w);
    const M = put(mm);
    const V = put(vv);
    const [b1, b2, c1, c2, eps, lr] = [0.9, 0.999, f(1 - f(0.9 ** 3)), f(1 - f(0.999 ** 3)), 1e-7, 0.001];
    k.adam(W, put(g), M, V, cnt * 4, b1, 1 - b1, b2, 1 - b2, c1, c2, eps, -lr);
    const want = w.map((x, i) => {
      const m1 = f(f(f(mm[i]!) * f(b1)) + f(f(g[i]!) * f(1 - b1)));
      const v1 = f(f(f(vv[i]!) * f(b2)) + f(f(f(g[i]!) * f(g[i]!)) * f(1 - b2)));
      return f(f(f(f(m1 / f(c1)) / f(f(Math.sqrt(f(v1 / f(c2)))) + f(eps))) * f(-lr)) + f(x));
    });
    expect(read(W, cnt)).toEqual(want);
  });
});

describe('trainDense', () => {
  const d = makePurchase({ n: 40, features: 12, classes: 5, seed: 9 });
  const data = { ...d };

  it('trains to the weights of tfjs’s loop (same init, shuffle, clipped loss, Adam / SGD, partial last batch), up to float rounding', async () => {
    await useBackend('wasm');
    for (const o of [
      { layers: [8], activation: 'relu' as const, optimizer: 'adam' as const },
      { layers: [8, 6], activation: 'tanh' as const, optimizer: 'sgd' as const },
    ]) {
      const opts = { ...o, epochs: 3, batchSize: 16, learningRate: 0.01, seed: 4 };
      const ours = await trainMlp(data, opts);
      const theirs = await trainMlp(data, { ...opts, trainer: 'tfjs' });
      const a = ours.weights().flatMap((w) => w.values);
      const b = theirs.weights().flatMap((w) => w.values);
      const init = (await trainMlp(data, { ...opts, epochs: 0 })).weights().flatMap((w) => w.values);
      expect(a.length).toBe(b.length);
      // Training moved the weights, and both loops moved them alike.
      expect(Math.max(...a.map((x, i) => Math.abs(x - init[i]!)))).toBeGreaterThan(1e-3);
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);
      ours.dispose();
      theirs.dispose();
    }
  });

  it('trains a logits model (no softmax layer) like tfjs’s softmaxCrossEntropy loop', async () => {
    await useBackend('wasm');
    const build = () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ units: 8, activation: 'relu', inputShape: [12], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        ],
      });
    expect(denseSpecOf(build(), false, 12, 5)).toEqual({ dim: 12, units: [8, 5], hidden: ['relu'], softmaxOutput: false });
    const opts = { epochs: 2, batchSize: 16, learningRate: 0.01, seed: 2 };
    const a = (await trainLayersModel(build(), false, data, opts)).weights().flatMap((w) => w.values);
    const b = (await trainLayersModel(build(), false, data, { ...opts, trainer: 'tfjs' })).weights().flatMap((w) => w.values);
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);
    // Not a plain dense stack: tfjs's loop trains it.
    const withDropout = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [12] }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 5, activation: 'softmax' })] });
    expect(denseSpecOf(withDropout, true, 12, 5)).toBeUndefined();
  });

  it('gives the same bits through the sparse and the dense kernels, run after run, whatever was trained in between', () => {
    const big = makePurchase({ n: 150, features: 30, classes: 6, seed: 1 });
    const spec: DenseSpec = { dim: 30, units: [20, 6], hidden: ['relu'], softmaxOutput: true };
    const r = rng(8);
    const init = [Float32Array.from({ length: 600 }, () => r() * 0.4), new Float32Array(20), Float32Array.from({ length: 120 }, () => r() * 0.4), new Float32Array(6)];
    const opts = { epochs: 2, batchSize: 32, learningRate: 0.01, seed: 3 };
    const s = trainDense(spec, init, big, opts, 'sparse');
    // Another network in between (other sizes in the same thread's memory).
    trainDense({ dim: 12, units: [5], hidden: [], softmaxOutput: true }, [new Float32Array(60), new Float32Array(5)], data, { ...opts, epochs: 1 });
    const dn = trainDense(spec, init, big, opts, 'dense');
    const again = trainDense(spec, init, big, opts);
    expect(s).toEqual(dn);
    expect(again).toEqual(s);
    expect(trainDense(spec, init, big, { ...opts, seed: 4 })).not.toEqual(s);
    const p = predictDense(spec, s, big.features, 150);
    for (let i = 0; i < 150; i++) expect(p.subarray(i * 6, i * 6 + 6).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });
});
