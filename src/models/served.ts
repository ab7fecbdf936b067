/**
 * A causal LM served over an OpenAI-compatible HTTP API (vLLM, SGLang's and TGI's OpenAI routes, a
 * vendor's completions endpoint), through the official `openai` client. What a server can do is
 * probed, never assumed from its name (shared/research/api-targets.md §0, §10.8): several servers
 * answer 200 with an empty or missing field when a launch flag is off, so the probe judges content.
 *
 * - Scoring a given text (tokenLogprobs): legacy completions with `echo` + `logprobs` and
 *   `max_tokens: 0` (vLLM, OpenAI *-002, Together; §1 form A, §4), else vLLM's `prompt_logprobs`
 *   (§1 form B). Position 0 has no conditional and comes back `null`: it is dropped, exactly as the
 *   local path scores tokens 1..n−1. `-inf` comes back clamped to −9999 (§1 "Clamps"): kept at
 *   −9999 (the true value is lower still) and counted, so a reader knows a mean may be dominated.
 * - Prompts go as token ids from the local tokenizer (no re-tokenisation); the server's own
 *   tokenisation of a probe text is compared with the local one (`/tokenize`, else the echoed
 *   tokens), and a mismatch is an input error, never a silent shift.
 * - Min-K%++ needs the whole next-token distribution; servers return at most the top 5–20
 *   alternatives, so a served model never has `tokenStats`.
 * - Greedy generation (generate): completions at temperature 0 with a seed, token ids read back
 *   with vLLM's `return_token_ids` where given; a chat-only endpoint continues the prefix as a user
 *   message (a weaker threat model: the chat template wraps the prefix).
 *
 * Retries (429, 5xx, timeouts, connection errors, honouring retry-after) are the SDK's; concurrency
 * is a p-limit here; every response is cached by the caller (src/audit/signals.ts), so a repeated or
 * resumed audit sends nothing twice. API keys come from the environment and are never logged.
 */
import { createHash } from 'node:crypto';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import pLimit from 'p-limit';
import { z } from 'zod';
import type { ServedConfig } from '../config/load.ts';
import type { ServedRunStats } from '../result/types.ts';
import { InputError, ServedUnavailableError, type Where } from '../errors.ts';
import { loadTokenizer, type Tokenizer } from './hf.ts';
import { fromSglang, fromTgi, sglangScoreBody, tgiGenerateBody, tgiGenerated, tgiScoreBody, tgiTokenize } from './served-native.ts';

/** What vLLM (and OpenAI) send for a log-probability of −inf. */
export const CLAMPED_LOGPROB = -9999;
/** The probe's text: plain ASCII words, tokenised the same by any byte-level BPE of the family. */
export const PROBE_TEXT = 'Hello, my parcel 4417 is late.';


/**
 * How a given text is scored: OpenAI completions with echo + logprobs; vLLM's prompt_logprobs;
 * SGLang's native /generate; TGI's native /generate (src/models/served-native.ts).
 */
export type ScoringForm = 'echo' | 'prompt-logprobs' | 'sglang' | 'tgi';

export interface ServedProbe {
  /** How a given text is scored; null when the endpoint cannot return prompt log-probabilities. */
  scoring: ScoringForm | null;
  /** Greedy continuation: legacy completions, or a chat message (weaker), or none. */
  generation: 'completions' | 'tgi' | 'chat' | null;
  /** What the probe found, one line per protocol tried (for the report's coverage section). */
  findings: string[];
  /** How the local tokenizer was checked against the server's. */
  tokenizerCheck: 'tokenize-endpoint' | 'echoed-tokens' | 'prompt-token-count' | 'not-checked';
  servedModel: { id: string; root?: string; ownedBy?: string; maxModelLen?: number };
  systemFingerprint?: string;
  /** Hash of the probe's log-probabilities (2 decimals): redeployed weights under the same name change it. */
  fingerprint: string;
  /** The context used: the smaller of the tokenizer's config and the server's max_model_len. */
  maxLength: number;
}

/** What the audit sent a served model (the probe's requests not included); see ServedRunStats. */
export type ServedStats = Omit<ServedRunStats, 'repeated'>;

export interface ServedModel {
  readonly config: ServedConfig;
  readonly tokenizer: Tokenizer;
  readonly probe: ServedProbe;
  readonly stats: ServedStats;
  /** log p(x_t | x_<t) for t = 1..n−1 of `ids` (the local path's TokenSignals.logprobs). */
  score(ids: number[]): Promise<Float32Array>;
  /** Greedy continuation of `ids`: at most `maxNewTokens` new token ids, cut at end-of-sequence. */
  generate(ids: number[], maxNewTokens: number, seed: number): Promise<number[]>;
  /**
   * `o.n` sampled continuations of `ids` at `o.temperature` with `o.seed`, in one request (the `n`
   * parameter): token ids, at most `maxNewTokens` each, cut at end-of-sequence.
   */
  sample(ids: number[], o: { n: number; maxNewTokens: number; temperature: number; seed: number }): Promise<number[][]>;
}

// Response shapes, checked: the SDK's types describe OpenAI, not the servers' extensions (§9).
const echoLogprobs = z.object({
  tokens: z.array(z.string()).optional(),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
});
const completionChoice = z.object({
  index: z.int().optional(),
  text: z.string().default(''),
  logprobs: echoLogprobs.nullable().optional(),
  finish_reason: z.string().nullable().optional(),
  prompt_logprobs: z.array(z.record(z.string(), z.object({ logprob: z.number() }).passthrough()).nullable()).nullable().optional(),
  prompt_token_ids: z.array(z.int()).nullable().optional(),
  token_ids: z.array(z.int()).nullable().optional(),
});
const completion = z.object({
  choices: z.array(completionChoice).min(1),
  system_fingerprint: z.string().nullable().optional(),
  usage: z
    .object({
      prompt_tokens: z.number().optional(),
      completion_tokens: z.number().optional(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().nullable().optional() }).nullable().optional(),
    })
    .nullable()
    .optional(),
});
const chatCompletion = z.object({
  choices: z.array(z.object({ index: z.int().optional(), message: z.object({ content: z.string().nullable() }) })).min(1),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() }).nullable().optional(),
});
const modelList = z.object({ data: z.array(z.object({ id: z.string(), root: z.string().nullish(), owned_by: z.string().nullish(), max_model_len: z.number().nullish() }).passthrough()) });
const tokenizeResponse = z.object({ tokens: z.array(z.int()), max_model_len: z.number().optional() });

type Completion = z.output<typeof completion>;

/** The API root without its version folder: vLLM serves /tokenize beside /v1, not under it. */
function serverRoot(baseURL: string): string {
  return baseURL.replace(/\/v\d+$/, '');
}

/** One line about an HTTP failure, without anything from the request (record text) in it. */
function describeFailure(e: unknown): string {
  if (e instanceof APIConnectionError) return `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}`;
  if (e instanceof APIError) return `HTTP ${e.status ?? '?'}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** A failure the server will not get over by itself: our request, our key, our model name. */
const isRequestError = (e: unknown): e is APIError => e instanceof APIError && e.status !== undefined && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 409 && e.status !== 429;

export async function openServedModel(config: ServedConfig, where: Where, log: (line: string) => void = () => {}): Promise<ServedModel> {
  const label = `models.${where.field?.split('.')[1] ?? '?'} (${config.model} at ${config.baseURL})`;
  let apiKey = 'EMPTY';
  if (config.apiKeyEnv !== undefined) {
    const v = process.env[config.apiKeyEnv];
    if (!v) throw new InputError(`the API key of ${label} is read from the environment variable ${config.apiKeyEnv}, which is not set`, where);
    apiKey = v;
  }
  const stats: ServedStats = { requests: 0, attempts: 0, promptTokens: 0, completionTokens: 0, clamped: 0, cachedTokens: 0 };
  const countingFetch: typeof fetch = (input, init) => {
    stats.attempts++;
    return fetch(input, init);
  };
  const client = new OpenAI({
    baseURL: config.baseURL,
    apiKey,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    fetch: countingFetch,
    // Debug logging prints request bodies, i.e. record text: never, whatever OPENAI_LOG says.
    logLevel: 'off',
  });
  const limit = pLimit(config.maxConcurrency);
  let unavailable: ServedUnavailableError | undefined;
  const tokenizer = await loadTokenizer(config.tokenizer);

  /** A request, limited and counted; HTTP failures become an input error or "unavailable". */
  async function call<T>(what: string, send: () => Promise<unknown>, shape: z.ZodType<T>): Promise<T> {
    return limit(async () => {
      // Once the server is given up on, queued requests fail at once instead of each waiting out
      // its retries: the audit stops soon, with every answered request cached.
      if (unavailable) throw unavailable;
      stats.requests++;
      let raw: unknown;
      try {
        raw = await send();
      } catch (e) {
        if (isRequestError(e)) throw new InputError(`${label} refused ${what}: ${describeFailure(e)}`, where);
        throw (unavailable ??= new ServedUnavailableError(`${label} failed ${what} after ${config.maxRetries} retries: ${describeFailure(e)}`));
      }
      const r = shape.safeParse(raw);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        throw new InputError(`${label} answered ${what} with an unexpected shape: ${issue.path.join('.') || 'body'}: ${issue.message}`, where);
      }
      return r.data;
    });
  }

  const account = (c: Completion | z.output<typeof chatCompletion>) => {
    stats.promptTokens += c.usage?.prompt_tokens ?? 0;
    stats.completionTokens += c.usage?.completion_tokens ?? 0;
    const details = (c.usage as { prompt_tokens_details?: { cached_tokens?: number | null } | null } | null | undefined)?.prompt_tokens_details;
    stats.cachedTokens += details?.cached_tokens ?? 0;
  };

  const echoRequest = (prompt: number[] | string) =>
    client.completions.create({ model: config.model, prompt, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
  // vLLM's extension (sent as-is by the SDK): k = 0 returns the actual token's log-probability only.
  const promptLogprobsRequest = (prompt: number[]) =>
    client.completions.create({ model: config.model, prompt, max_tokens: 1, temperature: 0, prompt_logprobs: 0, return_token_ids: true } as OpenAI.CompletionCreateParamsNonStreaming);

  /** Log-probabilities of tokens 1..n−1 from an echo response; an Error saying what is wrong otherwise. */
  function fromEcho(c: Completion, ids: number[]): Float32Array | Error {
    const lp = c.choices[0]!.logprobs;
    if (!lp) return new Error('the response has no logprobs (echo with logprobs is not supported, or was ignored)');
    if (lp.token_logprobs.length !== ids.length) {
      return new Error(`the server scored ${lp.token_logprobs.length} prompt tokens, expected ${ids.length} (tokenisation or echo mismatch)`);
    }
    return values(lp.token_logprobs, ids.length);
  }
  function fromPromptLogprobs(c: Completion, ids: number[]): Float32Array | Error {
    const ch = c.choices[0]!;
    const pl = ch.prompt_logprobs;
    if (!pl) return new Error('the response has no prompt_logprobs (the field was ignored)');
    if (pl.length !== ids.length) return new Error(`the server scored ${pl.length} prompt tokens, expected ${ids.length}`);
    if (ch.prompt_token_ids && ch.prompt_token_ids.join(',') !== ids.join(',')) return new Error('the server scored other token ids than it was sent');
    const raw = pl.map((entry, i) => (i === 0 || entry === null ? null : (entry[String(ids[i])]?.logprob ?? Number.NaN)));
    if (raw.some((v) => Number.isNaN(v))) return new Error('prompt_logprobs lacks the actual token at some position');
    return values(raw, ids.length);
  }
  /** Drops position 0 (always null), checks the rest are numbers, counts clamped values. */
  function values(raw: (number | null)[], n: number): Float32Array | Error {
    const out = new Float32Array(Math.max(n - 1, 0));
    for (let t = 1; t < n; t++) {
      const v = raw[t];
      if (v === null || v === undefined || !Number.isFinite(v)) return new Error(`no log-probability at prompt position ${t}`);
      if (v <= CLAMPED_LOGPROB) stats.clamped++;
      out[t - 1] = v;
    }
    return out;
  }

  const root = serverRoot(config.baseURL);
  let systemFingerprint: string | undefined;
  /** One scoring request in `form`: the answer's log-probabilities of tokens 1..n−1, or what is wrong with it. */
  async function scoreWith(form: ScoringForm, ids: number[], send: <T>(what: string, go: () => Promise<unknown>, shape: z.ZodType<T>) => Promise<T>): Promise<Float32Array | Error> {
    if (form === 'echo' || form === 'prompt-logprobs') {
      const c = await send('a scoring request', () => (form === 'echo' ? echoRequest(ids) : promptLogprobsRequest(ids)), completion);
      account(c);
      if (c.system_fingerprint) systemFingerprint ??= c.system_fingerprint;
      return form === 'echo' ? fromEcho(c, ids) : fromPromptLogprobs(c, ids);
    }
    // The native routes sit beside /v1, at the server's root.
    const raw = await send('a scoring request', () => client.post(`${root}/generate`, { body: form === 'sglang' ? sglangScoreBody(ids) : tgiScoreBody(tokenizer.decode(ids.slice(tokenizer.leading))) }), z.unknown());
    const r = form === 'sglang' ? fromSglang(raw, ids) : fromTgi(raw, ids);
    return r instanceof Error ? r : values(r, ids.length);
  }
  const direct = <T>(_what: string, go: () => Promise<unknown>, shape: z.ZodType<T>) => go().then((v) => shape.parse(v));

  /** A continuation cut before its first end-of-sequence token, at most `max` tokens. */
  const cut = (out: number[], max: number): number[] => {
    const end = tokenizer.eosId === undefined ? -1 : out.indexOf(tokenizer.eosId);
    return (end < 0 ? out : out.slice(0, end)).slice(0, max);
  };

  // ---- The probe: a few small requests that say what this endpoint can do. ----
  const findings: string[] = [];
  let servedModel: ServedProbe['servedModel'] = { id: config.model };
  try {
    const list = modelList.parse(await client.models.list());
    const entry = list.data.find((m) => m.id === config.model);
    if (!entry) {
      const ids = list.data.map((m) => m.id);
      throw new InputError(`${config.baseURL} does not serve a model "${config.model}"; it serves ${ids.length > 0 ? ids.map((i) => `"${i}"`).join(', ') : 'none'}`, where);
    }
    servedModel = {
      id: entry.id,
      ...(entry.root ? { root: entry.root } : {}),
      ...(entry.owned_by ? { ownedBy: entry.owned_by } : {}),
      ...(typeof entry.max_model_len === 'number' ? { maxModelLen: entry.max_model_len } : {}),
    };
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof APIError && e.status === 401) throw new InputError(`${config.baseURL} rejected the API key (HTTP 401)${config.apiKeyEnv ? ` from ${config.apiKeyEnv}` : '; set apiKeyEnv'}`, where);
    if (e instanceof APIError && e.status === 404) findings.push('GET /models is not served; the model id is not checked');
    else throw new InputError(`cannot reach ${label}: ${describeFailure(e)}`, where);
  }
  const maxLength = Math.min(tokenizer.maxLength, servedModel.maxModelLen ?? Infinity);
  const probeIds = tokenizer.encode(PROBE_TEXT);

  let scoring: ServedProbe['scoring'] = null;
  let probeLogprobs: Float32Array | undefined;
  const tryScoring = async (form: ScoringForm) => {
    try {
      const r = await scoreWith(form, probeIds, direct);
      if (r instanceof Error) {
        findings.push(`${form}: answered, but ${r.message}`);
        return;
      }
      scoring = form;
      probeLogprobs = r;
      findings.push(`${form}: prompt log-probabilities returned`);
    } catch (e) {
      if (e instanceof z.ZodError) findings.push(`${form}: answered with an unexpected shape`);
      else if (isRequestError(e)) findings.push(`${form}: refused (${describeFailure(e)})`);
      else throw new InputError(`${label} failed the capability probe: ${describeFailure(e)}`, where);
    }
  };
  // The OpenAI route first (what vLLM and vendors speak), then the native routes of SGLang and TGI.
  for (const form of ['echo', 'prompt-logprobs', 'sglang', 'tgi'] as const) {
    if (scoring === null && (config.protocol === 'auto' || config.protocol === form)) await tryScoring(form);
  }
  if (scoring === null && config.protocol !== 'auto' && config.protocol !== 'chat') {
    throw new InputError(`${label} was configured with protocol "${config.protocol}" but cannot score a prompt that way: ${findings.join('; ')}`, where);
  }

  let generation: ServedProbe['generation'] = null;
  // A TGI that scores natively also generates natively (its OpenAI route is chat only: no template here).
  if (scoring === 'tgi') {
    generation = 'tgi';
    findings.push('tgi: greedy generation through /generate');
  }
  /**
   * One generation probe: true when `attempt` answers in the expected shape. A refusal (4xx) or
   * another shape is a finding; a server that cannot be reached is exit 2.
   */
  const generates = async (name: string, works: string, attempt: () => Promise<unknown>): Promise<boolean> => {
    try {
      await attempt();
      findings.push(`${name}: ${works}`);
      return true;
    } catch (e) {
      if (e instanceof z.ZodError) findings.push(`${name}: answered with an unexpected shape`);
      else if (isRequestError(e)) findings.push(`${name}: refused (${describeFailure(e)})`);
      else throw new InputError(`${label} failed the capability probe: ${describeFailure(e)}`, where);
      return false;
    }
  };
  // TGI without --enable-prefill-logprobs still generates on its native route.
  if (generation === null && (config.protocol === 'auto' || config.protocol === 'tgi')) {
    const tgi = async () => {
      const r = tgiGenerated(await client.post(`${root}/generate`, { body: tgiGenerateBody(PROBE_TEXT, 1, 0) }));
      if (r instanceof Error) throw new z.ZodError([{ code: 'custom', path: [], message: r.message, input: undefined }]);
    };
    if (await generates('tgi', 'greedy generation through /generate', tgi)) generation = 'tgi';
  }
  if (generation === null && config.protocol !== 'chat') {
    const completions = async () => completion.parse(await client.completions.create({ model: config.model, prompt: probeIds, max_tokens: 1, temperature: 0 }));
    if (await generates('completions', 'greedy generation works', completions)) generation = 'completions';
  }
  if (generation === null) {
    const chat = async () => chatCompletion.parse(await client.chat.completions.create({ model: config.model, messages: [{ role: 'user', content: PROBE_TEXT }], max_tokens: 1, temperature: 0 }));
    if (await generates('chat completions', 'generation works (the prefix is sent as a user message)', chat)) generation = 'chat';
  }

  // The server's tokenisation against the local one: /tokenize where served (vLLM, TGI, llama.cpp),
  // else the token count of an echo of the probe as text. A mismatch would shift every score.
  let tokenizerCheck: ServedProbe['tokenizerCheck'] = 'not-checked';
  const mismatch = (theirs: string) =>
    new InputError(
      `the tokenizer ${config.tokenizer} does not tokenise like ${label}: the server makes ${theirs}, the local tokenizer ${probeIds.length} tokens (${probeIds.slice(0, 8).join(' ')}${probeIds.length > 8 ? ' …' : ''}); give the served model's own tokenizer folder`,
      where,
    );
  try {
    // vLLM and llama.cpp take `prompt`, TGI takes `inputs` and answers a list of {id, text, ...}.
    const r = await client.post(`${root}/tokenize`, { body: { model: config.model, prompt: PROBE_TEXT, inputs: PROBE_TEXT, add_special_tokens: true } });
    const v = tokenizeResponse.safeParse(r);
    const t = tgiTokenize.safeParse(r);
    const theirs = v.success ? v.data.tokens : t.success ? t.data.map((x) => x.id) : undefined;
    if (theirs) {
      tokenizerCheck = 'tokenize-endpoint';
      if (theirs.join(',') !== probeIds.join(',')) throw mismatch(`${theirs.length} tokens (${theirs.slice(0, 8).join(' ')}${theirs.length > 8 ? ' …' : ''})`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
  if (tokenizerCheck === 'not-checked' && scoring === 'echo') {
    try {
      const c = completion.parse(await echoRequest(PROBE_TEXT));
      const n = c.choices[0]!.logprobs?.token_logprobs.length;
      if (n !== undefined) {
        tokenizerCheck = 'echoed-tokens';
        if (n !== probeIds.length) throw mismatch(`${n} tokens`);
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
    }
  }
  if (tokenizerCheck === 'not-checked' && generation === 'completions') {
    // Any completions route counts the prompt tokens it tokenised itself (usage.prompt_tokens).
    try {
      const c = completion.parse(await client.completions.create({ model: config.model, prompt: PROBE_TEXT, max_tokens: 1, temperature: 0 }));
      const n = c.usage?.prompt_tokens;
      if (typeof n === 'number') {
        tokenizerCheck = 'prompt-token-count';
        if (n !== probeIds.length) throw mismatch(`${n} tokens (usage.prompt_tokens)`);
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
    }
  }
  if (tokenizerCheck === 'not-checked') findings.push('tokenisation not checked: no /tokenize, no echo and no prompt token count');
  // What the audit sends is counted from here; the probe's own requests are not part of it.
  Object.assign(stats, { requests: 0, attempts: 0, promptTokens: 0, completionTokens: 0, clamped: 0, cachedTokens: 0 });

  const fingerprint = createHash('sha256')
    .update(JSON.stringify([servedModel, systemFingerprint ?? null, probeLogprobs ? Array.from(probeLogprobs, (v) => v.toFixed(2)) : null]))
    .digest('hex');
  const probe: ServedProbe = {
    scoring,
    generation,
    findings,
    tokenizerCheck,
    servedModel,
    ...(systemFingerprint ? { systemFingerprint } : {}),
    fingerprint,
    maxLength,
  };
  log(`${label}: ${findings.join('; ')}`);

  /**
   * `o.n` continuations of `ids`, greedy at temperature 0 (then n = 1), sampled otherwise, as token
   * ids cut before end-of-sequence. Completions get the ids and give ids back where the server
   * returns them (vLLM's return_token_ids); chat and TGI take and give text, tokenised locally.
   */
  async function continuations(ids: number[], { n, maxNewTokens, temperature, seed }: { n: number; maxNewTokens: number; temperature: number; seed: number }): Promise<number[][]> {
    const what = temperature === 0 ? 'a generation request' : 'a sampling request';
    const prefix = () => tokenizer.decode(ids.slice(tokenizer.leading));
    let texts: { index: number | undefined; ids: number[] }[];
    if (generation === 'tgi') {
      // TGI's /generate draws one continuation per request (greedy: do_sample false; it refuses
      // temperature 0): n requests with seeds seed, seed + 1, ….
      texts = await Promise.all(
        Array.from({ length: n }, async (_, j) => {
          const body = temperature === 0 ? tgiGenerateBody(prefix(), maxNewTokens, seed) : { inputs: prefix(), parameters: { max_new_tokens: maxNewTokens, do_sample: true, temperature, seed: seed + j, details: true } };
          const g = tgiGenerated(await call(what, () => client.post(`${root}/generate`, { body }), z.unknown()));
          if (g instanceof Error) throw new InputError(`${label} answered ${what}, but ${g.message}`, where);
          return { index: j, ids: g };
        }),
      );
    } else if (generation === 'completions') {
      const c = await call(
        what,
        () => client.completions.create({ model: config.model, prompt: ids, n, max_tokens: maxNewTokens, temperature, top_p: 1, seed, return_token_ids: true } as OpenAI.CompletionCreateParamsNonStreaming),
        completion,
      );
      account(c);
      texts = c.choices.map((ch) => ({ index: ch.index, ids: ch.token_ids ?? tokenizer.encode(ch.text).slice(tokenizer.leading) }));
    } else if (generation === 'chat') {
      const c = await call(
        what,
        () => client.chat.completions.create({ model: config.model, messages: [{ role: 'user', content: prefix() }], n, max_tokens: maxNewTokens, temperature, top_p: 1, seed }),
        chatCompletion,
      );
      account(c);
      // A chat endpoint gives text only: the continuations are tokenised locally.
      texts = c.choices.map((ch) => ({ index: ch.index, ids: tokenizer.encode(ch.message.content ?? '').slice(tokenizer.leading) }));
    } else throw new Error(`${label} cannot generate`);
    if (texts.length !== n) throw new InputError(`${label} answered ${what} for n = ${n} continuations with ${texts.length}; the endpoint may not support n > 1`, where);
    // In the order of their index, where the server numbers them (choice j was drawn with seed + j on vLLM).
    if (texts.every((t) => t.index !== undefined)) texts.sort((a, b) => a.index! - b.index!);
    return texts.map((t) => cut(t.ids, maxNewTokens));
  }

  const served: ServedModel = {
    config,
    tokenizer: { ...tokenizer, maxLength },
    probe,
    stats,
    async score(ids) {
      if (scoring === null) throw new Error(`${label} cannot score prompts`);
      if (ids.length < 2) return new Float32Array(0);
      const r = await scoreWith(scoring, ids, call);
      if (r instanceof Error) throw new InputError(`${label} answered a scoring request, but ${r.message}`, where);
      return r;
    },
    async generate(ids, maxNewTokens, seed) {
      return (await continuations(ids, { n: 1, maxNewTokens, temperature: 0, seed }))[0]!;
    },
    sample: (ids, o) => continuations(ids, o),
  };
  return served;
}

/**
 * A served model as a dry run assumes it, without sending anything: it scores and generates, in the
 * context its tokenizer's config gives. Only its requests are counted (src/audit/run.ts); it never
 * answers one.
 */
export async function assumedServedModel(config: ServedConfig): Promise<ServedModel> {
  const tokenizer = await loadTokenizer(config.tokenizer);
  const refuse = (): never => {
    throw new Error('a dry run sends nothing');
  };
  return {
    config,
    tokenizer,
    probe: {
      scoring: 'echo',
      generation: 'completions',
      findings: ['dry run: not probed; prompt log-probabilities and generation assumed'],
      tokenizerCheck: 'not-checked',
      servedModel: { id: config.model },
      fingerprint: 'dry-run',
      maxLength: tokenizer.maxLength,
    },
    stats: { requests: 0, attempts: 0, promptTokens: 0, completionTokens: 0, clamped: 0, cachedTokens: 0 },
    score: async () => refuse(),
    generate: async () => refuse(),
    sample: async () => refuse(),
  };
}
