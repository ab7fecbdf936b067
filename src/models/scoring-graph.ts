/**
 * The runtime-side scoring reduction: a copy of a causal LM's ONNX graph with the per-token
 * log-probability of the target token and the two Min-K%++ statistics appended as extra outputs, so
 * that scoring returns B·T floats per statistic instead of [B, T, vocabulary] logits.
 *
 * The graph is not decoded and re-encoded: a protobuf message may be followed by more of its own
 * fields, which a parser merges (repeated fields are appended). So the augmented model is the
 * original bytes plus one small ModelProto fragment whose `graph` adds an input, constants, a Loop
 * node and three outputs. Weights, external-data references and everything this file does not
 * declare are left exactly as they were.
 *
 *   target ids  [N, 1] int64 (input `privacy_audit.targets`; N = batch × tokens, row-major; fed
 *               as [0, 1] the loop runs no iteration, so other callers pay nothing)
 *   flat        = Reshape(logits, [-1, V])
 *   Loop over chunks of C rows (C·V ≈ 2^20 floats, so every pass stays in cache and no extra
 *   [N, V] tensor is ever allocated):
 *     lsm = LogSoftmax(rows)            lp = GatherElements(lsm, targets)
 *     p = Exp(lsm)                      mu = Σ p·lsm
 *     var = Σ p·(lsm − mu)²  (centred: no cancellation in float32)      sigma = √max(var, 1e-6)
 *   outputs `privacy_audit.logprobs`, `privacy_audit.mu`, `privacy_audit.sigma`, each [N, 1] float.
 *
 * Needs the default ONNX domain at opset ≥ 13 (ReduceSum/Unsqueeze take their axes as inputs).
 */
import protobuf from 'protobufjs';

/** Bumped whenever the appended graph changes: part of the scoring path's cache identity. */
export const SCORING_GRAPH_VERSION = 'runtime-v1';

export const TARGETS = 'privacy_audit.targets';
export const OUT_LOGPROBS = 'privacy_audit.logprobs';
export const OUT_MU = 'privacy_audit.mu';
export const OUT_SIGMA = 'privacy_audit.sigma';

/** Floats per chunk of the loop: 4 MiB, which stays in a core's cache across the chunk's passes. */
const CHUNK_FLOATS = 1 << 20;

// Only the fields this file reads or writes (field numbers from onnx.proto3).
const root = protobuf.Root.fromJSON({
  nested: {
    ModelProto: {
      fields: {
        irVersion: { type: 'int64', id: 1 },
        // Repeated here, though singular in onnx.proto: a parser merges every occurrence (a file may
        // already carry appended fragments), and protobufjs would keep only the last one.
        graph: { rule: 'repeated', type: 'GraphProto', id: 7 },
        opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
      },
    },
    OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
    GraphProto: {
      fields: {
        node: { rule: 'repeated', type: 'NodeProto', id: 1 },
        name: { type: 'string', id: 2 },
        initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
        input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
        output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
      },
    },
    NodeProto: {
      fields: {
        input: { rule: 'repeated', type: 'string', id: 1 },
        output: { rule: 'repeated', type: 'string', id: 2 },
        name: { type: 'string', id: 3 },
        opType: { type: 'string', id: 4 },
        attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
      },
    },
    AttributeProto: {
      fields: {
        name: { type: 'string', id: 1 },
        i: { type: 'int64', id: 3 },
        g: { type: 'GraphProto', id: 6 },
        type: { type: 'int32', id: 20 },
      },
    },
    TensorProto: {
      fields: {
        dims: { rule: 'repeated', type: 'int64', id: 1 },
        dataType: { type: 'int32', id: 2 },
        name: { type: 'string', id: 8 },
        rawData: { type: 'bytes', id: 9 },
      },
    },
    ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
    TypeProto: { fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } } },
    TypeProtoTensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
    TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
    Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
  },
});
const ModelProto = root.lookupType('ModelProto');

/** Just enough of a model to plan the augmentation: opsets, IR version, graph input/output names. */
interface ModelView {
  irVersion?: number | { toNumber(): number };
  opsetImport?: { domain?: string; version?: number | { toNumber(): number } }[];
  graph?: { input?: { name?: string }[]; output?: { name?: string }[]; initializer?: { name?: string }[] }[];
}

const num = (v: number | { toNumber(): number } | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

const FLOAT = 1;
const INT64 = 7;
const BOOL = 9;
const ATTR_INT = 2;
const ATTR_GRAPH = 5;

type Dim = number | string;
const valueInfo = (name: string, elemType: number, dims: Dim[] | undefined) => ({
  name,
  type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}) } },
});
const int64Tensor = (name: string, dims: number[], values: bigint[]) => {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(v, i * 8));
  return { name, dims, dataType: INT64, rawData: raw };
};
const floatTensor = (name: string, dims: number[], values: number[]) => {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return { name, dims, dataType: FLOAT, rawData: raw };
};
const node = (opType: string, input: string[], output: string[], attribute: object[] = []) => ({ opType, input, output, name: `privacy_audit/${output[0]}`, attribute });
const intAttr = (name: string, i: number) => ({ name, type: ATTR_INT, i });

/** Why this model cannot be augmented, or undefined when it can. */
function unsupported(view: ModelView, logits: string): string | undefined {
  const opset = view.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opset) return 'the model imports no default ONNX opset';
  if (num(opset.version) < 13) return `the model's default ONNX opset is ${num(opset.version)} (the appended reduction needs 13 or later)`;
  if (num(view.irVersion) < 4) return `the model's IR version is ${num(view.irVersion)} (optional inputs need 4 or later)`;
  const parts = view.graph ?? [];
  const all = (k: 'input' | 'output' | 'initializer') => parts.flatMap((g) => g[k] ?? []);
  if (!all('output').some((o) => o.name === logits)) return `the graph has no "${logits}" output`;
  const taken = new Set([...all('input'), ...all('output'), ...all('initializer')].map((x) => x.name));
  for (const n of [TARGETS, OUT_LOGPROBS, OUT_MU, OUT_SIGMA]) if (taken.has(n)) return `the graph already has a value named "${n}"`;
  return undefined;
}

/**
 * `bytes` (an ONNX model whose `logits` output is [batch, tokens, vocab]) with the reduction appended,
 * or why it cannot be: the caller then scores in JavaScript.
 */
export function augmentForScoring(bytes: Uint8Array, vocab: number, logits = 'logits'): { bytes: Uint8Array } | { problem: string } {
  const r = scoringFragment(bytes, vocab, logits);
  if ('problem' in r) return r;
  const out = new Uint8Array(bytes.length + r.fragment.length);
  out.set(bytes, 0);
  out.set(r.fragment, bytes.length);
  return { bytes: out };
}

/**
 * The fragment to append to `bytes` (augmentForScoring without the copy: a caller that read the file
 * into a larger buffer appends it in place, so a 600 MB model is not held twice).
 */
export function scoringFragment(bytes: Uint8Array, vocab: number, logits = 'logits'): { fragment: Uint8Array } | { problem: string } {
  let view: ModelView;
  try {
    view = ModelProto.toObject(ModelProto.decode(bytes), { defaults: false }) as ModelView;
  } catch (e) {
    return { problem: `the ONNX file cannot be parsed: ${(e as Error).message}` };
  }
  const problem = unsupported(view, logits);
  if (problem) return { problem };

  const P = (s: string) => `privacy_audit.${s}`;
  const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(1, vocab)));
  const initializer = [
    int64Tensor(P('flat_shape'), [2], [-1n, BigInt(vocab)]),
    int64Tensor(P('zero'), [], [0n]),
    int64Tensor(P('chunk'), [], [BigInt(chunk)]),
    int64Tensor(P('chunk_minus_1'), [], [BigInt(chunk - 1)]),
    int64Tensor(P('axis0'), [1], [0n]),
    int64Tensor(P('axis1'), [1], [1n]),
    floatTensor(P('empty'), [0, 1], []),
    floatTensor(P('var_floor'), [], [1e-6]),
    { name: P('true'), dims: [], dataType: BOOL, rawData: Buffer.from([1]) },
  ];
  // One iteration: rows [i·C, (i+1)·C) of the flattened logits and targets (Slice clamps the end).
  const body = {
    name: P('chunk_body'),
    input: [valueInfo(P('i'), INT64, []), valueInfo(P('cond_in'), BOOL, []), ...['lp', 'mu', 'sigma'].map((s) => valueInfo(P(`acc_${s}`), FLOAT, ['n', 1]))],
    output: [valueInfo(P('cond_out'), BOOL, []), ...['lp', 'mu', 'sigma'].map((s) => valueInfo(P(`next_${s}`), FLOAT, ['n', 1]))],
    node: [
      node('Mul', [P('i'), P('chunk')], [P('start0')]),
      node('Add', [P('start0'), P('chunk')], [P('end0')]),
      node('Unsqueeze', [P('start0'), P('axis0')], [P('start')]),
      node('Unsqueeze', [P('end0'), P('axis0')], [P('end')]),
      node('Slice', [P('flat'), P('start'), P('end'), P('axis0')], [P('rows')]),
      node('Slice', [TARGETS, P('start'), P('end'), P('axis0')], [P('rows_targets')]),
      node('LogSoftmax', [P('rows')], [P('lsm')], [intAttr('axis', 1)]),
      node('GatherElements', [P('lsm'), P('rows_targets')], [P('lp')], [intAttr('axis', 1)]),
      node('Exp', [P('lsm')], [P('p')]),
      node('Mul', [P('p'), P('lsm')], [P('plogp')]),
      node('ReduceSum', [P('plogp'), P('axis1')], [P('mu')], [intAttr('keepdims', 1)]),
      node('Sub', [P('lsm'), P('mu')], [P('centred')]),
      node('Mul', [P('p'), P('centred')], [P('pc')]),
      node('Mul', [P('pc'), P('centred')], [P('pcc')]),
      node('ReduceSum', [P('pcc'), P('axis1')], [P('var')], [intAttr('keepdims', 1)]),
      node('Max', [P('var'), P('var_floor')], [P('var_floored')]),
      node('Sqrt', [P('var_floored')], [P('sigma')]),
      node('Identity', [P('cond_in')], [P('cond_out')]),
      node('Concat', [P('acc_lp'), P('lp')], [P('next_lp')], [intAttr('axis', 0)]),
      node('Concat', [P('acc_mu'), P('mu')], [P('next_mu')], [intAttr('axis', 0)]),
      node('Concat', [P('acc_sigma'), P('sigma')], [P('next_sigma')], [intAttr('axis', 0)]),
    ],
  };
  const graph = {
    input: [valueInfo(TARGETS, INT64, ['privacy_audit_rows', 1])],
    initializer,
    node: [
      node('Reshape', [logits, P('flat_shape')], [P('flat')]),
      // Trip count ⌈N / C⌉ from the number of target rows: 0 when no targets were fed.
      node('Shape', [TARGETS], [P('targets_shape')]),
      node('Gather', [P('targets_shape'), P('zero')], [P('n')], [intAttr('axis', 0)]),
      node('Add', [P('n'), P('chunk_minus_1')], [P('n_up')]),
      node('Div', [P('n_up'), P('chunk')], [P('trips')]),
      {
        ...node('Loop', [P('trips'), P('true'), P('empty'), P('empty'), P('empty')], [OUT_LOGPROBS, OUT_MU, OUT_SIGMA]),
        attribute: [{ name: 'body', type: ATTR_GRAPH, g: body }],
      },
    ],
    output: [OUT_LOGPROBS, OUT_MU, OUT_SIGMA].map((n) => valueInfo(n, FLOAT, ['privacy_audit_rows', 1])),
  };
  return { fragment: ModelProto.encode(ModelProto.fromObject({ graph: [graph] })).finish() };
}
