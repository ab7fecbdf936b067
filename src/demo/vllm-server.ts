/**
 * A served model for tests and `demo --scenario api`: a local HTTP server that speaks vLLM's
 * OpenAI-compatible protocol over a real `hf:` fixture model, so that scores read through HTTP equal
 * the local adapter's, plus faults on demand. It follows shared/research/api-targets.md:
 *  - §1 (vLLM): echo + logprobs, `prompt_logprobs` ({id: {logprob, rank, decoded_token}}, element 0
 *    null), `return_token_ids`, the −9999.0 clamp, the `--max-logprobs` cap and its messages,
 *    `/tokenize` and `/detokenize`, greedy decoding with `finish_reason`/`stop_reason`;
 *  - §8 (chat-only endpoints) for mode 'chat-only', §6/§7 (llama.cpp, Ollama: prompt positions carry
 *    no log-probabilities, `echo` ignored, HTTP 200) for mode 'no-prompt-logprobs';
 *  - §9 (openai npm client: `x-stainless-retry-count`, `retry-after`/`retry-after-ms`) and
 *    §10 (what a test double must reproduce: shapes, position-0 null, 400 context length and caps,
 *    429, 5xx, silent degradations, nondeterminism, hangs) for the request log and the faults.
 *
 * Choices where vLLM is ambiguous or version-dependent are listed in PROTOCOL_NOTES below and in
 * the README; each is pinned by test/models/vllm-server.test.ts.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  argmax,
  decodeWith,
  distributionsOf,
  loadCausalLM,
  loadServingTokenizer,
  type CausalLM,
  type Distributions,
  type ServingTokenizer,
  uniform01,
} from '../models/hf.ts';
import { xoroshiro128plus } from 'pure-rand';

export interface Faults {
  /** Every n-th /v1 POST (1-based) answers 429 with these headers and an OpenAI-style body. */
  rateLimit?: { every: number; retryAfter?: string; retryAfterMs?: string };
  /** Every n-th /v1 POST answers this 5xx (default 500). */
  serverError?: { every: number; status?: 500 | 502 | 503 };
  /** Delay before answering each request (any path). */
  slowMs?: number;
  /** Every n-th /v1 POST never answers (until close). */
  hangEvery?: number;
  /** After n successful (2xx) /v1 POSTs, destroy every socket and stop listening. */
  dieAfter?: number;
  /** Add uniform noise in [−jitter, +jitter] to every returned log-probability, fresh per request. */
  jitter?: number;
}

/**
 * `sglang`: SGLang's server — native `POST /generate` (input_ids, `return_logprob`,
 * `logprob_start_len`: research note §2) scores prompts; its OpenAI route ignores `echo` with
 * `logprobs` (generated tokens only) and there is no /tokenize. `tgi`: Text Generation Inference ≥ 3
 * — native `POST /generate` (`inputs` text, `details`, `decoder_input_details`: §3) whose
 * `details.prefill` is `[]` (HTTP 200) unless the server was launched with
 * `--enable-prefill-logprobs` (option `prefillLogprobs`), `POST /tokenize`, and an OpenAI route that
 * is chat only (the Messages API).
 */
export type ServeMode = 'vllm' | 'chat-only' | 'no-prompt-logprobs' | 'sglang' | 'tgi';

export interface ServedModelOptions {
  /** An hf-format folder (config.json, tokenizer.json, onnx/model.onnx). */
  modelDir: string;
  /** The "model" id clients send; default the folder's basename. */
  servedName?: string;
  host?: string;
  port?: number;
  mode?: ServeMode;
  /** vLLM's --max-logprobs (default 20; −1 = the vocabulary size). */
  maxLogprobs?: number;
  /** vLLM's --max-model-len: a context shorter than the model's (default its n_positions). */
  maxModelLen?: number;
  /** Whether GET /v1/models lists max_model_len (vLLM does; vendors do not). Default true. */
  listMaxModelLen?: boolean;
  /** Mode 'tgi': the launcher flag --enable-prefill-logprobs (default off, as in TGI 3). */
  prefillLogprobs?: boolean;
  faults?: Faults;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** Parsed JSON body; the raw text when it did not parse; undefined when empty. */
  body: unknown;
  /** The HTTP status answered; undefined while pending or when the request hung or the server died. */
  status: number | undefined;
  headers: {
    'x-stainless-retry-count'?: string;
    'x-stainless-timeout'?: string;
    'content-type'?: string;
    /** Whether an Authorization header was sent (its value is never kept). */
    authorization: boolean;
  };
  /** 1-based ordinal among /v1 POSTs (the count faults use), since start or the last setFaults. */
  ordinal?: number;
  /** Date.now() when the request arrived (for retry-delay assertions). */
  at: number;
}

export interface ServedModel {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseURL: string;
  servedName: string;
  maxModelLen: number;
  requests: RequestLogEntry[];
  close(): Promise<void>;
  /** Replace the faults and restart their counts (ordinals and successes) from zero. */
  setFaults(f: Faults): void;
}

/** Where vLLM's behaviour is version-dependent or ambiguous, what this server does. */
export const PROTOCOL_NOTES = [
  'Context length (vLLM CompletionRenderer._create_tokens_prompt): max_length = max_model_len − (max_tokens ?? 0); a prompt of M > max_length tokens is refused with "This model\'s maximum context length is {max_length} tokens. However, your request has {M} input tokens. ..." — so N in the message is max_model_len − max_tokens, as vLLM prints it. Completions default max_tokens to 16; max_tokens: null means "up to the end of the context".',
  'echo with max_tokens 0 generates one token internally, as vLLM does (echo_without_generation → max_tokens 1): finish_reason comes from that token, usage.completion_tokens is 1 and token_ids holds it; text and logprobs cover the prompt only. When the prompt already fills the context, nothing is generated (finish_reason "length", completion_tokens 0).',
  'max_tokens 0 without echo → 400 "max_tokens must be at least 1, got 0." (SamplingParams).',
  'echo + logprobs k without prompt_logprobs computes prompt log-probabilities with k, and the choice then carries prompt_logprobs too (vLLM copies final_res.prompt_logprobs).',
  'echo + return_token_ids: the echoed prompt text is "" (vLLM skips detokenising the prompt then).',
  'Token strings are decode([id]) with special tokens kept (vLLM convert_ids_list_to_tokens): BOS is "<|endoftext|>", a lone byte of a multi-byte character is "\\ufffd"; text_offset accumulates their lengths from 0 (so it counts the BOS string too, as vLLM does).',
  'Ranks: 1 + the number of other tokens with a log-probability ≥ the token\'s (vLLM batched_count_greater_than); a dictionary lists the actual token first, then the top-k by log-probability (ties by id); when the actual token is also in the top-k its entry keeps the first position and the top-k rank (Python dict semantics).',
  'Generation stops after an end-of-sequence token, which is kept in token_ids, logprobs and usage (finish_reason "stop", stop_reason null) but not in text. A stop string cuts the text before it; the tokens up to the one that completed it are kept (finish_reason "stop", stop_reason = the string; the first string of `stop` found wins).',
  'Log-probabilities of generated tokens come from one teacher-forced pass over prompt + generated tokens (the same forward pass as scoreBatch), raw (before temperature/top-p, vLLM\'s default logprobs mode).',
  'temperature defaults to 1.0 (vLLM\'s default when generation_config.json sets none); temperature < 1e-5 is greedy. Sampling: softmax(logits / T), top_k then top_p (smallest set reaching top_p), one draw per step from a PRNG seeded with seed + choice index (vLLM parallel sampling); without seed each request draws a fresh seed.',
  'Batched prompts (arrays of strings or of token-id arrays) are supported; choices are numbered prompt by prompt, n per prompt. An empty prompt is refused (400). stream: true is refused (400).',
  'Chat: messages → the contents (text parts joined) joined with "\\n", tokenized like a completions prompt (with BOS); no chat template. max_completion_tokens ?? max_tokens ?? the rest of the context. logprobs.content lists generated tokens; top_logprobs takes the first top_logprobs entries of the same dictionary (so a sampled non-argmax token comes first, as in vLLM). echo is refused (400).',
  'Mode no-prompt-logprobs (llama.cpp/Ollama-like): /v1/completions ignores echo and prompt_logprobs, answers 200 with text = completion only and logprobs for generated tokens only (max_tokens 0 allowed: empty arrays), and leaves out vLLM\'s extension keys (prompt_logprobs, prompt_token_ids, token_ids); no logprob cap.',
  'Mode chat-only: /v1/completions, /tokenize and /detokenize answer 404 {"detail":"Not Found"} (a route that does not exist).',
  'Mode sglang: POST /generate takes text or input_ids, sampling_params {max_new_tokens (0 allowed: score only), temperature, seed}, return_logprob, logprob_start_len (-1: no prompt positions), return_text_in_logprobs; answers {text, output_ids, meta_info {input_token_logprobs: [[logprob|null, id, text|null], ...] from logprob_start_len, output_token_logprobs: [], prompt_tokens, completion_tokens, cached_tokens, finish_reason}}. Its /v1/completions ignores echo with logprobs (generated tokens only); no /tokenize (404).',
  'Mode tgi: POST /generate takes inputs (text, tokenised with special tokens) and parameters {max_new_tokens, do_sample, temperature, seed, details, decoder_input_details}; details.prefill is [] unless prefillLogprobs (--enable-prefill-logprobs) is on, then [{id, text, logprob}] with the first logprob null; details.tokens lists the generated ids. POST /tokenize {inputs} answers [{id, text, special, start, stop}]. The OpenAI route is chat only (/v1/completions 404); validation errors are 422 {error, error_type}.',
  'Faults: each POST under /v1/ takes the next ordinal on arrival (1-based); then slowMs applies (every request); then, in this order, hangEvery, rateLimit, serverError decide by ordinal % every === 0; otherwise the request is served. dieAfter counts 2xx answers to /v1 POSTs and kills the server right after sending the n-th. setFaults restarts both counts.',
] as const;

// ---------------------------------------------------------------------------------------------
// errors

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' && body && 'error' in body ? String((body as { error: { message: string } }).error.message) : `HTTP ${status}`);
  }
}

/** vLLM's ErrorResponse: `code` is the integer HTTP status. */
const vllmError = (message: string, status = 400, type = 'BadRequestError'): HttpError =>
  new HttpError(status, { error: { message, type, param: null, code: status } });

const notFoundRoute = (): HttpError => new HttpError(404, { detail: 'Not Found' });

/** A pydantic-style validation message, as vLLM's RequestValidationError handler prints it. */
const invalid = (loc: string, msg: string, input: unknown): HttpError =>
  vllmError(`[{'type': 'value_error', 'loc': ('body', '${loc}'), 'msg': '${msg}', 'input': ${JSON.stringify(input)}}]`);

// ---------------------------------------------------------------------------------------------
// field readers (wrong types → 400, like pydantic)

type Body = Record<string, unknown>;

function optInt(b: Body, key: string): number | null | undefined {
  const v = b[key];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(key, 'Input should be a valid integer', v);
  return v;
}
function optNum(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(key, 'Input should be a valid number', v);
  return v;
}
function optBool(b: Body, key: string): boolean | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(key, 'Input should be a valid boolean', v);
  return v;
}
function stopStrings(b: Body): string[] {
  const v = b.stop;
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return v ? [v] : [];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return (v as string[]).filter(Boolean);
  throw invalid('stop', 'Input should be a valid string or list of strings', v);
}

// ---------------------------------------------------------------------------------------------
// ordered JSON: Python dicts keep insertion order, JS objects put integer-like keys first

class Ordered {
  constructor(readonly entries: [string, unknown][]) {}
}
function toJson(v: unknown): string {
  if (v instanceof Ordered) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
/** A Python dict built key by key: the first insertion fixes the position, the last value wins. */
function pyDict(pairs: [string, unknown][]): Ordered {
  const m = new Map<string, unknown>();
  for (const [k, x] of pairs) m.set(k, x);
  return new Ordered([...m.entries()]);
}

// ---------------------------------------------------------------------------------------------
// sampling

/** Seeded uniform draws in [0, 1): pure-rand's xoroshiro128+, as the local sampler uses. */
function rng(seed: number): () => number {
  const g = xoroshiro128plus(seed >>> 0);
  // The first outputs from neighbouring seeds (seed + choice index) are close: skip them.
  for (let k = 0; k < 8; k++) g.unsafeNext();
  return () => uniform01(g);
}
/** A 64-bit-ish seed folded to 32 bits (vLLM accepts any int). */
const fold = (x: number): number => ((x >>> 0) ^ Math.imul(Math.floor(x / 4294967296) >>> 0, 0x9e3779b1)) >>> 0;

interface Sampling {
  temperature: number;
  topP: number;
  topK: number;
  seed: number | undefined;
}

function chooser(s: Sampling, index: number): (logits: Float32Array) => number {
  if (s.temperature < 1e-5) return argmax;
  const draw = rng(fold((s.seed ?? Math.floor(Math.random() * 2 ** 32)) + index));
  return (logits) => {
    const V = logits.length;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[v]! / s.temperature);
    const w = new Float64Array(V);
    for (let v = 0; v < V; v++) w[v] = Math.exp(logits[v]! / s.temperature - max);
    const order = Array.from({ length: V }, (_, v) => v).sort((x, y) => w[y]! - w[x]! || x - y);
    const keep = s.topK > 0 ? Math.min(s.topK, V) : V;
    let total = 0;
    for (let i = 0; i < keep; i++) total += w[order[i]!]!;
    // top-p: the smallest head of the sorted list whose mass reaches top_p (at least one token).
    let mass = 0;
    let n = 0;
    while (n < keep) {
      mass += w[order[n]!]!;
      n++;
      if (mass / total >= s.topP) break;
    }
    let u = draw() * mass;
    for (let i = 0; i < n; i++) {
      u -= w[order[i]!]!;
      if (u < 0) return order[i]!;
    }
    return order[n - 1]!;
  };
}

// ---------------------------------------------------------------------------------------------
// the server

interface Generation {
  tokens: number[];
  text: string;
  finishReason: 'stop' | 'length';
  stopReason: string | null;
}

interface Entry {
  id: number;
  logprob: number;
  rank: number;
}

export async function startServedModel(o: ServedModelOptions): Promise<ServedModel> {
  const modelDir = path.resolve(o.modelDir);
  const servedName = o.servedName ?? path.basename(modelDir);
  const mode: ServeMode = o.mode ?? 'vllm';
  const [lm, tok] = await Promise.all([loadCausalLM(modelDir, 1), loadServingTokenizer(modelDir)]);
  const maxModelLen = Math.min(o.maxModelLen ?? tok.maxLength, tok.maxLength);
  const vocab = lm.vocabSize || tok.vocabSize;
  const maxLogprobs = (o.maxLogprobs ?? 20) === -1 ? vocab : (o.maxLogprobs ?? 20);
  const started = Math.floor(Date.now() / 1000);

  let faults: Faults = o.faults ?? {};
  let ordinal = 0;
  let successes = 0;
  let dead = false;
  // Bumped by setFaults so that answers to requests from before the change do not count.
  let faultGeneration = 0;
  const requests: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  // One model call at a time, in arrival order; connections stay concurrent.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  // ---- model helpers --------------------------------------------------------------------------

  const checkModel = (b: Body) => {
    if (b.model === undefined || b.model === null) return;
    if (typeof b.model !== 'string') throw invalid('model', 'Input should be a valid string', b.model);
    if (b.model !== servedName) throw vllmError(`The model \`${b.model}\` does not exist.`, 404, 'NotFoundError');
  };

  const checkIds = (ids: number[]) => {
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= vocab) throw vllmError(`Token id ${id} is out of vocabulary`);
  };

  const contextCheck = (ids: number[], maxTokens: number | null) => {
    const maxLength = maxModelLen - (maxTokens ?? 0);
    if (ids.length > maxLength)
      throw vllmError(
        `This model's maximum context length is ${maxLength} tokens. However, your request has ${ids.length} input tokens. Please reduce the length of the input messages.`,
      );
  };

  const capCheck = (sample: number | null | undefined, prompt: number | null | undefined) => {
    if (sample !== null && sample !== undefined && sample > maxLogprobs)
      throw vllmError(`Requested sample logprobs of ${sample}, which is greater than max allowed: ${maxLogprobs}`);
    if (prompt !== null && prompt !== undefined && prompt > maxLogprobs)
      throw vllmError(`Requested prompt logprobs of ${prompt}, which is greater than max allowed: ${maxLogprobs}`);
  };

  /** Generate, then apply EOS and stop strings the way vLLM's detokenizer does, token by token. */
  const generate = async (prompt: number[], maxNew: number, s: Sampling, index: number, stop: string[]): Promise<Generation> => {
    const budget = Math.min(maxNew, maxModelLen - prompt.length);
    const raw = budget > 0 ? await decodeWith(lm, prompt, budget, chooser(s, index)) : [];
    let prev = '';
    for (let i = 1; i <= raw.length; i++) {
      const tokens = raw.slice(0, i);
      if (tokens[i - 1] === lm.eosId) return { tokens, text: tok.decode(tokens), finishReason: 'stop', stopReason: null };
      const text = tok.decode(tokens);
      const fresh = text.length - prev.length;
      for (const str of stop) {
        const at = text.indexOf(str, Math.max(0, text.length - fresh - str.length + 1));
        if (at >= 0) return { tokens, text: text.slice(0, at), finishReason: 'stop', stopReason: str };
      }
      prev = text;
    }
    return { tokens: raw, text: tok.decode(raw), finishReason: 'length', stopReason: null };
  };

  /** The actual token first (with its rank), then the top k by log-probability (ties by id). */
  const entries = (row: Float64Array, actual: number, k: number): Entry[] => {
    const lp = row[actual]!;
    let ahead = 0;
    for (let v = 0; v < row.length; v++) if (row[v]! >= lp) ahead++;
    const out: Entry[] = [{ id: actual, logprob: lp, rank: ahead }];
    if (k > 0) {
      const order = Array.from({ length: row.length }, (_, v) => v).sort((x, y) => row[y]! - row[x]! || x - y);
      for (let i = 0; i < Math.min(k, row.length); i++) out.push({ id: order[i]!, logprob: row[order[i]!]!, rank: i + 1 });
    }
    return out;
  };

  /** Per-request noise, one value per (position, token) so a number reads the same everywhere. */
  const noiser = () => {
    const j = faults.jitter ?? 0;
    const memo = new Map<string, number>();
    return (pos: number, id: number, lp: number): number => {
      const clamped = Math.max(lp, -9999.0);
      if (!j) return clamped;
      const key = `${pos}:${id}`;
      let n = memo.get(key);
      if (n === undefined) memo.set(key, (n = (Math.random() * 2 - 1) * j));
      return clamped + n;
    };
  };
  type Noise = ReturnType<typeof noiser>;

  /** vLLM's prompt_logprobs element: {"<id>": {logprob, rank, decoded_token}}, actual token first. */
  const promptDict = (es: Entry[], pos: number, noise: Noise): Ordered =>
    pyDict(es.map((e) => [String(e.id), { logprob: noise(pos, e.id, e.logprob), rank: e.rank, decoded_token: tok.decodeRaw([e.id]) }]));

  /** OpenAI completions logprobs over `ids` (positions `start`..), from per-position entry lists. */
  const completionLogprobs = (ids: number[], start: number, perPos: (Entry[] | null)[], k: number, noise: Noise) => {
    const tokens: string[] = [];
    const tokenLogprobs: (number | null)[] = [];
    const top: (Ordered | null)[] = [];
    const offsets: number[] = [];
    let offset = 0;
    ids.forEach((id, i) => {
      const es = perPos[i];
      const token = tok.decodeRaw([id]);
      tokens.push(token);
      if (!es) {
        tokenLogprobs.push(null);
        top.push(null);
      } else {
        const pos = start + i;
        tokenLogprobs.push(noise(pos, id, es[0]!.logprob));
        // The first k+1 entries of the dictionary (actual + k), keyed by decoded token.
        const dict = pyDict(es.map((e) => [String(e.id), e] as [string, unknown]));
        top.push(pyDict(dict.entries.slice(0, k + 1).map(([, e]) => [tok.decodeRaw([(e as Entry).id]), noise(pos, (e as Entry).id, (e as Entry).logprob)])));
      }
      offsets.push(offset);
      offset += token.length;
    });
    return { text_offset: offsets, token_logprobs: tokenLogprobs, tokens, top_logprobs: top };
  };

  /** Turn a prompt field into token-id lists (one per prompt) and their echo texts. */
  const renderPrompts = (p: unknown, addSpecial: boolean): { ids: number[]; text: string | undefined }[] => {
    const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' && Number.isInteger(v));
    let list: (string | number[])[];
    if (typeof p === 'string') list = [p];
    else if (isIds(p)) list = [p];
    else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string' || isIds(x))) list = p as (string | number[])[];
    else if (p === undefined || p === null || p === '' || (Array.isArray(p) && p.length === 0))
      throw vllmError('Either prompt or prompt_embeds must be provided and non-empty.');
    else throw invalid('prompt', 'Input should be a valid string, a list of strings, a list of token ids or a list of lists of token ids', p);
    return list.map((x) => {
      if (typeof x === 'string') {
        if (x === '') throw vllmError('Either prompt or prompt_embeds must be provided and non-empty.');
        return { ids: tok.encodeWith(x, addSpecial), text: x };
      }
      checkIds(x);
      return { ids: x, text: undefined };
    });
  };

  const samplingOf = (b: Body): Sampling => ({
    temperature: optNum(b, 'temperature') ?? 1.0,
    topP: optNum(b, 'top_p') ?? 1.0,
    topK: optInt(b, 'top_k') ?? 0,
    seed: optInt(b, 'seed') ?? undefined,
  });

  // ---- routes ---------------------------------------------------------------------------------

  const models = () => ({
    object: 'list',
    data: [
      {
        id: servedName,
        object: 'model',
        created: Math.floor(Date.now() / 1000),
        owned_by: 'vllm',
        root: modelDir,
        parent: null,
        ...(o.listMaxModelLen === false ? {} : { max_model_len: maxModelLen }),
        permission: [
          {
            id: `modelperm-${randomUUID().replace(/-/g, '')}`,
            object: 'model_permission',
            created: started,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  });

  const completions = async (b: Body) => {
    // SGLang's OpenAI route logs "Echo is not compatible with logprobs" and returns generated tokens only.
    const degraded = mode === 'no-prompt-logprobs' || mode === 'sglang';
    const maxTokensRaw = 'max_tokens' in b ? optInt(b, 'max_tokens') : 16;
    const maxTokens = maxTokensRaw === undefined ? 16 : maxTokensRaw;
    const echo = !degraded && (optBool(b, 'echo') ?? false);
    const logprobs = optInt(b, 'logprobs') ?? null;
    const promptLogprobsAsked = degraded ? null : (optInt(b, 'prompt_logprobs') ?? null);
    const returnIds = !degraded && (optBool(b, 'return_token_ids') ?? false);
    const n = optInt(b, 'n') ?? 1;
    const addSpecial = optBool(b, 'add_special_tokens') ?? true;
    const sampling = samplingOf(b);
    const stop = stopStrings(b);
    if (optBool(b, 'stream')) throw vllmError('stream is not supported by this test server');
    if (logprobs !== null && logprobs < 0 && logprobs !== -1) throw vllmError('`logprobs` must be a positive value or -1.');
    if (promptLogprobsAsked !== null && promptLogprobsAsked < 0 && promptLogprobsAsked !== -1)
      throw vllmError('`prompt_logprobs` must be a positive value or -1.');
    if (n < 1) throw invalid('n', 'Input should be greater than or equal to 1', n);
    if (maxTokens !== null && maxTokens < 0) throw invalid('max_tokens', 'Input should be greater than or equal to 0', maxTokens);
    checkModel(b);

    const prompts = renderPrompts(b.prompt, addSpecial);
    for (const p of prompts) contextCheck(p.ids, maxTokens);
    if (maxTokens === 0 && !echo && !degraded) throw vllmError('max_tokens must be at least 1, got 0.');
    const k = logprobs === -1 ? vocab : logprobs;
    // vLLM: prompt_logprobs defaults to logprobs when echo is on.
    const promptK = promptLogprobsAsked === -1 ? vocab : (promptLogprobsAsked ?? (echo ? k : null));
    if (!degraded) capCheck(k, promptK);

    const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const choices: unknown[] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    for (const p of prompts) {
      const P = p.ids.length;
      promptTokens += P;
      // echo with max_tokens 0 still samples one token in vLLM; only prompt data is returned.
      const echoOnly = echo && maxTokens === 0;
      const maxNew = echoOnly ? 1 : maxTokens === null ? maxModelLen - P : maxTokens;
      for (let c = 0; c < n; c++) {
        const noise = noiser();
        const { gen, dists } = await exclusive(async () => {
          const g = await generate(p.ids, maxNew, sampling, c, stop);
          const needs = k !== null || promptK !== null;
          const d: Distributions | undefined = needs ? await distributionsOf(lm, [...p.ids, ...g.tokens]) : undefined;
          return { gen: g, dists: d };
        });
        completionTokens += gen.tokens.length;
        const full = [...p.ids, ...gen.tokens];
        const at = (pos: number, kk: number) => entries(dists!.at(pos - 1), full[pos]!, kk);
        const promptEntries: (Entry[] | null)[] | undefined =
          promptK === null ? undefined : p.ids.map((_, i) => (i === 0 ? null : at(i, promptK)));
        const genEntries: Entry[][] | undefined = k === null ? undefined : gen.tokens.map((_, j) => at(P + j, k));
        const promptText = returnIds ? '' : (p.text ?? tok.decodeRaw(p.ids));

        let text: string;
        let lp: unknown = null;
        if (echoOnly) {
          text = promptText;
          if (k !== null) lp = completionLogprobs(p.ids, 0, promptEntries!, k, noise);
        } else if (echo) {
          text = promptText + gen.text;
          if (k !== null) lp = completionLogprobs(full, 0, [...promptEntries!, ...genEntries!], k, noise);
        } else {
          text = gen.text;
          if (k !== null) lp = completionLogprobs(gen.tokens, P, genEntries!, k, noise);
        }
        const choice: Record<string, unknown> = {
          index: choices.length,
          text,
          logprobs: lp,
          finish_reason: gen.finishReason,
          stop_reason: gen.stopReason,
        };
        if (!degraded) {
          choice.token_ids = returnIds ? gen.tokens : null;
          choice.prompt_logprobs = promptEntries ? promptEntries.map((es, i) => (es ? promptDict(es, i, noise) : null)) : null;
          choice.prompt_token_ids = returnIds ? p.ids : null;
        }
        choices.push(choice);
      }
    }
    return {
      id,
      object: 'text_completion',
      created,
      model: servedName,
      choices,
      service_tier: null,
      system_fingerprint: null,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens, prompt_tokens_details: null },
      kv_transfer_params: null,
    };
  };

  const chat = async (b: Body) => {
    const messages = b.messages;
    if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages', 'Input should be a non-empty list of messages', messages ?? null);
    const parts = messages.map((m, i) => {
      if (!m || typeof m !== 'object' || typeof (m as Body).role !== 'string') throw invalid(`messages.${i}`, 'Input should be a message with a role', m);
      const c = (m as Body).content;
      if (c === undefined || c === null) return '';
      if (typeof c === 'string') return c;
      if (Array.isArray(c) && c.every((x) => x && typeof x === 'object' && (x as Body).type === 'text' && typeof (x as Body).text === 'string'))
        return c.map((x) => (x as { text: string }).text).join('\n');
      throw invalid(`messages.${i}.content`, 'Input should be a string or a list of text parts', c);
    });
    const maxTokens = optInt(b, 'max_completion_tokens') ?? optInt(b, 'max_tokens') ?? null;
    const logprobs = optBool(b, 'logprobs') ?? false;
    const topLogprobs = optInt(b, 'top_logprobs') ?? null;
    const n = optInt(b, 'n') ?? 1;
    const sampling = samplingOf(b);
    const stop = stopStrings(b);
    if (optBool(b, 'stream')) throw vllmError('stream is not supported by this test server');
    if (optBool(b, 'echo')) throw vllmError('echo is not supported by this test server on chat completions');
    if (topLogprobs !== null && !logprobs) throw vllmError('when using `top_logprobs`, `logprobs` must be set to true.');
    if (topLogprobs !== null && topLogprobs < 0 && topLogprobs !== -1) throw vllmError('`top_logprobs` must be a positive value or -1.');
    if (n < 1) throw invalid('n', 'Input should be greater than or equal to 1', n);
    if (maxTokens !== null && maxTokens < 1) throw vllmError(`max_tokens must be at least 1, got ${maxTokens}.`);
    checkModel(b);

    const ids = tok.encodeWith(parts.join('\n'), true);
    contextCheck(ids, maxTokens);
    const k = !logprobs ? null : topLogprobs === -1 ? vocab : (topLogprobs ?? 0);
    capCheck(k, null);
    const P = ids.length;
    const choices: unknown[] = [];
    let completionTokens = 0;
    for (let c = 0; c < n; c++) {
      const noise = noiser();
      const { gen, dists } = await exclusive(async () => {
        const g = await generate(ids, maxTokens ?? maxModelLen - P, sampling, c, stop);
        return { gen: g, dists: k === null ? undefined : await distributionsOf(lm, [...ids, ...g.tokens]) };
      });
      completionTokens += gen.tokens.length;
      let lp: unknown = null;
      if (k !== null && dists) {
        lp = {
          content: gen.tokens.map((t, j) => {
            const pos = P + j;
            const es = entries(dists.at(pos - 1), t, k);
            const dict = pyDict(es.map((e) => [String(e.id), e] as [string, unknown]));
            const token = tok.decodeRaw([t]);
            return {
              token,
              logprob: noise(pos, t, es[0]!.logprob),
              bytes: [...Buffer.from(token, 'utf8')],
              top_logprobs: dict.entries.slice(0, k).map(([, e]) => {
                const s = tok.decodeRaw([(e as Entry).id]);
                return { token: s, logprob: noise(pos, (e as Entry).id, (e as Entry).logprob), bytes: [...Buffer.from(s, 'utf8')] };
              }),
            };
          }),
        };
      }
      choices.push({
        index: c,
        message: {
          role: 'assistant',
          content: gen.text,
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: [],
          reasoning_content: null,
        },
        logprobs: lp,
        finish_reason: gen.finishReason,
        stop_reason: gen.stopReason,
        token_ids: null,
      });
    }
    return {
      id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: servedName,
      choices,
      service_tier: null,
      system_fingerprint: null,
      usage: { prompt_tokens: P, total_tokens: P + completionTokens, completion_tokens: completionTokens, prompt_tokens_details: null },
      prompt_logprobs: null,
      prompt_token_ids: null,
      kv_transfer_params: null,
    };
  };

  const tokenize = (b: Body) => {
    if (b.messages !== undefined) throw vllmError('chat-style /tokenize (messages) is not supported by this test server');
    if (typeof b.prompt !== 'string') throw invalid('prompt', 'Input should be a valid string', b.prompt ?? null);
    const add = optBool(b, 'add_special_tokens') ?? true;
    const strs = optBool(b, 'return_token_strs') ?? false;
    checkModel(b);
    const tokens = tok.encodeWith(b.prompt, add);
    return { count: tokens.length, max_model_len: maxModelLen, tokens, token_strs: strs ? tokens.map((t) => tok.piece(t)) : null };
  };

  const detokenize = (b: Body) => {
    const t = b.tokens;
    if (!Array.isArray(t) || !t.every((x) => typeof x === 'number' && Number.isInteger(x))) throw invalid('tokens', 'Input should be a valid list of integers', t ?? null);
    checkModel(b);
    checkIds(t as number[]);
    return { prompt: tok.decodeRaw(t as number[]) };
  };

  /** Log-probabilities of every prompt position but the first (which has no conditional). */
  const promptLogprobs = async (ids: number[]): Promise<number[]> => {
    const dists = await exclusive(() => distributionsOf(lm, ids));
    const noise = noiser();
    return ids.slice(1).map((id, i) => noise(i + 1, id, dists.at(i)[id]!));
  };

  /** SGLang's native /generate (io_struct.GenerateReqInput): one request, `text` or `input_ids`. */
  const sglangGenerate = async (b: Body) => {
    const sp = (b.sampling_params ?? {}) as Body;
    const ids = Array.isArray(b.input_ids) ? (b.input_ids as number[]) : typeof b.text === 'string' ? tok.encodeWith(b.text, true) : undefined;
    if (!ids || ids.length === 0) throw new HttpError(400, { error: { message: 'Either text or input_ids should be provided.', code: 400 } });
    checkIds(ids);
    const maxNew = typeof sp.max_new_tokens === 'number' ? sp.max_new_tokens : 128;
    const temperature = typeof sp.temperature === 'number' ? sp.temperature : 1;
    if (ids.length + maxNew > maxModelLen)
      throw new HttpError(400, { error: { message: `Input length (${ids.length} tokens) exceeds the maximum allowed length (${maxModelLen - maxNew} tokens).`, code: 400 } });
    const g = maxNew > 0 ? await exclusive(() => generate(ids, maxNew, { temperature, topP: 1, topK: -1, seed: typeof sp.seed === 'number' ? sp.seed : undefined }, 0, [])) : { tokens: [], text: '', finishReason: 'length', stopReason: null };
    const meta: Record<string, unknown> = {
      id: randomUUID().replace(/-/g, ''),
      finish_reason: { type: g.finishReason === 'stop' ? 'stop' : 'length', ...(g.finishReason === 'length' ? { length: maxNew } : { matched: lm.eosId ?? null }) },
      prompt_tokens: ids.length,
      completion_tokens: g.tokens.length,
      cached_tokens: 0,
    };
    if (b.return_logprob === true) {
      const start = typeof b.logprob_start_len === 'number' ? b.logprob_start_len : -1;
      if (start >= 0) {
        const lps = await promptLogprobs(ids);
        // [logprob, token_id, text]; the first element's logprob is null (test_srt_endpoint).
        meta.input_token_logprobs = ids.slice(start).map((id, i) => [start + i === 0 ? null : lps[start + i - 1]!, id, b.return_text_in_logprobs ? tok.decodeRaw([id]) : null]);
      } else meta.input_token_logprobs = [];
      meta.output_token_logprobs = [];
    }
    return { text: g.text, output_ids: g.tokens, meta_info: meta };
  };

  /** TGI's native /generate (router/src/lib.rs GenerateRequest): `inputs` is text. */
  const tgiGenerate = async (b: Body) => {
    if (typeof b.inputs !== 'string' || b.inputs === '') throw new HttpError(422, { error: 'Input validation error: `inputs` cannot be empty', error_type: 'validation' });
    const pa = (b.parameters ?? {}) as Body;
    const ids = tok.encodeWith(b.inputs, true);
    const maxNew = typeof pa.max_new_tokens === 'number' ? pa.max_new_tokens : 100;
    if (ids.length + maxNew > maxModelLen)
      throw new HttpError(422, { error: `Input validation error: \`inputs\` tokens + \`max_new_tokens\` must be <= ${maxModelLen}. Given: ${ids.length} \`inputs\` tokens and ${maxNew} \`max_new_tokens\``, error_type: 'validation' });
    const sample = pa.do_sample === true;
    const g = await exclusive(() => generate(ids, maxNew, { temperature: sample ? (typeof pa.temperature === 'number' ? pa.temperature : 1) : 0, topP: 1, topK: -1, seed: typeof pa.seed === 'number' ? pa.seed : undefined }, 0, []));
    const out: Record<string, unknown> = { generated_text: g.text };
    if (pa.details === true) {
      // Without --enable-prefill-logprobs TGI 3 answers 200 with an empty prefill (TGI#3070).
      const prefill =
        pa.decoder_input_details === true && o.prefillLogprobs === true
          ? await promptLogprobs(ids).then((lps) => ids.map((id, i) => ({ id, text: tok.decodeRaw([id]), logprob: i === 0 ? null : lps[i - 1]! })))
          : [];
      out.details = {
        finish_reason: g.finishReason === 'stop' ? 'eos_token' : 'length',
        generated_tokens: g.tokens.length,
        seed: null,
        prefill,
        tokens: g.tokens.map((id) => ({ id, text: tok.decodeRaw([id]), logprob: null, special: id === lm.eosId })),
      };
    }
    return out;
  };

  const route = async (method: string, url: string, body: Body): Promise<unknown> => {
    const chatOnly = mode === 'chat-only' || mode === 'tgi';
    if (url === '/generate' && (mode === 'sglang' || mode === 'tgi')) {
      if (method !== 'POST') throw new HttpError(405, { detail: 'Method Not Allowed' });
      return mode === 'sglang' ? sglangGenerate(body) : tgiGenerate(body);
    }
    if (url === '/tokenize' && mode === 'tgi') {
      if (typeof body.inputs !== 'string') throw new HttpError(422, { error: 'Input validation error: `inputs` must be a string', error_type: 'validation' });
      return tok.encodeWith(body.inputs, body.add_special_tokens !== false).map((id) => ({ id, text: tok.decodeRaw([id]), special: false, start: null, stop: null }));
    }
    if (url === '/tokenize' && mode === 'sglang') throw notFoundRoute();
    const post = (fn: () => unknown | Promise<unknown>) => {
      if (method !== 'POST') throw new HttpError(405, { detail: 'Method Not Allowed' });
      return fn();
    };
    switch (url) {
      case '/v1/models':
        if (method !== 'GET') throw new HttpError(405, { detail: 'Method Not Allowed' });
        return models();
      case '/health':
        return {};
      case '/v1/completions':
        if (chatOnly) throw notFoundRoute();
        return post(() => completions(body));
      case '/v1/chat/completions':
        return post(() => chat(body));
      case '/tokenize':
        if (chatOnly) throw notFoundRoute();
        return post(() => tokenize(body));
      case '/detokenize':
        if (chatOnly) throw notFoundRoute();
        return post(() => detokenize(body));
      default:
        throw notFoundRoute();
    }
  };

  // ---- HTTP -----------------------------------------------------------------------------------

  const server = http.createServer();
  server.on('connection', (s: Socket) => {
    if (dead) {
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const die = () => {
    dead = true;
    server.close();
    for (const s of sockets) s.destroy();
  };

  server.on('request', (req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    const h = req.headers;
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url,
      body: undefined,
      status: undefined,
      headers: {
        ...(h['x-stainless-retry-count'] !== undefined ? { 'x-stainless-retry-count': String(h['x-stainless-retry-count']) } : {}),
        ...(h['x-stainless-timeout'] !== undefined ? { 'x-stainless-timeout': String(h['x-stainless-timeout']) } : {}),
        ...(h['content-type'] !== undefined ? { 'content-type': String(h['content-type']) } : {}),
        authorization: h.authorization !== undefined,
      },
      at: Date.now(),
    };
    requests.push(entry);
    const v1Post = entry.method === 'POST' && url.startsWith('/v1/');
    // The ordinal is taken on arrival, before the body is read, so counting follows arrival order.
    const n = v1Post ? ++ordinal : undefined;
    if (n !== undefined) entry.ordinal = n;
    const generation = faultGeneration;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: Body = {};
        let parseError: HttpError | undefined;
        if (raw.trim()) {
          try {
            const parsed: unknown = JSON.parse(raw);
            entry.body = parsed;
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Body;
            else parseError = vllmError(`[{'type': 'model_attributes_type', 'loc': ('body',), 'msg': 'Input should be a valid dictionary or object to extract fields from', 'input': ${JSON.stringify(parsed)}}]`);
          } catch (e) {
            entry.body = raw;
            parseError = vllmError(`[{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', 'input': {}, 'ctx': {'error': '${(e as Error).message.replace(/'/g, '"')}'}}]`);
          }
        }
        const f = faults;
        if (f.slowMs) await sleep(f.slowMs);
        if (dead || res.destroyed) return;
        if (n !== undefined && f.hangEvery && n % f.hangEvery === 0) return; // never answered; close() ends it
        let status = 200;
        let payload: unknown;
        let headers: Record<string, string> = {};
        try {
          if (n !== undefined && f.rateLimit && n % f.rateLimit.every === 0) {
            headers = {
              ...(f.rateLimit.retryAfter !== undefined ? { 'retry-after': f.rateLimit.retryAfter } : {}),
              ...(f.rateLimit.retryAfterMs !== undefined ? { 'retry-after-ms': f.rateLimit.retryAfterMs } : {}),
            };
            throw new HttpError(429, { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, headers);
          }
          if (n !== undefined && f.serverError && n % f.serverError.every === 0) {
            const s = f.serverError.status ?? 500;
            const type = s === 503 ? 'ServiceUnavailableError' : s === 502 ? 'BadGatewayError' : 'InternalServerError';
            throw vllmError(s === 503 ? 'Service Unavailable' : s === 502 ? 'Bad Gateway' : 'Internal Server Error', s, type);
          }
          if (parseError && ['/v1/completions', '/v1/chat/completions', '/tokenize', '/detokenize'].includes(url) && !(mode === 'chat-only' && url !== '/v1/chat/completions'))
            throw parseError;
          payload = await route(entry.method, url, body);
        } catch (e) {
          if (e instanceof HttpError) {
            status = e.status;
            payload = e.body;
            headers = e.headers;
          } else {
            status = 500;
            payload = { error: { message: (e as Error).message, type: 'InternalServerError', param: null, code: 500 } };
          }
        }
        if (dead || res.destroyed) return;
        const text = toJson(payload);
        entry.status = status;
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
        res.end(text, () => {
          if (n === undefined || status < 200 || status >= 300 || generation !== faultGeneration) return;
          successes++;
          if (faults.dieAfter && successes >= faults.dieAfter) die();
        });
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('the server has no TCP address');
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    baseURL: `http://${host}:${addr.port}/v1`,
    servedName,
    maxModelLen,
    requests,
    setFaults(f) {
      faults = f;
      ordinal = 0;
      successes = 0;
      faultGeneration++;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      dead = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      await queue.catch(() => undefined);
    },
  };
}
