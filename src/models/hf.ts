/**
 * `hf:<dir>` — a local Hugging Face-format causal LM (config.json, tokenizer.json, onnx/model.onnx)
 * loaded with @huggingface/transformers. Remote loading is switched off before anything is loaded:
 * an audit must never reach a hub at run time.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  PreTrainedModel,
  PreTrainedTokenizer,
  Tensor,
  env,
} from '@huggingface/transformers';
import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { OUT_LOGPROBS, OUT_MU, OUT_SIGMA, SCORING_GRAPH_VERSION, scoringFragment, TARGETS } from './scoring-graph.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;
// transformers.js would otherwise try to cache into its own package folder.
env.useFSCache = false;

export interface Tokenizer {
  encode(text: string): number[];
  /** How many special tokens (BOS) `encode` puts before the text. */
  readonly leading: number;
  decode(ids: readonly number[]): string;
  /** Token ids that never count as text (padding, end of sequence). */
  readonly specialIds: ReadonlySet<number>;
  readonly padId: number;
  readonly eosId: number | undefined;
  /** Longest sequence the model accepts (n_positions). */
  readonly maxLength: number;
}

export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const abs = path.resolve(dir);
  const tok: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(abs, { local_files_only: true });
  const config = (await import('node:fs/promises')).readFile(path.join(abs, 'config.json'), 'utf8');
  const cfg = JSON.parse(await config) as Record<string, unknown>;
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const eosId = num(cfg.eos_token_id);
  const padId = num(cfg.pad_token_id) ?? eosId ?? 0;
  const maxLength = num(cfg.n_positions) ?? num(cfg.max_position_embeddings) ?? 1024;
  const specialIds = new Set<number>(
    [eosId, num(cfg.bos_token_id), num(cfg.pad_token_id)].filter((v): v is number => v !== undefined),
  );
  const probe = tok.encode('a');
  let leading = 0;
  while (leading < probe.length && specialIds.has(probe[leading]!)) leading++;
  return {
    leading,
    // With the model's own special tokens (e.g. a leading BOS), as in training: every text token
    // after them then has a context and a log-probability.
    encode: (text) => tok.encode(text),
    // An empty continuation (end-of-text came first) is text too: the empty string. transformers.js
    // refuses to decode an empty list.
    decode: (ids) => (ids.length === 0 ? '' : tok.decode([...ids], { skip_special_tokens: true })),
    specialIds,
    padId,
    eosId,
    maxLength,
  };
}

/**
 * Where scoring reduces the logits: `runtime` — inside onnxruntime, in a copy of the graph with the
 * log-softmax, the target's log-probability and the Min-K%++ statistics appended
 * (./scoring-graph.ts), so only per-token floats reach JavaScript; `js` — the whole [batch, tokens,
 * vocabulary] logits come back and are reduced here in float64 (the fallback for graphs that cannot be
 * augmented). The two agree to float32 rounding (test/models/scoring-graph.test.ts), not bit for bit,
 * so the path is part of a model's cache identity.
 */
export type ScoringPath = 'runtime' | 'js';

/** The cache-identity tag of a scoring path (none for `js`, which is what earlier versions computed). */
export const scoringIdentity = (p: ScoringPath): string[] => (p === 'runtime' ? [`scoring:${SCORING_GRAPH_VERSION}`] : []);

export interface CausalLM {
  readonly dir: string;
  readonly padId: number;
  readonly eosId: number | undefined;
  readonly vocabSize: number;
  model: PreTrainedModel;
  readonly scoring: ScoringPath;
  /** The augmented onnxruntime session itself (runtime path): scoring calls it with its own fetches. */
  readonly session?: ort.InferenceSession;
}

/**
 * transformers.js opens `onnx/model.onnx` by path with onnxruntime-node's InferenceSession.create; the
 * runtime scoring path hands it the augmented bytes instead, so the model is loaded once (one copy of
 * its weights) and transformers.js keeps working on it. Keyed by absolute path, for the load in progress.
 */
const substitutes = new Map<string, { bytes: Uint8Array; folder: string }>();
let createPatched = false;
function patchCreate(): void {
  if (createPatched) return;
  createPatched = true;
  const original = ort.InferenceSession.create.bind(ort.InferenceSession) as (...args: unknown[]) => Promise<ort.InferenceSession>;
  (ort.InferenceSession as unknown as { create: unknown }).create = (...args: unknown[]) => {
    const sub = typeof args[0] === 'string' ? substitutes.get(path.resolve(args[0])) : undefined;
    if (!sub) return original(...args);
    const opts = (args[1] ?? {}) as ort.InferenceSession.SessionOptions & { extra?: Record<string, Record<string, string>> };
    // External-data files (weights beside model.onnx) are found from the original folder.
    return original(sub.bytes, {
      ...opts,
      extra: { ...opts.extra, session: { ...opts.extra?.session, model_external_initializers_file_folder_path: sub.folder } },
    });
  };
}

/**
 * The session as transformers.js and the generation loop see it: without the targets input (fed
 * empty, so the appended loop runs no iteration), everything else the augmented session's own.
 */
function hideTargets(raw: ort.InferenceSession): ort.InferenceSession {
  const empty = new ort.Tensor('int64', new BigInt64Array(0), [0, 1]);
  return Object.create(raw, {
    inputNames: { value: raw.inputNames.filter((n) => n !== TARGETS) },
    run: { value: (feeds: Record<string, unknown>, ...rest: unknown[]) => (raw.run as (...a: unknown[]) => unknown)({ ...feeds, [TARGETS]: empty }, ...rest) },
  }) as ort.InferenceSession;
}

/**
 * Loads of one model file run one after another in a thread: the substitute is keyed by path, so a
 * load of the same file beside a runtime-path load (validation of two roles on one folder, a test
 * loading both paths at once) could read it, or drop it before the runtime load's session was made.
 */
const loadsInProgress = new Map<string, Promise<unknown>>();
async function oneLoadAtATime<T>(file: string, load: () => Promise<T>): Promise<T> {
  const before = loadsInProgress.get(file) ?? Promise.resolve();
  const mine = before.catch(() => {}).then(load);
  const settled = mine.catch(() => {});
  loadsInProgress.set(file, settled);
  void settled.then(() => {
    if (loadsInProgress.get(file) === settled) loadsInProgress.delete(file);
  });
  return mine;
}

/** Room left after the file for the appended fragment (a few kB). */
const FRAGMENT_ROOM = 256 * 1024;

/** The model file with the scoring reduction appended, read once into one buffer (no second copy). */
async function augmentedBytes(onnxFile: string, vocab: number): Promise<Uint8Array> {
  const fh = await open(onnxFile, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(size + FRAGMENT_ROOM);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) throw new Error(`${onnxFile}: the file shrank while being read`);
      at += bytesRead;
    }
    const r = scoringFragment(buf.subarray(0, size), vocab);
    if ('problem' in r) throw new Error(`${onnxFile}: the scoring reduction cannot be appended: ${r.problem}`);
    if (r.fragment.length > FRAGMENT_ROOM) throw new Error(`${onnxFile}: the scoring reduction is unexpectedly large (${r.fragment.length} bytes)`);
    buf.set(r.fragment, size);
    return buf.subarray(0, size + r.fragment.length);
  } finally {
    await fh.close();
  }
}

/**
 * Loads an hf: folder. `scoring: 'runtime'` appends the scoring reduction to the graph and throws if
 * that is impossible. validate.ts decides the path once per model, in the main thread, and checks the
 * reduction against the JavaScript one on a probe (which also catches logits wider than vocab_size),
 * so every worker runs the same, checked path.
 */
export async function loadCausalLM(dir: string, threads = 1, device: 'cpu' | 'cuda' = 'cpu', scoring: ScoringPath = 'js'): Promise<CausalLM> {
  const abs = path.resolve(dir);
  const onnxFile = path.join(abs, 'onnx', 'model.onnx');
  const model = await oneLoadAtATime(onnxFile, async () => {
    if (scoring === 'runtime') {
      const cfg = JSON.parse(await readFile(path.join(abs, 'config.json'), 'utf8')) as { vocab_size?: number };
      patchCreate();
      substitutes.set(onnxFile, { bytes: await augmentedBytes(onnxFile, cfg.vocab_size ?? 0), folder: path.dirname(onnxFile) });
    }
    try {
      return await AutoModelForCausalLM.from_pretrained(abs, {
        local_files_only: true,
        dtype: 'fp32',
        device,
        // A fixed intra-op thread count per session (src/config/limits.ts decides it); results do not
        // depend on it (test/models/scoring-graph.test.ts compares 1 and 2 threads bit for bit).
        // No memory pattern: it plans and keeps allocations per input shape, and every batch here has
        // another padded length, so it only grew the resident set (a 2k-record audit: 571 → 464 MiB
        // peak with the fixture model; scoring time unchanged, test/bench/real-model.ts).
        // No CPU arena either: it keeps the largest block each shape ever needed, and generation's key/value
        // cache grows by a column a step from prompts of every length (a 10k-record pii-extraction audit:
        // 634 → 606 MiB peak, CPU time 217 → 206 s).
        session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, enableMemPattern: false, enableCpuMemArena: false },
      });
    } finally {
      // The bytes are onnxruntime's now; drop ours.
      substitutes.delete(onnxFile);
    }
  });
  const cfg = model.config as unknown as Record<string, unknown>;
  const eosId = typeof cfg.eos_token_id === 'number' ? cfg.eos_token_id : undefined;
  const padId = typeof cfg.pad_token_id === 'number' ? cfg.pad_token_id : (eosId ?? 0);
  const vocabSize = typeof cfg.vocab_size === 'number' ? cfg.vocab_size : 0;
  const sessions = (model as unknown as { sessions: Record<string, ort.InferenceSession> }).sessions;
  const raw = sessions.model;
  if (scoring === 'runtime') {
    if (!raw?.inputNames.includes(TARGETS)) throw new Error(`${onnxFile}: the augmented scoring graph was not the one loaded`);
    sessions.model = hideTargets(raw);
    return { dir: abs, padId, eosId, vocabSize, model, scoring, session: raw };
  }
  return { dir: abs, padId, eosId, vocabSize, model, scoring };
}

/** Per-token signals of one sequence: entry t is about token t+1 given tokens 0..t. */
export interface TokenSignals {
  /** log p(x_t | x_<t). */
  logprobs: Float32Array;
  /** E_v[log p(v | x_<t)] and its standard deviation, for Min-K%++ (only when asked for). */
  mu?: Float32Array;
  sigma?: Float32Array;
}

/**
 * A batch's signals as views into one buffer: the audit holds them for every scored record until the
 * last LM attack has run, and one ArrayBuffer (and one allocation) per array cost ~200 bytes each
 * beyond the values (three arrays a record with the Min-K%++ statistics). The pool worker packs them
 * and moves the buffer to the main thread instead of copying 48 small arrays (src/pool/worker.ts).
 */
export function packSignals(sig: TokenSignals[]): TokenSignals[] {
  let n = 0;
  for (const s of sig) n += s.logprobs.length * (s.mu ? 3 : 1);
  const buf = new Float32Array(n);
  let at = 0;
  const view = (x: Float32Array) => {
    const v = buf.subarray(at, at + x.length);
    v.set(x);
    at += x.length;
    return v;
  };
  return sig.map((s) => ({ logprobs: view(s.logprobs), ...(s.mu ? { mu: view(s.mu) } : {}), ...(s.sigma ? { sigma: view(s.sigma) } : {}) }));
}

const int64 = (rows: number[][], width: number, fill: number, left: boolean): Tensor => {
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((r, b) => {
    const off = left ? width - r.length : 0;
    for (let i = 0; i < width; i++) data[b * width + i] = BigInt(fill);
    for (let i = 0; i < r.length; i++) data[b * width + off + i] = BigInt(r[i]!);
  });
  return new Tensor('int64', data, [rows.length, width]);
};

const mask = (rows: number[][], width: number, left: boolean): Tensor => {
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((r, b) => {
    const off = left ? width - r.length : 0;
    for (let i = 0; i < r.length; i++) data[b * width + off + i] = 1n;
  });
  return new Tensor('int64', data, [rows.length, width]);
};

/**
 * log Σ_v exp(logits[base + v]) over one vocabulary row, in float64: max, Σ exp(l − max) in vocabulary
 * order, logZ = max + log Σ. `scratch` (when given) receives each exp(l − max).
 */
function logSumExp(logits: Float32Array, base: number, vocab: number, scratch?: Float64Array): { logZ: number; sum: number } {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]!);
  let sum = 0;
  if (scratch) for (let v = 0; v < vocab; v++) sum += scratch[v] = Math.exp(logits[base + v]! - max);
  else for (let v = 0; v < vocab; v++) sum += Math.exp(logits[base + v]! - max);
  return { logZ: max + Math.log(sum), sum };
}

/**
 * Teacher-forced scoring of a batch (right-padded): log p of each next token and, with `stats`, the
 * Min-K%++ statistics. On the runtime path the reduction runs inside onnxruntime per row; on the JS
 * path the log-softmax is done here in float64. Either way a record's signals do not depend on what
 * else shares its batch beyond ONNX's own arithmetic.
 */
export async function scoreBatch(
  lm: CausalLM,
  batch: number[][],
  opts: { stats?: boolean } = {},
): Promise<TokenSignals[]> {
  return lm.session ? scoreOnRuntime(lm, lm.session, batch, opts.stats ?? false) : scoreInJs(lm, batch, opts);
}

/** scoreBatch's JavaScript path: the whole logits tensor comes back and is reduced here in float64. */
export async function scoreInJs(lm: CausalLM, batch: number[][], opts: { stats?: boolean } = {}): Promise<TokenSignals[]> {
  const width = Math.max(...batch.map((r) => r.length));
  const out = (await lm.model({
    input_ids: int64(batch, width, lm.padId, false),
    attention_mask: mask(batch, width, false),
  })) as { logits: Tensor };
  const logits = out.logits.data as Float32Array;
  const [, , vocab] = out.logits.dims as [number, number, number];
  const scratch = new Float64Array(vocab);
  return batch.map((ids, b) => {
    const n = Math.max(ids.length - 1, 0);
    const logprobs = new Float32Array(n);
    const mu = opts.stats ? new Float32Array(n) : undefined;
    const sigma = opts.stats ? new Float32Array(n) : undefined;
    for (let t = 0; t < n; t++) {
      const base = (b * width + t) * vocab;
      // One exp per vocabulary entry, kept in `scratch` for the statistics below.
      const { logZ, sum } = logSumExp(logits, base, vocab, scratch);
      logprobs[t] = logits[base + ids[t + 1]!]! - logZ;
      if (mu && sigma) {
        // μ_t = Σ p·log p and σ_t² = Σ p·(log p)² − μ_t² (Zhang et al. 2024, Min-K%++), σ² ≥ 1e-6.
        let m = 0;
        let m2 = 0;
        for (let v = 0; v < vocab; v++) {
          const lp = logits[base + v]! - logZ;
          const p = scratch[v]! / sum;
          m += p * lp;
          m2 += p * lp * lp;
        }
        mu[t] = m;
        sigma[t] = Math.sqrt(Math.max(m2 - m * m, 1e-6));
      }
    }
    return mu && sigma ? { logprobs, mu, sigma } : { logprobs };
  });
}

/**
 * scoreBatch on the augmented graph: one forward pass (right-padded, empty key/value cache, as
 * transformers.js feeds it), the targets (token t+1 for position t; 0 where nothing is scored), and
 * only the three per-token outputs fetched: neither the logits nor the key/values cross into JS.
 */
async function scoreOnRuntime(lm: CausalLM, session: ort.InferenceSession, batch: number[][], stats: boolean): Promise<TokenSignals[]> {
  const d = plainDecoder(lm);
  if (!d) throw new Error(`${lm.dir}: the runtime scoring path needs a plain decoder-with-cache graph`);
  const B = batch.length;
  const width = Math.max(...batch.map((r) => r.length));
  const targets = new BigInt64Array(B * width);
  batch.forEach((ids, b) => {
    for (let t = 0; t + 1 < ids.length; t++) targets[b * width + t] = BigInt(ids[t + 1]!);
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(batch, width, lm.padId, false).ort_tensor as ort.Tensor,
    attention_mask: mask(batch, width, false).ort_tensor as ort.Tensor,
    [TARGETS]: new ort.Tensor('int64', targets, [B * width, 1]),
  };
  for (let l = 0; l < d.layers; l++)
    for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [B, d.heads, 0, d.headDim]);
  if (d.session.inputNames.includes('position_ids')) {
    // Right padding: positions 0..n-1 for real tokens, 1 on padding (as Hugging Face computes them).
    const pos = new BigInt64Array(B * width).fill(1n);
    batch.forEach((ids, b) => ids.forEach((_, t) => (pos[b * width + t] = BigInt(t))));
    feeds.position_ids = new ort.Tensor('int64', pos, [B, width]);
  }
  const out = await session.run(feeds, stats ? [OUT_LOGPROBS, OUT_MU, OUT_SIGMA] : [OUT_LOGPROBS]);
  const lp = out[OUT_LOGPROBS]!.data as Float32Array;
  const mu = stats ? (out[OUT_MU]!.data as Float32Array) : undefined;
  const sg = stats ? (out[OUT_SIGMA]!.data as Float32Array) : undefined;
  return batch.map((ids, b) => {
    const n = Math.max(ids.length - 1, 0);
    const at = b * width;
    const logprobs = lp.slice(at, at + n);
    return mu && sg ? { logprobs, mu: mu.slice(at, at + n), sigma: sg.slice(at, at + n) } : { logprobs };
  });
}

/** The ONNX session transformers.js created, when its inputs are the plain decoder-with-cache set. */
interface DecoderSession {
  inputNames: readonly string[];
  run(feeds: Record<string, Tensor | unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}

function plainDecoder(lm: CausalLM): { session: DecoderSession; layers: number; heads: number; headDim: number } | undefined {
  const session = (lm.model as unknown as { sessions?: Record<string, DecoderSession> }).sessions?.model;
  const cfg = lm.model.config as unknown as Record<string, number | undefined>;
  const layers = cfg.n_layer ?? cfg.num_hidden_layers;
  const heads = cfg.num_key_value_heads ?? cfg.n_head ?? cfg.num_attention_heads;
  const hidden = cfg.n_embd ?? cfg.hidden_size;
  if (!session || !layers || !heads || !hidden) return undefined;
  const expected = new Set(['input_ids', 'attention_mask', 'position_ids']);
  for (let l = 0; l < layers; l++) expected.add(`past_key_values.${l}.key`).add(`past_key_values.${l}.value`);
  if (!session.inputNames.every((n) => expected.has(n)) || !session.inputNames.includes('past_key_values.0.key')) return undefined;
  return { session, layers, heads, headDim: hidden / heads };
}

/**
 * Greedy continuation of a batch of prompts (left-padded, so every prompt ends at the same column).
 * Returns only the new tokens, cut at the first end-of-sequence token.
 *
 * For a plain decoder-with-cache graph this drives the ONNX session directly (argmax, feed the
 * present key/values back): ~1.5× faster than transformers.js's generate() on small models, and
 * token-for-token the same (test/models). Other graphs go through generate().
 */
export async function greedyBatch(lm: CausalLM, prompts: number[][], maxNewTokens: number): Promise<number[][]> {
  const plain = plainDecoder(lm);
  const raw = plain ? await greedyDirect(lm, plain, prompts, maxNewTokens) : await greedyGenerate(lm, prompts, maxNewTokens);
  return raw.map((gen) => {
    const end = lm.eosId === undefined ? -1 : gen.indexOf(lm.eosId);
    return end < 0 ? gen : gen.slice(0, end);
  });
}

async function greedyDirect(
  lm: CausalLM,
  d: NonNullable<ReturnType<typeof plainDecoder>>,
  prompts: number[][],
  maxNewTokens: number,
): Promise<number[][]> {
  const B = prompts.length;
  const width = Math.max(...prompts.map((r) => r.length));
  const usesPositions = d.session.inputNames.includes('position_ids');
  const masks = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const out: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  const past: Record<string, unknown> = {};
  for (let l = 0; l < d.layers; l++)
    for (const kv of ['key', 'value'])
      past[`past_key_values.${l}.${kv}`] = new Tensor('float32', new Float32Array(0), [B, d.heads, 0, d.headDim]);
  let input = int64(prompts, width, lm.padId, true);
  for (let step = 0; step < maxNewTokens && !done.every(Boolean); step++) {
    const len = masks[0]!.length;
    const am = new BigInt64Array(B * len);
    masks.forEach((m, b) => m.forEach((v, i) => (am[b * len + i] = BigInt(v))));
    const feeds: Record<string, unknown> = { input_ids: input, attention_mask: new Tensor('int64', am, [B, len]), ...past };
    if (usesPositions) {
      // position = number of real tokens before this one (padding does not count), as HF does.
      const q = input.dims[1]!;
      const pos = new BigInt64Array(B * q);
      masks.forEach((m, b) => {
        let c = 0;
        const first = len - q;
        for (let i = 0; i < first; i++) c += m[i]!;
        for (let i = 0; i < q; i++) pos[b * q + i] = BigInt(m[first + i] ? c++ : 1);
      });
      feeds.position_ids = new Tensor('int64', pos, [B, q]);
    }
    const r = await d.session.run(feeds);
    const logits = r.logits!.data as Float32Array;
    const [, T, V] = r.logits!.dims as [number, number, number];
    const next = new BigInt64Array(B);
    for (let b = 0; b < B; b++) {
      const base = (b * T + T - 1) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[base + v]! > logits[base + best]!) best = v; // first max wins, like argmax
      next[b] = BigInt(best);
      if (!done[b]) out[b]!.push(best);
      if (best === lm.eosId) done[b] = true;
      masks[b]!.push(1);
    }
    for (let l = 0; l < d.layers; l++)
      for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = r[`present.${l}.${kv}`];
    input = new Tensor('int64', next, [B, 1]);
  }
  return out;
}

async function greedyGenerate(lm: CausalLM, prompts: number[][], maxNewTokens: number): Promise<number[][]> {
  const width = Math.max(...prompts.map((r) => r.length));
  const out = (await lm.model.generate({
    input_ids: int64(prompts, width, lm.padId, true),
    attention_mask: mask(prompts, width, true),
    max_new_tokens: maxNewTokens,
    do_sample: false,
    num_beams: 1,
    repetition_penalty: 1.0,
  } as never)) as Tensor;
  const data = out.data as BigInt64Array;
  const [, total] = out.dims as [number, number];
  return prompts.map((_, b) => Array.from(data.subarray(b * total + width, (b + 1) * total), Number));
}

/**
 * The tokenizer operations a served-model double needs beyond `Tokenizer`: encoding with or without
 * the special tokens, decoding with them kept (how vLLM names a single token: `decode([id])` with
 * its default `skip_special_tokens=False`), and the raw vocabulary pieces (`convert_ids_to_tokens`).
 */
export interface ServingTokenizer extends Tokenizer {
  encodeWith(text: string, addSpecialTokens: boolean): number[];
  /** Decode keeping special tokens (`<|endoftext|>` stays in the text). */
  decodeRaw(ids: readonly number[]): string;
  /** The raw vocabulary piece of a token (byte-level `Ġ` for a space), as `convert_ids_to_tokens`. */
  piece(id: number): string;
  readonly vocabSize: number;
}

export async function loadServingTokenizer(dir: string): Promise<ServingTokenizer> {
  const base = await loadTokenizer(dir);
  const tok: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(path.resolve(dir), { local_files_only: true });
  // transformers.js keeps the tokenizers.js object private; id_to_token is the only way to the raw piece.
  const inner = (tok as unknown as { _tokenizer?: { id_to_token?(id: number): string | undefined; get_vocab?(): Record<string, number> } })._tokenizer;
  const vocab = inner?.get_vocab?.() ?? {};
  const vocabSize = Math.max(Object.keys(vocab).length, ...Object.values(vocab).map((v) => v + 1), ...[...base.specialIds].map((v) => v + 1));
  return {
    ...base,
    encodeWith: (text, add) => tok.encode(text, { add_special_tokens: add }),
    decodeRaw: (ids) => (ids.length === 0 ? '' : tok.decode([...ids], { skip_special_tokens: false })),
    piece: (id) => inner?.id_to_token?.(id) ?? tok.decode([id], { skip_special_tokens: false }),
    vocabSize,
  };
}

/**
 * Per-position log-softmax over the whole vocabulary, from the same forward pass as `scoreBatch`
 * (one right-padded row, teacher forcing) so that `at(t)[ids[t + 1]]` equals scoreBatch's
 * `logprobs[t]` before its float32 rounding. Rows are computed lazily: a real vocabulary × a long
 * sequence in float64 would be large.
 */
export interface Distributions {
  /** Positions with a next-token distribution: ids.length (the last one predicts past the end). */
  readonly length: number;
  readonly vocab: number;
  /** log p(· | ids[0..t]) in float64. */
  at(t: number): Float64Array;
}

export async function distributionsOf(lm: CausalLM, ids: number[]): Promise<Distributions> {
  const width = ids.length;
  const out = (await lm.model({
    input_ids: int64([ids], width, lm.padId, false),
    attention_mask: mask([ids], width, false),
  })) as { logits: Tensor };
  const logits = out.logits.data as Float32Array;
  const vocab = (out.logits.dims as number[])[2]!;
  const cache = new Map<number, Float64Array>();
  return {
    length: width,
    vocab,
    at(t) {
      let row = cache.get(t);
      if (row) return row;
      // The same arithmetic as scoreBatch.
      const base = t * vocab;
      const { logZ } = logSumExp(logits, base, vocab);
      row = new Float64Array(vocab);
      for (let v = 0; v < vocab; v++) row[v] = logits[base + v]! - logZ;
      cache.set(t, row);
      return row;
    },
  };
}

/**
 * Token-by-token continuation of one prompt where `pick` chooses each next token from the raw
 * next-token logits (argmax for greedy, a seeded draw for sampling). Stops after an end-of-sequence
 * token, which is kept (servers count and return it). On a plain decoder-with-cache graph this is the
 * same arithmetic as `greedyBatch` on a batch of one; other graphs re-run the whole prefix per step.
 */
export async function decodeWith(
  lm: CausalLM,
  prompt: number[],
  maxNewTokens: number,
  pick: (logits: Float32Array, step: number) => number,
): Promise<number[]> {
  const out: number[] = [];
  const plain = plainDecoder(lm);
  if (!plain) {
    const ids = [...prompt];
    for (let step = 0; step < maxNewTokens; step++) {
      const r = (await lm.model({ input_ids: int64([ids], ids.length, lm.padId, false), attention_mask: mask([ids], ids.length, false) })) as { logits: Tensor };
      const V = (r.logits.dims as number[])[2]!;
      const next = pick((r.logits.data as Float32Array).slice((ids.length - 1) * V, ids.length * V), step);
      out.push(next);
      ids.push(next);
      if (next === lm.eosId) break;
    }
    return out;
  }
  const d = plain;
  const usesPositions = d.session.inputNames.includes('position_ids');
  const past: Record<string, unknown> = {};
  for (let l = 0; l < d.layers; l++)
    for (const kv of ['key', 'value'])
      past[`past_key_values.${l}.${kv}`] = new Tensor('float32', new Float32Array(0), [1, d.heads, 0, d.headDim]);
  let input = int64([prompt], prompt.length, lm.padId, true);
  let len = prompt.length;
  for (let step = 0; step < maxNewTokens; step++) {
    const q = input.dims[1]!;
    const feeds: Record<string, unknown> = { input_ids: input, attention_mask: new Tensor('int64', new BigInt64Array(len).fill(1n), [1, len]), ...past };
    if (usesPositions) {
      const pos = new BigInt64Array(q);
      for (let i = 0; i < q; i++) pos[i] = BigInt(len - q + i);
      feeds.position_ids = new Tensor('int64', pos, [1, q]);
    }
    const r = await d.session.run(feeds);
    const logits = r.logits!.data as Float32Array;
    const [, T, V] = r.logits!.dims as [number, number, number];
    const next = pick(logits.subarray((T - 1) * V, T * V), step);
    out.push(next);
    if (next === lm.eosId) break;
    for (let l = 0; l < d.layers; l++)
      for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = r[`present.${l}.${kv}`];
    input = new Tensor('int64', BigInt64Array.of(BigInt(next)), [1, 1]);
    len++;
  }
  return out;
}

/** The index of the largest logit, the first one on ties (as argmax and greedyBatch). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
  return best;
}

/** A uniform draw in [0, 1) with 53 random bits from two 32-bit outputs of a pure-rand generator. */
export function uniform01(rng: RandomGenerator): number {
  const a = rng.unsafeNext() >>> 5; // 27 bits
  const b = rng.unsafeNext() >>> 6; // 26 bits
  return (a * 67108864 + b) / 9007199254740992;
}

/**
 * A chooser that draws the next token from softmax(logits / temperature) over the whole vocabulary
 * (no top-k, no top-p), in float64, by inverting the cumulative distribution at one uniform draw.
 */
export function temperatureChooser(rng: RandomGenerator, temperature: number): (logits: Float32Array) => number {
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  return (logits) => {
    const V = logits.length;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[v]! / temperature);
    const w = new Float64Array(V);
    let total = 0;
    for (let v = 0; v < V; v++) total += w[v] = Math.exp(logits[v]! / temperature - max);
    let u = uniform01(rng) * total;
    for (let v = 0; v < V; v++) {
      u -= w[v]!;
      if (u < 0) return v;
    }
    // Rounding left u ≥ 0 past the end: the last token with any mass.
    for (let v = V - 1; v > 0; v--) if (w[v]! > 0) return v;
    return 0;
  };
}

/**
 * `n` sampled continuations of one prompt at `temperature`, each cut before its first
 * end-of-sequence token. Sample j draws from its own xoroshiro128+ generator seeded with
 * (seed, j), so a sample does not depend on how many tokens the others drew, and the first k of n
 * samples are the k samples of a request for k.
 */
export async function sampleContinuations(
  lm: CausalLM,
  prompt: number[],
  o: { n: number; maxNewTokens: number; temperature: number; seed: number },
): Promise<number[][]> {
  const out: number[][] = [];
  for (let j = 0; j < o.n; j++) {
    const rng = xoroshiro128plus.fromState([o.seed | 0, j | 0, ~o.seed | 0, ~j | 0]);
    // Decorrelate neighbouring seeds: the first outputs of xoroshiro128+ from close states are close.
    for (let k = 0; k < 8; k++) rng.unsafeNext();
    const gen = await decodeWith(lm, prompt, o.maxNewTokens, temperatureChooser(rng, o.temperature));
    const end = lm.eosId === undefined ? -1 : gen.indexOf(lm.eosId);
    out.push(end < 0 ? gen : gen.slice(0, end));
  }
  return out;
}
