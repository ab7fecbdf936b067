/**
 * The vLLM-shaped served model (src/demo/vllm-server.ts) against the real fixture model, with plain
 * fetch: what comes through HTTP must equal the local hf adapter (scoreBatch, greedyBatch), in the
 * shapes of shared/research/api-targets.md §1 and §10, and each fault must behave as documented.
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServedModel, type ServedModel } from '../../src/demo/vllm-server.ts';
import { greedyBatch, loadCausalLM, loadTokenizer, scoreBatch, type CausalLM, type Tokenizer } from '../../src/models/hf.ts';
import { MODELS } from '../helpers/paths.ts';
import { forgetTexts } from '../helpers/texts.ts';

const dir = path.join(MODELS, 'before');
const texts = forgetTexts(4);

type Json = Record<string, any>;

let lm: CausalLM;
let tok: Tokenizer;
let vllm: ServedModel;

async function call(s: ServedModel, p: string, body?: unknown, init: RequestInit = {}): Promise<{ status: number; json: Json; headers: Headers }> {
  const url = p.startsWith('/v1') ? s.baseURL + p.slice(3) : s.baseURL.replace(/\/v1$/, '') + p;
  const r = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  return { status: r.status, json: (await r.json()) as Json, headers: r.headers };
}
const complete = (body: Json, s = vllm) => call(s, '/v1/completions', { model: 'before', ...body });

/** Brute-force log-softmax of every position, straight from the ONNX logits. */
async function logSoftmaxRows(ids: number[]): Promise<Float64Array[]> {
  const { Tensor } = await import('@huggingface/transformers');
  const out = (await lm.model({
    input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  })) as { logits: { data: Float32Array; dims: number[] } };
  const V = out.logits.dims[2]!;
  return ids.map((_, t) => {
    const row = Array.from(out.logits.data.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    return Float64Array.from(row, (x) => x - logZ);
  });
}

beforeAll(async () => {
  [lm, tok, vllm] = await Promise.all([loadCausalLM(dir, 1), loadTokenizer(dir), startServedModel({ modelDir: dir })]);
});
afterAll(async () => {
  await vllm?.close();
});

describe('vLLM-shaped server: scoring', () => {
  it('lists the model like vLLM', async () => {
    const { status, json } = await call(vllm, '/v1/models');
    expect(status).toBe(200);
    expect(json.object).toBe('list');
    expect(json.data[0]).toMatchObject({ id: 'before', object: 'model', owned_by: 'vllm', root: dir, max_model_len: 256 });
    expect(typeof json.data[0].created).toBe('number');
  });

  it('echo + logprobs with max_tokens 0 equals scoreBatch (1e-5), position 0 null', async () => {
    for (const text of texts) {
      const ids = tok.encode(text);
      const [ref] = await scoreBatch(lm, [ids]);
      const { status, json } = await complete({ prompt: text, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
      expect(status).toBe(200);
      expect(json).toMatchObject({ object: 'text_completion', model: 'before' });
      expect(json.id).toMatch(/^cmpl-/);
      const c = json.choices[0];
      expect(c.text).toBe(text);
      const lp = c.logprobs;
      expect(lp.tokens.length).toBe(ids.length);
      expect(lp.token_logprobs[0]).toBeNull();
      expect(lp.top_logprobs[0]).toBeNull();
      expect(lp.tokens[0]).toBe('<|endoftext|>');
      expect(lp.tokens.slice(1).join('')).toBe(text);
      for (let t = 1; t < ids.length; t++) {
        expect(Math.abs(lp.token_logprobs[t] - ref!.logprobs[t - 1]!)).toBeLessThan(1e-5);
        const top = lp.top_logprobs[t] as Record<string, number>;
        expect(top[lp.tokens[t]]).toBe(lp.token_logprobs[t]); // actual token always there
        expect(Object.keys(top).length).toBeLessThanOrEqual(2);
      }
      // text_offset accumulates the token strings' lengths, from 0 (the BOS string included)
      expect(lp.text_offset[0]).toBe(0);
      expect(lp.text_offset[1]).toBe('<|endoftext|>'.length);
      expect(json.usage.prompt_tokens).toBe(ids.length);
    }
  });

  it('prompt_logprobs: aligned with the prompt, element 0 null, actual token present, ranks and top-k right', async () => {
    const text = texts[1]!;
    const ids = tok.encode(text);
    const k = 5;
    const { json } = await complete({ prompt: text, max_tokens: 1, temperature: 0, prompt_logprobs: k, return_token_ids: true });
    const c = json.choices[0];
    expect(c.prompt_token_ids).toEqual(ids);
    expect(c.logprobs).toBeNull();
    const pl = c.prompt_logprobs as (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[];
    expect(pl.length).toBe(ids.length);
    expect(pl[0]).toBeNull();
    const rows = await logSoftmaxRows(ids);
    const [ref] = await scoreBatch(lm, [ids]);
    for (let t = 1; t < ids.length; t++) {
      const d = pl[t]!;
      const actual = d[String(ids[t])]!;
      expect(actual).toBeDefined();
      expect(Object.keys(d).length).toBeGreaterThanOrEqual(k);
      expect(Object.keys(d).length).toBeLessThanOrEqual(k + 1);
      expect(Math.abs(actual.logprob - ref!.logprobs[t - 1]!)).toBeLessThan(1e-5);
      expect(actual.decoded_token).toBe(tok.decode([ids[t]!]));
    }
    // brute force on a few positions: rank = 1 + #{other tokens at least as likely}; top-k = the k most likely
    for (const t of [1, 2, 7, 20, ids.length - 1]) {
      const row = rows[t - 1]!;
      const d = pl[t]!;
      const lpActual = row[ids[t]!]!;
      const rank = 1 + Array.from(row).filter((x, v) => v !== ids[t] && x >= lpActual).length;
      const sorted = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]!);
      const inTop = sorted.slice(0, k).indexOf(ids[t]!);
      expect(d[String(ids[t])]!.rank).toBe(inTop >= 0 ? inTop + 1 : rank);
      for (let i = 0; i < k; i++) {
        const e = d[String(sorted[i])]!;
        expect(e).toBeDefined();
        expect(Math.abs(e.logprob - row[sorted[i]!]!)).toBeLessThan(1e-5);
      }
    }
    // somewhere the actual token is not the most likely one: a real rank > 1 is exercised
    expect(pl.some((d, t) => d && d[String(ids[t])]!.rank > 1)).toBe(true);
  });

  it('a token-id prompt scores like the string prompt; /tokenize and /detokenize agree with the tokenizer', async () => {
    const text = texts[2]!;
    const ids = tok.encode(text);
    const tk = await call(vllm, '/tokenize', { model: 'before', prompt: text, return_token_strs: true });
    expect(tk.status).toBe(200);
    expect(tk.json).toMatchObject({ count: ids.length, max_model_len: 256, tokens: ids });
    expect(tk.json.token_strs.length).toBe(ids.length);
    const bare = await call(vllm, '/tokenize', { model: 'before', prompt: text, add_special_tokens: false });
    expect(bare.json.tokens).toEqual(ids.slice(tok.leading));
    expect(bare.json.token_strs).toBeNull();
    const de = await call(vllm, '/detokenize', { model: 'before', tokens: ids });
    expect(de.json.prompt).toBe('<|endoftext|>'.repeat(tok.leading) + text);

    const a = await complete({ prompt: text, max_tokens: 0, echo: true, logprobs: 0 });
    const b = await complete({ prompt: ids, max_tokens: 0, echo: true, logprobs: 0 });
    expect(b.json.choices[0].logprobs.tokens).toEqual(a.json.choices[0].logprobs.tokens);
    expect(b.json.choices[0].logprobs.token_logprobs).toEqual(a.json.choices[0].logprobs.token_logprobs);
    // a token-id prompt is echoed as its decoding, special tokens kept (vLLM detokenizes it)
    expect(b.json.choices[0].text).toBe('<|endoftext|>' + text);
  });

  it('batched prompts give one choice each, numbered in order', async () => {
    const { json } = await complete({ prompt: [texts[0], tok.encode(texts[1]!)], max_tokens: 2, temperature: 0 });
    expect(json.choices.map((c: Json) => c.index)).toEqual([0, 1]);
    expect(json.usage.prompt_tokens).toBe(tok.encode(texts[0]!).length + tok.encode(texts[1]!).length);
  });
});

describe('vLLM-shaped server: generation', () => {
  it('greedy decoding equals greedyBatch (EOS kept in token_ids, cut from text)', async () => {
    const prompts = texts.map((t, i) => tok.encode(t).slice(0, 12 + 9 * i));
    prompts.push(tok.encode(texts[0]!)); // a whole record: the model should end it with EOS
    const ref = await greedyBatch(lm, prompts, 30);
    let sawEos = false;
    for (let i = 0; i < prompts.length; i++) {
      const { json } = await complete({ prompt: prompts[i], max_tokens: 30, temperature: 0, return_token_ids: true, logprobs: 0 });
      const c = json.choices[0];
      const endedByEos = c.token_ids.at(-1) === lm.eosId;
      sawEos ||= endedByEos;
      expect(endedByEos ? c.token_ids.slice(0, -1) : c.token_ids).toEqual(ref[i]);
      expect(c.text).toBe(tok.decode(ref[i]!));
      expect(c.finish_reason).toBe(endedByEos ? 'stop' : 'length');
      expect(c.stop_reason).toBeNull();
      expect(json.usage.completion_tokens).toBe(c.token_ids.length);
      expect(c.logprobs.tokens.length).toBe(c.token_ids.length);
      // generated-token log-probabilities are those of teacher forcing over prompt + completion
      const [sc] = await scoreBatch(lm, [[...prompts[i]!, ...c.token_ids]]);
      c.logprobs.token_logprobs.forEach((lp: number, j: number) => expect(Math.abs(lp - sc!.logprobs[prompts[i]!.length - 1 + j]!)).toBeLessThan(1e-5));
    }
    expect(sawEos).toBe(true);
  });

  it('echo with max_tokens > 0 covers prompt then completion; text = prompt + completion', async () => {
    const prompt = texts[3]!.slice(0, 40);
    const { json } = await complete({ prompt, max_tokens: 8, temperature: 0, echo: true, logprobs: 1 });
    const c = json.choices[0];
    const P = tok.encode(prompt).length;
    expect(c.logprobs.tokens.length).toBe(P + json.usage.completion_tokens);
    expect(c.logprobs.token_logprobs[0]).toBeNull();
    expect(c.text.startsWith(prompt)).toBe(true);
    const plain = await complete({ prompt, max_tokens: 8, temperature: 0 });
    expect(c.text).toBe(prompt + plain.json.choices[0].text);
  });

  it('sampling: the same seed repeats, another seed differs', async () => {
    const body = { prompt: texts[0]!.slice(0, 10), max_tokens: 40, temperature: 3, seed: 11, return_token_ids: true };
    const a = await complete(body);
    const b = await complete(body);
    const c = await complete({ ...body, seed: 12 });
    expect(a.json.choices[0].token_ids).toEqual(b.json.choices[0].token_ids);
    expect(c.json.choices[0].token_ids).not.toEqual(a.json.choices[0].token_ids);
    // n choices are each their own sample (seed + index)
    const n = await complete({ ...body, n: 2 });
    expect(n.json.choices[0].token_ids).toEqual(a.json.choices[0].token_ids);
    expect(n.json.choices[1].token_ids).not.toEqual(a.json.choices[0].token_ids);
  });

  it('stop strings cut the text before the string, finish_reason "stop", stop_reason = the string', async () => {
    const prompt = texts[0]!.slice(0, 20);
    const full = (await complete({ prompt, max_tokens: 30, temperature: 0 })).json.choices[0].text as string;
    const stop = full.slice(10, 13);
    const at = full.indexOf(stop);
    const { json } = await complete({ prompt, max_tokens: 30, temperature: 0, stop: ['#never#', stop], return_token_ids: true });
    const c = json.choices[0];
    expect(c.text).toBe(full.slice(0, at));
    expect(c.finish_reason).toBe('stop');
    expect(c.stop_reason).toBe(stop);
    // the token that completed the stop string is kept
    expect(tok.decode(c.token_ids)).toBe(full.slice(0, at + stop.length));
  });

  it('chat completions: contents joined with "\\n" are the prompt; logprobs for generated tokens only', async () => {
    const prompt = texts[1]!.slice(0, 30);
    const { status, json } = await call(vllm, '/v1/chat/completions', {
      model: 'before',
      messages: [{ role: 'user', content: prompt }],
      temperature: 0,
      max_completion_tokens: 10,
      logprobs: true,
      top_logprobs: 3,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ object: 'chat.completion', model: 'before' });
    expect(json.id).toMatch(/^chatcmpl-/);
    const c = json.choices[0];
    expect(c.message.role).toBe('assistant');
    const same = await complete({ prompt, max_tokens: 10, temperature: 0, logprobs: 0 });
    expect(c.message.content).toBe(same.json.choices[0].text);
    expect(c.logprobs.content.length).toBe(json.usage.completion_tokens);
    c.logprobs.content.forEach((e: Json, j: number) => {
      expect(e.token).toBe(same.json.choices[0].logprobs.tokens[j]);
      expect(Math.abs(e.logprob - same.json.choices[0].logprobs.token_logprobs[j])).toBeLessThan(1e-9);
      expect(e.bytes).toEqual([...Buffer.from(e.token, 'utf8')]);
      expect(e.top_logprobs.length).toBe(3);
      expect(e.top_logprobs[0].token).toBe(e.token); // greedy: the sampled token is the most likely
    });
    const sampled = await call(vllm, '/v1/chat/completions', { model: 'before', messages: [{ role: 'user', content: 'Hi' }], n: 3, seed: 5, temperature: 3, max_tokens: 20 });
    expect(sampled.json.choices.length).toBe(3);
    expect(new Set(sampled.json.choices.map((x: Json) => x.message.content)).size).toBeGreaterThan(1);
  });
});

describe('vLLM-shaped server: errors', () => {
  it('caps log-probabilities at --max-logprobs with vLLM\'s messages', async () => {
    const err = (m: string) => ({ error: { message: m, type: 'BadRequestError', param: null, code: 400 } });
    let r = await complete({ prompt: 'Hi', logprobs: 21 });
    expect(r.status).toBe(400);
    expect(r.json).toEqual(err('Requested sample logprobs of 21, which is greater than max allowed: 20'));
    r = await complete({ prompt: 'Hi', max_tokens: 1, prompt_logprobs: 21 });
    expect(r.json).toEqual(err('Requested prompt logprobs of 21, which is greater than max allowed: 20'));
    r = await complete({ prompt: 'Hi', max_tokens: 0, echo: true, logprobs: 25 });
    expect(r.json).toEqual(err('Requested sample logprobs of 25, which is greater than max allowed: 20'));
    r = await call(vllm, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], logprobs: true, top_logprobs: 21 });
    expect(r.json).toEqual(err('Requested sample logprobs of 21, which is greater than max allowed: 20'));
    expect((await complete({ prompt: 'Hi', max_tokens: 1, prompt_logprobs: 20 })).status).toBe(200);
  });

  it('refuses a prompt over the context with vLLM\'s 400 body (N = max_model_len − max_tokens)', async () => {
    const ids = new Array<number>(250).fill(72);
    const r = await complete({ prompt: ids, max_tokens: 10 });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      error: {
        message: "This model's maximum context length is 246 tokens. However, your request has 250 input tokens. Please reduce the length of the input messages.",
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    });
    expect((await complete({ prompt: ids, max_tokens: 6, temperature: 0 })).status).toBe(200);
    expect((await complete({ prompt: ids, max_tokens: 0, echo: true, logprobs: 0 })).status).toBe(200);
    const over = await complete({ prompt: new Array<number>(257).fill(72), max_tokens: 0, echo: true, logprobs: 0 });
    expect(over.json.error.message).toMatch(/maximum context length is 256 tokens\. However, your request has 257 input tokens/);
  });

  it('unknown model → 404, malformed JSON and wrong types → 400, in vLLM\'s error shape', async () => {
    const r = await complete({ model: 'gpt-x', prompt: 'Hi' });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: { message: 'The model `gpt-x` does not exist.', type: 'NotFoundError', param: null, code: 404 } });
    const bad = await call(vllm, '/v1/completions', '{"prompt": ');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ type: 'BadRequestError', param: null, code: 400 });
    const types = await complete({ prompt: 'Hi', max_tokens: 'ten' });
    expect(types.status).toBe(400);
    expect(types.json.error.message).toMatch(/max_tokens/);
    expect((await complete({ prompt: 'Hi', max_tokens: 0 })).json.error.message).toBe('max_tokens must be at least 1, got 0.');
    expect((await call(vllm, '/v1/nothing', {})).status).toBe(404);
  });
});

describe('modes', () => {
  let chatOnly: ServedModel;
  let degraded: ServedModel;
  beforeAll(async () => {
    [chatOnly, degraded] = await Promise.all([
      startServedModel({ modelDir: dir, mode: 'chat-only', servedName: 'support-bot' }),
      startServedModel({ modelDir: dir, mode: 'no-prompt-logprobs' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([chatOnly?.close(), degraded?.close()]);
  });

  it('chat-only: completions, tokenize and detokenize answer 404; models and chat work', async () => {
    expect((await call(chatOnly, '/v1/completions', { model: 'support-bot', prompt: 'Hi' })).status).toBe(404);
    expect((await call(chatOnly, '/tokenize', { model: 'support-bot', prompt: 'Hi' })).status).toBe(404);
    expect((await call(chatOnly, '/detokenize', { model: 'support-bot', tokens: [72] })).status).toBe(404);
    expect((await call(chatOnly, '/v1/models')).json.data[0].id).toBe('support-bot');
    const chat = await call(chatOnly, '/v1/chat/completions', { model: 'support-bot', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, temperature: 0 });
    expect(chat.status).toBe(200);
    expect(chat.json.choices[0].message.content.length).toBeGreaterThan(0);
  });

  it('no-prompt-logprobs: 200 with echo ignored, generated tokens only, no prompt_logprobs', async () => {
    const text = texts[0]!;
    const zero = await complete({ prompt: text, max_tokens: 0, echo: true, logprobs: 1, prompt_logprobs: 1 }, degraded);
    expect(zero.status).toBe(200);
    const c0 = zero.json.choices[0];
    expect(c0.text).toBe('');
    expect(c0.logprobs.tokens).toEqual([]);
    expect('prompt_logprobs' in c0).toBe(false);
    const five = await complete({ prompt: text.slice(0, 20), max_tokens: 5, echo: true, logprobs: 1, temperature: 0 }, degraded);
    const c5 = five.json.choices[0];
    const ref = await complete({ prompt: text.slice(0, 20), max_tokens: 5, temperature: 0 });
    expect(c5.text).toBe(ref.json.choices[0].text);
    expect(c5.logprobs.tokens.length).toBe(five.json.usage.completion_tokens);
    expect(c5.logprobs.token_logprobs.every((x: unknown) => typeof x === 'number')).toBe(true);
  });
});

describe('faults', () => {
  let s: ServedModel;
  beforeAll(async () => {
    s = await startServedModel({ modelDir: dir });
  });
  afterAll(async () => {
    await s?.close();
  });
  const body = { model: 'before', prompt: 'Hi', max_tokens: 1, temperature: 0 };

  it('rateLimit: every n-th /v1 POST answers 429 with retry-after headers; the log keeps retry counts, not keys', async () => {
    s.setFaults({ rateLimit: { every: 2, retryAfter: '2', retryAfterMs: '1500' } });
    const auth = { headers: { 'content-type': 'application/json', authorization: 'Bearer sk-secret', 'x-stainless-retry-count': '0' } };
    const a = await call(s, '/v1/completions', body, auth);
    await call(s, '/v1/models'); // GETs do not count
    const b = await call(s, '/v1/completions', body, { headers: { ...auth.headers, 'x-stainless-retry-count': '1' } });
    expect(a.status).toBe(200);
    expect(b.status).toBe(429);
    expect(b.headers.get('retry-after')).toBe('2');
    expect(b.headers.get('retry-after-ms')).toBe('1500');
    expect(b.json.error).toMatchObject({ code: 'rate_limit_exceeded' });
    const log = s.requests.slice(-3);
    expect(log.map((e) => [e.path, e.status, e.ordinal])).toEqual([
      ['/v1/completions', 200, 1],
      ['/v1/models', 200, undefined],
      ['/v1/completions', 429, 2],
    ]);
    expect(log[2]!.headers).toMatchObject({ 'x-stainless-retry-count': '1', authorization: true });
    expect(log[2]!.body).toEqual(body);
    expect(JSON.stringify(s.requests)).not.toContain('sk-secret');
  });

  it('serverError: every n-th /v1 POST answers the 5xx', async () => {
    s.setFaults({ serverError: { every: 2, status: 503 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(s, '/v1/completions', body)).status);
    expect(statuses).toEqual([200, 503, 200, 503]);
    s.setFaults({ serverError: { every: 1 } });
    expect((await call(s, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(500);
  });

  it('slowMs delays answers; hangEvery never answers (the client times out)', async () => {
    s.setFaults({ slowMs: 300 });
    const t0 = Date.now();
    expect((await call(s, '/v1/models')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    s.setFaults({ hangEvery: 2 });
    expect((await call(s, '/v1/completions', body)).status).toBe(200);
    await expect(call(s, '/v1/completions', body, { signal: AbortSignal.timeout(400) })).rejects.toThrow(/aborted|timeout/i);
    expect(s.requests.at(-1)!.status).toBeUndefined();
    expect((await call(s, '/v1/completions', body)).status).toBe(200);
  });

  it('jitter: repeats of one request differ by at most 2×jitter; without it they are identical', async () => {
    const q = { model: 'before', prompt: texts[0], max_tokens: 0, echo: true, logprobs: 1 };
    s.setFaults({});
    const base = (await call(s, '/v1/completions', q)).json.choices[0].logprobs.token_logprobs as (number | null)[];
    expect((await call(s, '/v1/completions', q)).json.choices[0].logprobs.token_logprobs).toEqual(base);
    s.setFaults({ jitter: 0.01 });
    const a = (await call(s, '/v1/completions', q)).json.choices[0].logprobs as Json;
    const b = (await call(s, '/v1/completions', q)).json.choices[0].logprobs.token_logprobs as (number | null)[];
    expect(a.token_logprobs[0]).toBeNull();
    let moved = 0;
    for (let t = 1; t < base.length; t++) {
      expect(Math.abs(a.token_logprobs[t] - base[t]!)).toBeLessThanOrEqual(0.01 + 1e-12);
      expect(Math.abs(a.token_logprobs[t] - b[t]!)).toBeLessThanOrEqual(0.02 + 1e-12);
      if (a.token_logprobs[t] !== b[t]) moved++;
      expect(a.top_logprobs[t][a.tokens[t]]).toBe(a.token_logprobs[t]); // one noisy value per (position, token)
    }
    expect(moved).toBe(base.length - 1);
  });

  it('dieAfter: after n successes the server drops connections and stops listening; close() still frees the port', async () => {
    s.setFaults({ dieAfter: 2 });
    expect((await call(s, '/v1/completions', body)).status).toBe(200);
    expect((await call(s, '/v1/completions', body)).status).toBe(200);
    await expect(call(s, '/v1/completions', body)).rejects.toThrow();
    await s.close();
    const port = Number(new URL(s.baseURL).port);
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer().once('error', reject);
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  });
});

describe('lifecycle', () => {
  it('serves concurrent connections (model calls queued) and close() ends a hanging request', async () => {
    const s = await startServedModel({ modelDir: dir, faults: { hangEvery: 6 } });
    const q = (seed: number) => call(s, '/v1/completions', { prompt: 'Hi', max_tokens: 20, temperature: 2, seed, return_token_ids: true });
    const [a, b] = await Promise.all([q(1), q(2)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await q(1)).status).toBe(200);
    expect(a.json.choices[0].token_ids).toEqual((await q(1)).json.choices[0].token_ids);
    // 4 POSTs so far: the 5th is answered, the 6th hangs until close()
    expect((await q(1)).status).toBe(200);
    const hanging = q(1);
    await new Promise((r) => setTimeout(r, 100));
    await s.close();
    await expect(hanging).rejects.toThrow();
  });
});

