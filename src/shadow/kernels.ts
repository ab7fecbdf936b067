/**
 * Hand-written WebAssembly SIMD kernels for training small dense MLPs (the shadow models).
 *
 * Why: tfjs pays about a millisecond of engine bookkeeping per training step (tensor creation,
 * gradient tape, tidy, kernel dispatch) on top of the arithmetic, which is what made shadow training
 * 0.28× PyTorch per thread (profile in README "Performance"). These kernels do the same arithmetic
 * with no per-step overhead. The module is assembled here from bytes (no build step, no dependency)
 * and compiled once per thread.
 *
 * Every product is vectorised over output columns (4 floats per v128) and accumulates over the
 * reduction index in ascending order, so a row's result never depends on how many rows are
 * computed together, and skipping zero inputs (the sparse kernels) adds the same terms in the same
 * order as the dense kernels. Pointers and strides are byte offsets; column counts are multiples
 * of 4 (callers pad).
 */

// --- a minimal WebAssembly binary encoder ---------------------------------------------------------

type Bytes = number[];

function u32(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function s32(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: Bytes[]): Bytes => [...u32(items.length), ...items.flat()];
const str = (s: string): Bytes => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Instructions (the few the kernels need).
const get = (i: number): Bytes => [0x20, ...u32(i)];
const set = (i: number): Bytes => [0x21, ...u32(i)];
const i32c = (v: number): Bytes => [0x41, ...s32(v)];
const ADD = [0x6a];
const MUL = [0x6c];
const AND = [0x71];
const LT_S = [0x48];
const GE_S = [0x4e];
const NE = [0x47];
const f32Load = (off = 0): Bytes => [0x2a, 2, ...u32(off)];
const i32Load = (off = 0): Bytes => [0x28, 2, ...u32(off)];
const simd = (op: number): Bytes => [0xfd, ...u32(op)];
const vLoad = (off = 0): Bytes => [...simd(0x00), 0, ...u32(off)];
const vStore = (off = 0): Bytes => [...simd(0x0b), 0, ...u32(off)];
const V_ZERO: Bytes = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const SPLAT = simd(0x13);
const V_AND = simd(0x4e);
const F4_GT = simd(0x44);
const F4_SQRT = simd(0xe3);
const F4_ADD = simd(0xe4);
const F4_MUL = simd(0xe6);
const F4_DIV = simd(0xe7);
const F4_MAX = simd(0xe9);

const block = (...body: Bytes[]): Bytes => [0x02, 0x40, ...body.flat(), 0x0b];
const loop = (...body: Bytes[]): Bytes => [0x03, 0x40, ...body.flat(), 0x0b];
/** if (cond) then else otherwise; `cond` pushes an i32. */
const ifElse = (cond: Bytes, then: Bytes, otherwise: Bytes = []): Bytes => [...cond, 0x04, 0x40, ...then, ...(otherwise.length ? [0x05, ...otherwise] : []), 0x0b];
const br = (d: number): Bytes => [0x0c, ...u32(d)];
const brIf = (d: number): Bytes => [0x0d, ...u32(d)];
const addTo = (local: number, amount: Bytes): Bytes => [...get(local), ...amount, ...ADD, ...set(local)];

/** while (local < end) { body; local += step }  — `end` and `step` are code that pushes an i32. */
function whileLess(local: number, end: Bytes, step: Bytes, ...body: Bytes[]): Bytes {
  return block(loop(get(local), end, GE_S, brIf(1), ...body, addTo(local, step), br(0)));
}

interface Fn {
  name: string;
  params: number[];
  locals: number[];
  body: Bytes;
}

function moduleBytes(fns: Fn[]): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: Bytes): Bytes => [id, ...u32(content.length), ...content];
  const types = fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const imports = vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...u32(1)]]);
  const funcs = vec(fns.map((_, i) => u32(i)));
  const exports = vec(fns.map((f, i) => [...str(f.name), 0x00, ...u32(i)]));
  const codes = vec(
    fns.map((f) => {
      const body = [...vec(f.locals.map((t) => [1, t])), ...f.body, 0x0b];
      return [...u32(body.length), ...body];
    }),
  );
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}

/** Column blocks: 4 vectors (16 floats) at a time, then single vectors for the rest. */
const WIDE = 4;

/**
 * C[i, :] = bias + Σ_p A[i, p] · B[p, :] (ascending p), optionally ReLU. Dense A. Rows go two at a
 * time (each loaded B vector serves both) — each row's sums are the same either way.
 * (a, b, c, bias|0, m, k, nB, lda, ldb, ldc, relu)
 */
function gemm(): Fn {
  const [A, B, C, BIAS, M, K, NB, LDA, LDB, LDC, RELU] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [I, JB, AP, AEND, BP, AROW, CROW, NBW, M2] = [11, 12, 13, 14, 15, 16, 17, 18, 19];
  const [BV, S0, S1] = [20, 21, 22];
  const ACC = 23; // ACC + r·WIDE + t
  const tile = (rows: number, w: number): Bytes[] => {
    const q = Array.from({ length: w }, (_, t) => t);
    const rs = Array.from({ length: rows }, (_, r) => r);
    const acc = (r: number, t: number) => ACC + r * WIDE + t;
    return [
      ifElse(
        [...get(BIAS), ...i32c(0), ...NE],
        rs.flatMap((r) => q.flatMap((t) => [...get(BIAS), ...get(JB), ...ADD, ...vLoad(16 * t), ...set(acc(r, t))])),
        rs.flatMap((r) => q.flatMap((t) => [...V_ZERO, ...set(acc(r, t))])),
      ),
      get(AROW), set(AP),
      get(AROW), get(K), i32c(4), MUL, ADD, set(AEND),
      get(B), get(JB), ADD, set(BP),
      whileLess(AP, get(AEND), i32c(4),
        get(AP), f32Load(), SPLAT, set(S0),
        rows > 1 ? [...get(AP), ...get(LDA), ...ADD, ...f32Load(), ...SPLAT, ...set(S1)] : [],
        q.flatMap((t) => [
          ...get(BP), ...vLoad(16 * t), ...set(BV),
          ...rs.flatMap((r) => [...get(acc(r, t)), ...get(r ? S1 : S0), ...get(BV), ...F4_MUL, ...F4_ADD, ...set(acc(r, t))]),
        ]),
        addTo(BP, get(LDB)),
      ),
      ifElse(get(RELU), rs.flatMap((r) => q.flatMap((t) => [...get(acc(r, t)), ...V_ZERO, ...F4_MAX, ...set(acc(r, t))]))),
      rs.flatMap((r) =>
        q.flatMap((t) => [...get(CROW), ...(r ? [...get(LDC), ...ADD] : []), ...get(JB), ...ADD, ...get(acc(r, t)), ...vStore(16 * t)]),
      ),
    ];
  };
  const rowBlock = (rows: number): Bytes[] => [
    i32c(0), set(JB),
    whileLess(JB, get(NBW), i32c(16 * WIDE), ...tile(rows, WIDE)),
    whileLess(JB, get(NB), i32c(16), ...tile(rows, 1)),
    addTo(AROW, rows > 1 ? [...get(LDA), ...get(LDA), ...ADD] : get(LDA)),
    addTo(CROW, rows > 1 ? [...get(LDC), ...get(LDC), ...ADD] : get(LDC)),
  ];
  return {
    name: 'gemm',
    params: new Array<number>(11).fill(I32),
    locals: [...new Array<number>(9).fill(I32), V128, V128, V128, ...new Array<number>(2 * WIDE).fill(V128)],
    body: [
      get(NB), i32c(-16 * WIDE), AND, set(NBW),
      get(M), i32c(-2), AND, set(M2),
      get(A), set(AROW), get(C), set(CROW),
      i32c(0), set(I),
      whileLess(I, get(M2), i32c(2), ...rowBlock(2)),
      whileLess(I, get(M), i32c(1), ...rowBlock(1)),
    ].flat(),
  };
}

/**
 * Sparse A in CSR form: C[i, :] = bias + Σ_e val[e] · B[row(e)], e over row i's nonzeros in
 * ascending column order; `off[e]` is the byte offset of that row of B, `start` m + 1 byte
 * offsets into off/val. (off, val, start, b, c, bias|0, m, nB, ldc, relu)
 */
function spmm(): Fn {
  const [OFF, VAL, START, B, C, BIAS, M, NB, LDC, RELU] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [I, JB, E, E1, CROW, NBW, BP, S] = [10, 11, 12, 13, 14, 15, 16, 17];
  const ACC = 18;
  const tile = (w: number): Bytes[] => {
    const q = Array.from({ length: w }, (_, t) => t);
    return [
      ifElse(
        [...get(BIAS), ...i32c(0), ...NE],
        q.flatMap((t) => [...get(BIAS), ...get(JB), ...ADD, ...vLoad(16 * t), ...set(ACC + t)]),
        q.flatMap((t) => [...V_ZERO, ...set(ACC + t)]),
      ),
      get(START), get(I), i32c(4), MUL, ADD, i32Load(), set(E),
      get(START), get(I), i32c(4), MUL, ADD, i32Load(4), set(E1),
      whileLess(E, get(E1), i32c(4),
        get(VAL), get(E), ADD, f32Load(), SPLAT, set(S),
        get(OFF), get(E), ADD, i32Load(), get(B), ADD, get(JB), ADD, set(BP),
        q.flatMap((t) => [...get(ACC + t), ...get(S), ...get(BP), ...vLoad(16 * t), ...F4_MUL, ...F4_ADD, ...set(ACC + t)]),
      ),
      ifElse(get(RELU), q.flatMap((t) => [...get(ACC + t), ...V_ZERO, ...F4_MAX, ...set(ACC + t)])),
      q.flatMap((t) => [...get(CROW), ...get(JB), ...ADD, ...get(ACC + t), ...vStore(16 * t)]),
    ];
  };
  return {
    name: 'spmm',
    params: new Array<number>(10).fill(I32),
    locals: [...new Array<number>(7).fill(I32), V128, ...new Array<number>(WIDE).fill(V128)],
    body: [
      get(NB), i32c(-16 * WIDE), AND, set(NBW),
      get(C), set(CROW),
      i32c(0), set(I),
      whileLess(I, get(M), i32c(1),
        i32c(0), set(JB),
        whileLess(JB, get(NBW), i32c(16 * WIDE), ...tile(WIDE)),
        whileLess(JB, get(NB), i32c(16), ...tile(1)),
        addTo(CROW, get(LDC)),
      ),
    ].flat(),
  };
}

/**
 * dW[p, :] = Σ_i X[i, p] · dY[i, :] (ascending i), for p < k. Dense X. Two p at a time (each
 * loaded dY vector serves both).
 * (x, dy, dw, m, k, nB, ldx, lddy, lddw)
 */
function gemmTN(): Fn {
  const [X, DY, DW, M, K, NB, LDX, LDDY, LDDW] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [P, JB, XP, XEND, YP, WROW, NBW, XCOL, K2] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [YV, S0, S1] = [18, 19, 20];
  const ACC = 21;
  const tile = (cols: number, w: number): Bytes[] => {
    const q = Array.from({ length: w }, (_, t) => t);
    const cs = Array.from({ length: cols }, (_, c) => c);
    const acc = (c: number, t: number) => ACC + c * WIDE + t;
    return [
      cs.flatMap((c) => q.flatMap((t) => [...V_ZERO, ...set(acc(c, t))])),
      get(XCOL), set(XP),
      get(XCOL), get(M), get(LDX), MUL, ADD, set(XEND),
      get(DY), get(JB), ADD, set(YP),
      whileLess(XP, get(XEND), get(LDX),
        get(XP), f32Load(), SPLAT, set(S0),
        cols > 1 ? [...get(XP), ...f32Load(4), ...SPLAT, ...set(S1)] : [],
        q.flatMap((t) => [
          ...get(YP), ...vLoad(16 * t), ...set(YV),
          ...cs.flatMap((c) => [...get(acc(c, t)), ...get(c ? S1 : S0), ...get(YV), ...F4_MUL, ...F4_ADD, ...set(acc(c, t))]),
        ]),
        addTo(YP, get(LDDY)),
      ),
      cs.flatMap((c) =>
        q.flatMap((t) => [...get(WROW), ...(c ? [...get(LDDW), ...ADD] : []), ...get(JB), ...ADD, ...get(acc(c, t)), ...vStore(16 * t)]),
      ),
    ];
  };
  const colBlock = (cols: number): Bytes[] => [
    i32c(0), set(JB),
    whileLess(JB, get(NBW), i32c(16 * WIDE), ...tile(cols, WIDE)),
    whileLess(JB, get(NB), i32c(16), ...tile(cols, 1)),
    addTo(XCOL, i32c(4 * cols)),
    addTo(WROW, cols > 1 ? [...get(LDDW), ...get(LDDW), ...ADD] : get(LDDW)),
  ];
  return {
    name: 'gemmTN',
    params: new Array<number>(9).fill(I32),
    locals: [...new Array<number>(9).fill(I32), V128, V128, V128, ...new Array<number>(2 * WIDE).fill(V128)],
    body: [
      get(NB), i32c(-16 * WIDE), AND, set(NBW),
      get(K), i32c(-2), AND, set(K2),
      get(X), set(XCOL), get(DW), set(WROW),
      i32c(0), set(P),
      whileLess(P, get(K2), i32c(2), ...colBlock(2)),
      whileLess(P, get(K), i32c(1), ...colBlock(1)),
    ].flat(),
  };
}

/**
 * Sparse X (CSR, as spmm): dW[row(e), :] += val[e] · dY[i, :] for i ascending — the same terms in
 * the same order as gemmTN on the dense X, when dW starts at zero. (off, val, start, dy, dw, m, nB, lddy)
 */
function spmmTN(): Fn {
  const [OFF, VAL, START, DY, DW, M, NB, LDDY] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [I, E, E1, YROW, WROW, JB, S] = [8, 9, 10, 11, 12, 13, 14];
  return {
    name: 'spmmTN',
    params: new Array<number>(8).fill(I32),
    locals: [...new Array<number>(6).fill(I32), V128],
    body: [
      get(DY), set(YROW),
      i32c(0), set(I),
      whileLess(I, get(M), i32c(1),
        get(START), get(I), i32c(4), MUL, ADD, i32Load(), set(E),
        get(START), get(I), i32c(4), MUL, ADD, i32Load(4), set(E1),
        whileLess(E, get(E1), i32c(4),
          get(VAL), get(E), ADD, f32Load(), SPLAT, set(S),
          get(OFF), get(E), ADD, i32Load(), get(DW), ADD, set(WROW),
          i32c(0), set(JB),
          whileLess(JB, get(NB), i32c(16),
            get(WROW), get(JB), ADD,
            get(WROW), get(JB), ADD, vLoad(),
            get(S), get(YROW), get(JB), ADD, vLoad(), F4_MUL,
            F4_ADD, vStore(),
          ),
        ),
        addTo(YROW, get(LDDY)),
      ),
    ].flat(),
  };
}

/** db[:] = Σ_i dY[i, :] (ascending i). (dy, db, m, nB, lddy) */
function colSum(): Fn {
  const [DY, DB, M, NB, LDDY] = [0, 1, 2, 3, 4];
  const [JB, YP, YEND, ACC] = [5, 6, 7, 8];
  return {
    name: 'colSum',
    params: new Array<number>(5).fill(I32),
    locals: [I32, I32, I32, V128],
    body: [
      i32c(0), set(JB),
      whileLess(JB, get(NB), i32c(16),
        V_ZERO, set(ACC),
        get(DY), get(JB), ADD, set(YP),
        get(YP), get(M), get(LDDY), MUL, ADD, set(YEND),
        whileLess(YP, get(YEND), get(LDDY), get(ACC), get(YP), vLoad(), F4_ADD, set(ACC)),
        get(DB), get(JB), ADD, get(ACC), vStore(),
      ),
    ].flat(),
  };
}

/** d[x] = h[x] > 0 ? d[x] : 0 over nB bytes: the ReLU derivative (0 at 0, as tfjs). (d, h, nB) */
function maskPositive(): Fn {
  const [D, H, NB] = [0, 1, 2];
  const [O] = [3];
  return {
    name: 'maskPositive',
    params: [I32, I32, I32],
    locals: [I32],
    body: [
      i32c(0), set(O),
      whileLess(O, get(NB), i32c(16),
        get(D), get(O), ADD,
        get(D), get(O), ADD, vLoad(),
        get(H), get(O), ADD, vLoad(), V_ZERO, F4_GT,
        V_AND, vStore(),
      ),
    ].flat(),
  };
}

/**
 * One Adam step over nB bytes of parameters, tfjs's formula and operation order (tfjs-core
 * adam_optimizer.ts): m = m·β1 + g·(1−β1); v = v·β2 + g²·(1−β2);
 * w = ((m / c1) / (sqrt(v / c2) + ε)) · (−lr) + w, with c1 = 1 − β1^t, c2 = 1 − β2^t.
 * (w, g, m, v, nB, b1, omb1, b2, omb2, c1, c2, eps, negLr)
 */
function adam(): Fn {
  const [W, G, MM, VV, NB] = [0, 1, 2, 3, 4];
  const [B1, OMB1, B2, OMB2, C1, C2, EPS, NLR] = [5, 6, 7, 8, 9, 10, 11, 12];
  const [O, GV, MV, VV2] = [13, 14, 15, 16];
  const sp = (i: number): Bytes => [...get(i), ...SPLAT];
  return {
    name: 'adam',
    params: [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32],
    locals: [I32, V128, V128, V128],
    body: [
      i32c(0), set(O),
      whileLess(O, get(NB), i32c(16),
        get(G), get(O), ADD, vLoad(), set(GV),
        get(MM), get(O), ADD, vLoad(), sp(B1), F4_MUL, get(GV), sp(OMB1), F4_MUL, F4_ADD, set(MV),
        get(VV), get(O), ADD, vLoad(), sp(B2), F4_MUL, get(GV), get(GV), F4_MUL, sp(OMB2), F4_MUL, F4_ADD, set(VV2),
        get(MM), get(O), ADD, get(MV), vStore(),
        get(VV), get(O), ADD, get(VV2), vStore(),
        get(W), get(O), ADD,
        get(MV), sp(C1), F4_DIV,
        get(VV2), sp(C2), F4_DIV, F4_SQRT, sp(EPS), F4_ADD,
        F4_DIV, sp(NLR), F4_MUL,
        get(W), get(O), ADD, vLoad(), F4_ADD,
        vStore(),
      ),
    ].flat(),
  };
}

/** w = g · (−lr) + w over nB bytes (tfjs's SGD). (w, g, nB, negLr) */
function sgd(): Fn {
  const [W, G, NB, NLR] = [0, 1, 2, 3];
  const [O] = [4];
  return {
    name: 'sgd',
    params: [I32, I32, I32, F32],
    locals: [I32],
    body: [
      i32c(0), set(O),
      whileLess(O, get(NB), i32c(16),
        get(W), get(O), ADD,
        get(G), get(O), ADD, vLoad(), get(NLR), SPLAT, F4_MUL,
        get(W), get(O), ADD, vLoad(), F4_ADD,
        vStore(),
      ),
    ].flat(),
  };
}

export interface Kernels {
  gemm(a: number, b: number, c: number, bias: number, m: number, k: number, nB: number, lda: number, ldb: number, ldc: number, relu: number): void;
  spmm(off: number, val: number, start: number, b: number, c: number, bias: number, m: number, nB: number, ldc: number, relu: number): void;
  gemmTN(x: number, dy: number, dw: number, m: number, k: number, nB: number, ldx: number, lddy: number, lddw: number): void;
  spmmTN(off: number, val: number, start: number, dy: number, dw: number, m: number, nB: number, lddy: number): void;
  colSum(dy: number, db: number, m: number, nB: number, lddy: number): void;
  maskPositive(d: number, h: number, nB: number): void;
  adam(w: number, g: number, m: number, v: number, nB: number, b1: number, omb1: number, b2: number, omb2: number, c1: number, c2: number, eps: number, negLr: number): void;
  sgd(w: number, g: number, nB: number, negLr: number): void;
}

let compiled: WebAssembly.Module | undefined;

/** The kernels' module bytes (exported for the test that checks they validate). */
export function kernelModuleBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes([gemm(), spmm(), gemmTN(), spmmTN(), colSum(), maskPositive(), adam(), sgd()]);
}

/** Instantiate the kernels on a memory of their own (grown by the caller through `memory.grow`). */
export function instantiateKernels(memory: WebAssembly.Memory): Kernels {
  compiled ??= new WebAssembly.Module(kernelModuleBytes());
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Kernels;
}

export const PAGE = 65536;
