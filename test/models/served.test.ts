/**
 * The served-model adapter (src/models/served.ts) through the real `openai` client against the
 * vLLM-shaped server over the real fixture model: the probe finds what each protocol variant can
 * do, scores and continuations equal the local hf adapter's, and each fault of a real server is
 * handled (retries that honour retry-after, 5xx, timeouts, context overflow, a wrong tokenizer).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServedConfig } from '../../src/config/load.ts';
import { startServedModel, type ServedModel as Server, type ServedModelOptions } from '../../src/demo/vllm-server.ts';
import { InputError, ServedUnavailableError } from '../../src/errors.ts';
import { greedyBatch, loadCausalLM, loadTokenizer, scoreBatch, type CausalLM, type Tokenizer } from '../../src/models/hf.ts';
import { CLAMPED_LOGPROB, openServedModel, PROBE_TEXT } from '../../src/models/served.ts';
import { MODELS } from '../helpers/paths.ts';
import { forgetTexts } from '../helpers/texts.ts';

const dir = path.join(MODELS, 'before');
const texts = forgetTexts(6);
const where = { field: 'models.before' };

let lm: CausalLM;
let tok: Tokenizer;
const servers: Server[] = [];
beforeAll(async () => {
  lm = await loadCausalLM(dir, 1);
  tok = await loadTokenizer(dir);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(o: Partial<ServedModelOptions> = {}): Promise<Server> {
  const s = await startServedModel({ modelDir: dir, servedName: 'before', ...o });
  servers.push(s);
  return s;
}
const config = (s: { baseURL: string }, o: Partial<ServedConfig> = {}): ServedConfig => ({
  baseURL: s.baseURL,
  model: 'before',
  tokenizer: dir,
  protocol: 'auto',
  maxConcurrency: 4,
  timeoutMs: 10_000,
  maxRetries: 4,
  ...o,
});
/** Requests other than the probe's: what the audit itself sent. */
const probeIds = () => tok.encode(PROBE_TEXT).join(',');
const auditRequests = (s: Server) =>
  s.requests.filter((r) => r.path.startsWith('/v1/') && r.method === 'POST' && JSON.stringify((r.body as { prompt?: unknown }).prompt) !== `[${probeIds()}]` && (r.body as { prompt?: unknown }).prompt !== PROBE_TEXT && !JSON.stringify(r.body).includes(PROBE_TEXT));

describe('served model: probe and parity with the local model', () => {
  it('vLLM (echo + logprobs): per-record scores equal the local model to 1e-4, continuations token for token', async () => {
    const s = await serve();
    const m = await openServedModel(config(s), where);
    expect(m.probe.scoring).toBe('echo');
    expect(m.probe.generation).toBe('completions');
    expect(m.probe.tokenizerCheck).toBe('tokenize-endpoint');
    expect(m.probe.maxLength).toBe(tok.maxLength);
    const ids = texts.map((t) => tok.encode(t));
    const local = await scoreBatch(lm, ids);
    const remote = await Promise.all(ids.map((x) => m.score(x)));
    remote.forEach((r, i) => {
      expect(r.length).toBe(local[i]!.logprobs.length);
      r.forEach((v, t) => expect(Math.abs(v - local[i]!.logprobs[t]!)).toBeLessThan(1e-4));
    });
    const prompts = ids.map((x) => x.slice(0, 20));
    const greedy = await greedyBatch(lm, prompts, 16);
    const served = await Promise.all(prompts.map((p) => m.generate(p, 16, 1)));
    expect(served).toEqual(greedy);
    expect(m.stats.requests).toBe(ids.length + prompts.length);
    expect(m.stats.attempts).toBe(m.stats.requests);
  });

  it('vLLM prompt_logprobs (protocol forced): the same scores', async () => {
    const s = await serve();
    const m = await openServedModel(config(s, { protocol: 'prompt-logprobs' }), where);
    expect(m.probe.scoring).toBe('prompt-logprobs');
    const ids = tok.encode(texts[0]!);
    const [local] = await scoreBatch(lm, [ids]);
    const remote = await m.score(ids);
    remote.forEach((v, t) => expect(Math.abs(v - local!.logprobs[t]!)).toBeLessThan(1e-4));
    expect(auditRequests(s).at(-1)!.body).toMatchObject({ prompt_logprobs: 0, prompt: ids });
  });

  it('a server that answers 200 without prompt log-probabilities (llama.cpp, Ollama style): scoring is found missing, generation works', async () => {
    const s = await serve({ mode: 'no-prompt-logprobs' });
    const m = await openServedModel(config(s), where);
    expect(m.probe.scoring).toBeNull();
    expect(m.probe.findings.join('\n')).toMatch(/echo: answered, but/);
    expect(m.probe.findings.join('\n')).toMatch(/prompt-logprobs: answered, but the response has no prompt_logprobs/);
    expect(m.probe.generation).toBe('completions');
    await expect(m.score(tok.encode(texts[0]!))).rejects.toThrow(/cannot score/);
    // Forcing a protocol the server cannot do is a config error, not a silent pass.
    await expect(openServedModel(config(s, { protocol: 'echo' }), where)).rejects.toThrow(InputError);
  });

  it('a chat-only endpoint: no scoring, generation through chat messages, tokenisation not checkable', async () => {
    const s = await serve({ mode: 'chat-only' });
    const m = await openServedModel(config(s), where);
    expect(m.probe.scoring).toBeNull();
    expect(m.probe.generation).toBe('chat');
    expect(m.probe.tokenizerCheck).toBe('not-checked');
    const out = await m.generate(tok.encode(texts[0]!).slice(0, 20), 8, 1);
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThanOrEqual(8);
    expect(auditRequests(s).at(-1)!.path).toBe('/v1/chat/completions');
  });

  it("SGLang: its OpenAI route gives no prompt log-probabilities, its native /generate does: the same scores", async () => {
    const s = await serve({ mode: 'sglang' });
    const m = await openServedModel(config(s), where);
    expect(m.probe.scoring).toBe('sglang');
    expect(m.probe.findings.join('\n')).toMatch(/echo: answered, but/);
    expect(m.probe.generation).toBe('completions');
    expect(m.probe.tokenizerCheck).toBe('prompt-token-count');
    const ids = texts.slice(0, 3).map((t) => tok.encode(t));
    const local = await scoreBatch(lm, ids);
    const remote = await Promise.all(ids.map((x) => m.score(x)));
    remote.forEach((r, i) => r.forEach((v, t) => expect(Math.abs(v - local[i]!.logprobs[t]!)).toBeLessThan(1e-4)));
    const native = s.requests.filter((r) => r.path === '/generate').map((r) => r.body);
    expect(native).toContainEqual(expect.objectContaining({ input_ids: ids[0], return_logprob: true, logprob_start_len: 0 }));
  });

  it('TGI: without --enable-prefill-logprobs the prefill is empty (HTTP 200) and found so; with it, the same scores; greedy on /generate', async () => {
    const off = await serve({ mode: 'tgi' });
    const m0 = await openServedModel(config(off), where);
    expect(m0.probe.scoring).toBeNull();
    expect(m0.probe.findings.join('\n')).toMatch(/tgi: answered, but details\.prefill is empty \(TGI 3 returns prompt log-probabilities only when launched with --enable-prefill-logprobs\)/);
    expect(m0.probe.generation).toBe('tgi');
    const on = await serve({ mode: 'tgi', prefillLogprobs: true });
    const m = await openServedModel(config(on), where);
    expect(m.probe.scoring).toBe('tgi');
    expect(m.probe.tokenizerCheck).toBe('tokenize-endpoint');
    const ids = texts.slice(0, 3).map((t) => tok.encode(t));
    const local = await scoreBatch(lm, ids);
    const remote = await Promise.all(ids.map((x) => m.score(x)));
    remote.forEach((r, i) => r.forEach((v, t) => expect(Math.abs(v - local[i]!.logprobs[t]!)).toBeLessThan(1e-4)));
    const prompts = ids.map((x) => x.slice(0, 20));
    expect(await Promise.all(prompts.map((p) => m.generate(p, 12, 1)))).toEqual(await greedyBatch(lm, prompts, 12));
  });

  it('a tokenizer that does not tokenise like the server is an input error naming both counts', async () => {
    const s = await serve();
    // The same vocabulary with two byte tokens swapped: same sizes, other ids.
    const bad = mkdtempSync(path.join(os.tmpdir(), 'pa-tok-'));
    const tj = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    const vocab = tj.model.vocab;
    const [a, b] = ['e', 'o'].map((c) => Object.keys(vocab).find((k) => k === c)!);
    [vocab[a!], vocab[b!]] = [vocab[b!]!, vocab[a!]!];
    writeFileSync(path.join(bad, 'tokenizer.json'), JSON.stringify(tj));
    for (const f of ['config.json', 'tokenizer_config.json']) copyFileSync(path.join(dir, f), path.join(bad, f));
    await expect(openServedModel(config(s, { tokenizer: bad }), where)).rejects.toThrow(/does not tokenise like .* the server makes \d+ tokens/);
  });

  it('a model the server does not serve, an unset API key variable, an unreachable server: input errors', async () => {
    const s = await serve();
    await expect(openServedModel(config(s, { model: 'nope' }), where)).rejects.toThrow(/does not serve a model "nope"; it serves "before"/);
    delete process.env.PA_TEST_UNSET_KEY;
    await expect(openServedModel(config(s, { apiKeyEnv: 'PA_TEST_UNSET_KEY' }), where)).rejects.toThrow(/PA_TEST_UNSET_KEY, which is not set/);
    await expect(openServedModel(config({ baseURL: 'http://127.0.0.1:9/v1' }, { maxRetries: 0 }), where)).rejects.toThrow(/cannot reach/);
  });

  it('the API key goes in the Authorization header and nowhere else', async () => {
    const s = await serve();
    process.env.PA_TEST_KEY = 'sk-test-secret-value';
    const m = await openServedModel(config(s, { apiKeyEnv: 'PA_TEST_KEY' }), where);
    await m.score(tok.encode(texts[0]!));
    expect(s.requests.every((r) => r.headers.authorization)).toBe(true);
    expect(JSON.stringify(m.probe)).not.toContain('sk-test');
    delete process.env.PA_TEST_KEY;
  });
});

describe('served model: faults of a real server', () => {
  it('429 with retry-after and 5xx: retried by the client, the answers unchanged', async () => {
    const s = await serve({ faults: { rateLimit: { every: 3, retryAfter: '0' }, serverError: { every: 5, status: 503 } } });
    const m = await openServedModel(config(s), where);
    const ids = texts.map((t) => tok.encode(t));
    const local = await scoreBatch(lm, ids);
    const remote = await Promise.all(ids.map((x) => m.score(x)));
    remote.forEach((r, i) => r.forEach((v, t) => expect(Math.abs(v - local[i]!.logprobs[t]!)).toBeLessThan(1e-4)));
    expect(m.stats.attempts).toBeGreaterThan(m.stats.requests);
    expect(s.requests.some((r) => r.status === 429)).toBe(true);
    expect(s.requests.some((r) => r.status === 503)).toBe(true);
    expect(s.requests.some((r) => Number(r.headers['x-stainless-retry-count'] ?? 0) > 0)).toBe(true);
  });

  it('retry-after-ms is honoured: the retry waits for it', async () => {
    const s = await serve();
    const m = await openServedModel(config(s), where);
    // Every request is refused now; the fault is lifted while the client waits out retry-after-ms.
    s.setFaults({ rateLimit: { every: 1, retryAfterMs: '700' } });
    const t0 = Date.now();
    const p = m.score(tok.encode(texts[0]!));
    await new Promise((r) => setTimeout(r, 200));
    s.setFaults({});
    await p;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
  });

  it('a request that never answers times out and is retried; with no retries left it is a runtime failure (resumable)', async () => {
    const s = await serve();
    const m = await openServedModel(config(s, { timeoutMs: 400, maxRetries: 2 }), where);
    s.setFaults({ hangEvery: 2 });
    const ids = texts.slice(0, 3).map((t) => tok.encode(t));
    const remote = await Promise.all(ids.map((x) => m.score(x)));
    expect(remote.every((r) => r.length > 0)).toBe(true);
    expect(m.stats.attempts).toBeGreaterThan(m.stats.requests);
    s.setFaults({});
    const once = await openServedModel(config(s, { timeoutMs: 300, maxRetries: 0 }), where);
    s.setFaults({ hangEvery: 1 });
    await expect(once.score(ids[0]!)).rejects.toThrow(ServedUnavailableError);
    await expect(once.score(ids[0]!)).rejects.toThrow(/finished requests are cached: run again to resume/);
  });

  it('the context: max_model_len is read from /models; a server that hides it refuses long prompts with 400, an input error with its message', async () => {
    const short = await serve({ maxModelLen: 48 });
    const m = await openServedModel(config(short), where);
    expect(m.probe.maxLength).toBe(48);
    expect(m.tokenizer.maxLength).toBe(48);
    const hidden = await serve({ maxModelLen: 48, listMaxModelLen: false });
    const h = await openServedModel(config(hidden), where);
    expect(h.probe.maxLength).toBe(tok.maxLength);
    const long = tok.encode(texts.join(' ')).slice(0, 80);
    const err = await h.score(long).catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/refused a scoring request: HTTP 400: .*maximum context length is 48 tokens\. However, your request has 80 input tokens/);
    // Not retried: a 400 will not go away.
    expect(h.stats.attempts).toBe(1);
  });

  it('nondeterministic answers are visible: two answers to the same request differ (what the repeat check measures)', async () => {
    const s = await serve({ faults: { jitter: 0.01 } });
    const m = await openServedModel(config(s), where);
    const ids = tok.encode(texts[0]!);
    const [a, b] = [await m.score(ids), await m.score(ids)];
    const diff = Math.max(...Array.from(a, (v, t) => Math.abs(v - b[t]!)));
    expect(diff).toBeGreaterThan(1e-3);
    expect(diff).toBeLessThanOrEqual(0.02 + 1e-6);
  });
});

describe('served model: values a server clamps', () => {
  let raw: http.Server;
  let baseURL: string;
  beforeAll(async () => {
    const ids = tok.encode(PROBE_TEXT);
    // A minimal completions server whose every answer has a −9999 (clamped −inf) at position 2.
    raw = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'before', object: 'model' }] }));
        if (req.url !== '/v1/completions') return res.writeHead(404).end('{"detail":"Not Found"}');
        const r = JSON.parse(body) as { prompt: number[] | string; echo?: boolean };
        const n = Array.isArray(r.prompt) ? r.prompt.length : ids.length;
        const token_logprobs = Array.from({ length: n }, (_, i) => (i === 0 ? null : i === 2 ? -9999.0 : -1.5));
        res.end(JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 0, model: 'before', choices: [{ index: 0, text: '', logprobs: r.echo ? { tokens: token_logprobs.map(() => 'x'), token_logprobs, top_logprobs: token_logprobs.map(() => null), text_offset: token_logprobs.map(() => 0) } : null, finish_reason: 'length' }], usage: { prompt_tokens: n, completion_tokens: 0, total_tokens: n } }));
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    baseURL = `http://127.0.0.1:${(raw.address() as { port: number }).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => raw.close(() => r())));

  it('position 0 (null) is dropped; −9999 is kept and counted', async () => {
    const m = await openServedModel(config({ baseURL }), where);
    expect(m.probe.scoring).toBe('echo');
    expect(m.probe.tokenizerCheck).toBe('echoed-tokens');
    const ids = tok.encode(texts[0]!);
    const r = await m.score(ids);
    expect(r.length).toBe(ids.length - 1);
    expect(r[1]).toBe(CLAMPED_LOGPROB);
    expect(r[0]).toBe(-1.5);
    expect(m.stats.clamped).toBe(1);
  });
});
