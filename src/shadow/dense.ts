/**
 * Training of plain dense MLPs (the shadow models' usual architecture) on the WebAssembly kernels
 * of ./kernels.ts instead of tfjs: the same network, initial weights, loss, optimizer, epochs,
 * batch size and seeded shuffle as the tfjs loop in ./mlp.ts, without tfjs's per-step overhead.
 *
 * Semantics kept from the tfjs loop (and Keras): cross-entropy on the softmax output clipped to
 * [1e-7, 1] (no gradient through a clipped probability), or on logits for a model without softmax;
 * mean over the minibatch, the last partial batch kept; Adam as tfjs (ε = 1e-7, bias correction
 * with β^t kept in float32) or SGD; ReLU' = 0 at 0. Arithmetic is float32 except the softmax
 * (float64, rounded once), so the numbers differ from tfjs's in the last bits, not in kind.
 *
 * Deterministic given the initial weights, data and seed; one model at a time per thread (the
 * kernels' memory is this thread's and training is synchronous).
 */
import { seededRng } from '../metrics/bootstrap.ts';
import { instantiateKernels, PAGE, type Kernels } from './kernels.ts';

export type DenseActivation = 'relu' | 'tanh' | 'linear';

export interface DenseSpec {
  /** Input width. */
  dim: number;
  /** Output width of each layer; the last is the number of classes. */
  units: number[];
  /** Activation of each hidden layer (the last layer is linear, followed by the softmax). */
  hidden: DenseActivation[];
  /** True: the model outputs softmax probabilities and the loss clips them (Keras); false: logits. */
  softmaxOutput: boolean;
}

export interface DenseTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  optimizer?: 'adam' | 'sgd';
}

export interface DenseData {
  features: Float32Array;
  labels: Int32Array;
}

/** Per thread: one growable memory and the kernels on it, reused by every model this thread trains. */
let memory: WebAssembly.Memory | undefined;
let kernels: Kernels | undefined;

class Arena {
  private top = 64; // 0 stays free: a 0 bias pointer means "no bias"
  alloc(floats: number): number {
    const at = this.top;
    this.top += Math.ceil((floats * 4) / 16) * 16;
    return at;
  }
  /** Grow the thread's memory to hold everything allocated; returns fresh views. */
  commit(): { k: Kernels; f32: Float32Array; i32: Int32Array } {
    const pages = Math.ceil(this.top / PAGE) + 1;
    if (!memory) {
      memory = new WebAssembly.Memory({ initial: pages });
      kernels = instantiateKernels(memory);
    } else if (memory.buffer.byteLength < pages * PAGE) {
      memory.grow(pages - memory.buffer.byteLength / PAGE);
    }
    return { k: kernels!, f32: new Float32Array(memory.buffer), i32: new Int32Array(memory.buffer) };
  }
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;
/** Rows scored at a time when predicting. */
const PREDICT_ROWS = 256;
/** Inputs with at most this share of nonzeros go through the sparse kernels (same results, fewer terms). */
const SPARSE_BELOW = 0.5;

function checkSpec(spec: DenseSpec, weights: readonly Float32Array[]): void {
  if (spec.units.length < 1 || spec.hidden.length !== spec.units.length - 1) throw new Error('a dense MLP needs ≥ 1 layer and one activation per hidden layer');
  if (weights.length !== 2 * spec.units.length) throw new Error(`expected ${String(2 * spec.units.length)} weight arrays (kernel, bias per layer), got ${String(weights.length)}`);
  let inW = spec.dim;
  spec.units.forEach((out, l) => {
    if (weights[2 * l]!.length !== inW * out || weights[2 * l + 1]!.length !== out) throw new Error(`layer ${String(l)}: kernel ${String(inW)}×${String(out)} and bias ${String(out)} expected`);
    inW = out;
  });
}

/** Input rows as sparse lists: byte offsets of the first layer's kernel rows and their values. */
interface Csr {
  start: Int32Array;
  off: Int32Array;
  val: Float32Array;
}

function toCsr(features: Float32Array, n: number, dim: number, rowBytes: number): Csr {
  const start = new Int32Array(n + 1);
  let nnz = 0;
  for (let i = 0; i < n * dim; i++) if (features[i] !== 0) nnz++;
  const off = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let p = 0; p < dim; p++) {
      const v = features[row + p]!;
      if (v !== 0) {
        off[e] = p * rowBytes;
        val[e++] = v;
      }
    }
    start[i + 1] = e;
  }
  return { start, off, val };
}

function density(features: Float32Array): number {
  let nnz = 0;
  for (let i = 0; i < features.length; i++) if (features[i] !== 0) nnz++;
  return features.length ? nnz / features.length : 1;
}

/**
 * The network laid out in wasm memory: parameters (kernels padded to 4 columns, zero padding that
 * stays zero: its gradients are zero), gradients, Adam moments, activations and input buffers.
 */
class Net {
  readonly spec: DenseSpec;
  readonly rows: number;
  readonly inW: number[];
  readonly outP: number[];
  readonly W: number[] = [];
  readonly b: number[] = [];
  readonly gW: number[] = [];
  readonly gb: number[] = [];
  readonly WT: number[] = [];
  readonly H: number[] = [];
  readonly dZ: number[] = [];
  readonly P: number;
  readonly G: number;
  readonly M: number;
  readonly V: number;
  readonly paramFloats: number;
  readonly X: number;
  readonly off: number;
  readonly val: number;
  readonly start: number;
  k: Kernels;
  f32: Float32Array;
  i32: Int32Array;

  constructor(spec: DenseSpec, rows: number, maxNnz: number) {
    this.spec = spec;
    this.rows = rows;
    const L = spec.units.length;
    this.outP = spec.units.map(pad4);
    this.inW = spec.units.map((_, l) => (l === 0 ? spec.dim : this.outP[l - 1]!));
    const sizes: number[] = [];
    for (let l = 0; l < L; l++) sizes.push(this.inW[l]! * this.outP[l]!, this.outP[l]!);
    this.paramFloats = sizes.reduce((a, s) => a + s, 0);
    const arena = new Arena();
    this.P = arena.alloc(this.paramFloats);
    this.G = arena.alloc(this.paramFloats);
    this.M = arena.alloc(this.paramFloats);
    this.V = arena.alloc(this.paramFloats);
    let o = 0;
    for (let l = 0; l < L; l++) {
      this.W.push(this.P + o * 4);
      this.gW.push(this.G + o * 4);
      o += sizes[2 * l]!;
      this.b.push(this.P + o * 4);
      this.gb.push(this.G + o * 4);
      o += sizes[2 * l + 1]!;
      this.WT.push(l === 0 ? 0 : arena.alloc(this.outP[l]! * this.inW[l]!));
      this.H.push(arena.alloc(rows * this.outP[l]!));
      this.dZ.push(arena.alloc(rows * this.outP[l]!));
    }
    this.X = arena.alloc(rows * spec.dim);
    this.off = arena.alloc(maxNnz);
    this.val = arena.alloc(maxNnz);
    this.start = arena.alloc(rows + 1);
    ({ k: this.k, f32: this.f32, i32: this.i32 } = arena.commit());
  }

  load(weights: readonly Float32Array[]): void {
    const { f32 } = this;
    f32.fill(0, this.P / 4, this.P / 4 + 4 * this.paramFloats); // P, G, M, V are contiguous
    this.spec.units.forEach((out, l) => {
      const inW = l === 0 ? this.spec.dim : this.spec.units[l - 1]!;
      const w = weights[2 * l]!;
      const base = this.W[l]! / 4;
      for (let r = 0; r < inW; r++) f32.set(w.subarray(r * out, (r + 1) * out), base + r * this.outP[l]!);
      f32.set(weights[2 * l + 1]!, this.b[l]! / 4);
    });
  }

  weights(): Float32Array[] {
    return this.spec.units.flatMap((out, l) => {
      const inW = l === 0 ? this.spec.dim : this.spec.units[l - 1]!;
      const w = new Float32Array(inW * out);
      const base = this.W[l]! / 4;
      for (let r = 0; r < inW; r++) w.set(this.f32.subarray(base + r * this.outP[l]!, base + r * this.outP[l]! + out), r * out);
      return [w, this.f32.slice(this.b[l]! / 4, this.b[l]! / 4 + out)];
    });
  }

  /** Forward pass of m rows already in X (dense) or off/val/start (sparse); logits end in H[L-1]. */
  forward(m: number, sparse: boolean): void {
    const { k, spec } = this;
    const L = spec.units.length;
    for (let l = 0; l < L; l++) {
      const act = l < L - 1 ? spec.hidden[l]! : 'linear';
      const relu = act === 'relu' ? 1 : 0;
      const nB = this.outP[l]! * 4;
      if (l === 0 && sparse) k.spmm(this.off, this.val, this.start, this.W[0]!, this.H[0]!, this.b[0]!, m, nB, nB, relu);
      else {
        const a = l === 0 ? this.X : this.H[l - 1]!;
        k.gemm(a, this.W[l]!, this.H[l]!, this.b[l]!, m, this.inW[l]!, nB, this.inW[l]! * 4, nB, nB, relu);
      }
      if (act === 'tanh') {
        const h = this.f32.subarray(this.H[l]! / 4, this.H[l]! / 4 + m * this.outP[l]!);
        for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]!);
      }
    }
  }

  /**
   * Loss gradient at the logits, written to dZ[L-1]: (softmax − onehot) / m per row, zero for a
   * row whose clipped true-class probability is below 1e-7 (softmaxOutput) — the gradient of
   * Keras's clipped categorical cross-entropy through the softmax.
   */
  lossGradient(m: number, labels: Int32Array): void {
    const L = this.spec.units.length;
    const C = this.spec.units[L - 1]!;
    const CP = this.outP[L - 1]!;
    const z = this.f32;
    const zo = this.H[L - 1]! / 4;
    const d = this.dZ[L - 1]! / 4;
    const e = new Float64Array(C);
    for (let i = 0; i < m; i++) {
      const row = zo + i * CP;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, z[row + c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += e[c] = Math.exp(z[row + c]! - max);
      const y = labels[i]!;
      const out = d + i * CP;
      const live = !this.spec.softmaxOutput || Math.fround(e[y]! / sum) >= 1e-7;
      for (let c = 0; c < CP; c++) z[out + c] = live && c < C ? (Math.fround(e[c]! / sum) - (c === y ? 1 : 0)) / m : 0;
    }
  }

  backward(m: number, sparse: boolean): void {
    const { k, spec, f32 } = this;
    const L = spec.units.length;
    for (let l = L - 1; l >= 0; l--) {
      const nB = this.outP[l]! * 4;
      if (l === 0 && sparse) {
        f32.fill(0, this.gW[0]! / 4, this.gW[0]! / 4 + this.inW[0]! * this.outP[0]!);
        k.spmmTN(this.off, this.val, this.start, this.dZ[0]!, this.gW[0]!, m, nB, nB);
      } else {
        const x = l === 0 ? this.X : this.H[l - 1]!;
        k.gemmTN(x, this.dZ[l]!, this.gW[l]!, m, this.inW[l]!, nB, this.inW[l]! * 4, nB, nB);
      }
      k.colSum(this.dZ[l]!, this.gb[l]!, m, nB, nB);
      if (l === 0) break;
      // dH[l-1] = dZ[l] · W[l]ᵀ, through an explicit transpose so the product is row-major again.
      const inW = this.inW[l]!;
      const outP = this.outP[l]!;
      const w = this.W[l]! / 4;
      const wt = this.WT[l]! / 4;
      for (let r = 0; r < inW; r++) for (let c = 0; c < outP; c++) f32[wt + c * inW + r] = f32[w + r * outP + c]!;
      k.gemm(this.dZ[l]!, this.WT[l]!, this.dZ[l - 1]!, 0, m, outP, inW * 4, nB, inW * 4, inW * 4, 0);
      const act = spec.hidden[l - 1]!;
      if (act === 'relu') k.maskPositive(this.dZ[l - 1]!, this.H[l - 1]!, m * inW * 4);
      else if (act === 'tanh') {
        const h = this.H[l - 1]! / 4;
        const dz = this.dZ[l - 1]! / 4;
        for (let i = 0; i < m * inW; i++) f32[dz + i] = f32[dz + i]! * (1 - f32[h + i]! * f32[h + i]!);
      }
    }
  }
}

/** Uniform index in [0, i] from one 32-bit draw, as ⌊r·(i+1)/2³²⌋ (exact: the tfjs loop's BigInt formula). */
function draw(r: number, i: number): number {
  return i < 1 << 21 ? Math.floor((r * (i + 1)) / 4294967296) : Number((BigInt(r) * BigInt(i + 1)) >> 32n);
}

export interface DenseModel {
  weights: Float32Array[];
}

/**
 * Train in place from `init` (kernel [in × out] and bias per layer, e.g. a tfjs model's seeded
 * initial weights); returns the trained weights in the same layout.
 */
export function trainDense(spec: DenseSpec, init: readonly Float32Array[], data: DenseData, opts: DenseTraining, force?: 'dense' | 'sparse'): Float32Array[] {
  checkSpec(spec, init);
  const { dim } = spec;
  const { features, labels } = data;
  const n = labels.length;
  const bs = Math.min(opts.batchSize, n);
  const sparse = force ? force === 'sparse' : density(features) <= SPARSE_BELOW;
  const rowBytes = pad4(spec.units[0]!) * 4;
  const csr = sparse ? toCsr(features, n, dim, rowBytes) : undefined;
  let maxNnz = 0;
  if (csr) for (let i = 0; i < n; i++) maxNnz = Math.max(maxNnz, csr.start[i + 1]! - csr.start[i]!);
  const net = new Net(spec, bs, maxNnz * bs);
  net.load(init);
  const { k, f32, i32 } = net;

  const rng = seededRng(opts.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const yb = new Int32Array(bs);
  const adam = opts.optimizer !== 'sgd';
  const b1 = 0.9;
  const b2 = 0.999;
  let accB1 = Math.fround(b1);
  let accB2 = Math.fround(b2);
  const negLr = -opts.learningRate;
  const nB = net.paramFloats * 4;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = draw(rng.unsafeNext() >>> 0, i);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let s = 0; s < n; s += bs) {
      const m = Math.min(bs, n - s);
      if (csr) {
        let e = 0;
        for (let r = 0; r < m; r++) {
          const src = order[s + r]!;
          const a = csr.start[src]!;
          const z = csr.start[src + 1]!;
          i32[net.start / 4 + r] = e * 4;
          i32.set(csr.off.subarray(a, z), net.off / 4 + e);
          f32.set(csr.val.subarray(a, z), net.val / 4 + e);
          e += z - a;
          yb[r] = labels[src]!;
        }
        i32[net.start / 4 + m] = e * 4;
      } else {
        for (let r = 0; r < m; r++) {
          const src = order[s + r]!;
          f32.set(features.subarray(src * dim, (src + 1) * dim), net.X / 4 + r * dim);
          yb[r] = labels[src]!;
        }
      }
      net.forward(m, sparse);
      net.lossGradient(m, yb);
      net.backward(m, sparse);
      if (adam) {
        k.adam(net.P, net.G, net.M, net.V, nB, b1, 1 - b1, b2, 1 - b2, Math.fround(1 - accB1), Math.fround(1 - accB2), 1e-7, negLr);
        accB1 = Math.fround(accB1 * Math.fround(b1));
        accB2 = Math.fround(accB2 * Math.fround(b2));
      } else k.sgd(net.P, net.G, nB, negLr);
    }
  }
  return net.weights();
}

/** n × classes softmax probabilities of a dense MLP with these weights. */
export function predictDense(spec: DenseSpec, weights: readonly Float32Array[], features: Float32Array, n: number): Float32Array {
  checkSpec(spec, weights);
  const { dim } = spec;
  if (features.length !== n * dim) throw new Error(`features has ${String(features.length)} values, expected ${String(n)} × ${String(dim)}`);
  const rows = Math.max(1, Math.min(PREDICT_ROWS, n));
  const net = new Net(spec, rows, 0);
  net.load(weights);
  const L = spec.units.length;
  const C = spec.units[L - 1]!;
  const CP = net.outP[L - 1]!;
  const out = new Float32Array(n * C);
  const e = new Float64Array(C);
  for (let s = 0; s < n; s += rows) {
    const m = Math.min(rows, n - s);
    net.f32.set(features.subarray(s * dim, (s + m) * dim), net.X / 4);
    net.forward(m, false);
    const z = net.f32;
    for (let i = 0; i < m; i++) {
      const row = net.H[L - 1]! / 4 + i * CP;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, z[row + c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += e[c] = Math.exp(z[row + c]! - max);
      for (let c = 0; c < C; c++) out[(s + i) * C + c] = e[c]! / sum;
    }
  }
  return out;
}
