/**
 * Signals.sample over a served model (src/models/served.ts through the real `openai` client, against
 * the vLLM-shaped server) and over the local pool: n continuations per prompt in one request, with
 * temperature and a per-prompt seed, through legacy completions (token ids back) or chat (text,
 * re-tokenised); deterministic for a seed; one cache entry per prompt, so a second call sends nothing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelUnderTest } from '../../attacks/types.ts';
import { diskCache } from '../../src/cache.ts';
import { createSignals, promptSeed } from '../../src/audit/signals.ts';
import { startServedModel, type ServedModel as Server, type ServeMode } from '../../src/demo/vllm-server.ts';
import { loadTokenizer, type Tokenizer } from '../../src/models/hf.ts';
import { openServedModel, PROBE_TEXT } from '../../src/models/served.ts';
import { createPool, type Pool } from '../../src/pool/index.ts';
import { FIXTURE, MODELS } from '../helpers/paths.ts';

const dir = path.join(MODELS, 'before');
const texts = readFileSync(path.join(FIXTURE, 'data/forget.jsonl'), 'utf8').trim().split('\n').slice(0, 3).map((l) => (JSON.parse(l) as { text: string }).text);
const model: ModelUnderTest = { role: 'before', sha256: 'samia-served-test', capabilities: new Set(['sample']) };
const O = { n: 3, maxNewTokens: 12, temperature: 1, seed: 11 };

let tok: Tokenizer;
let pool: Pool;
const servers: Server[] = [];
beforeAll(async () => {
  tok = await loadTokenizer(dir);
  process.env.PRIVACY_AUDIT_PSEUDONYM_KEY ??= 'ab'.repeat(32);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await pool?.close();
});

async function open(mode: ServeMode) {
  const s = await startServedModel({ modelDir: dir, servedName: 'before', mode });
  servers.push(s);
  const m = await openServedModel({ baseURL: s.baseURL, model: 'before', tokenizer: dir, protocol: 'auto', maxConcurrency: 2, timeoutMs: 10_000, maxRetries: 2 }, { field: 'models.before' });
  return { s, m };
}
const prompts = () => texts.map((t) => tok.encode(t).slice(0, 24));
/** The audit's sampling requests (the probe sends max_tokens 1 or the probe text). */
const samplingPosts = (s: Server) => s.requests.filter((r) => r.method === 'POST' && (r.body as { n?: number }).n !== undefined && !JSON.stringify(r.body).includes(PROBE_TEXT));

describe.each(['vllm', 'chat-only'] as const)('served sampling, mode %s', (mode) => {
  it('sends one request per prompt with n, temperature and the per-prompt seed; same seed, same samples; cached per prompt', async () => {
    const { s, m } = await open(mode);
    expect(m.probe.generation).toBe(mode === 'vllm' ? 'completions' : 'chat');
    const cache = diskCache(mkdtempSync(path.join(os.tmpdir(), 'pa-samia-cache-')));
    const signals = createSignals({ pool: undefined as unknown as Pool, cache, specs: new Map(), served: new Map([['before', m]]) });
    const ps = prompts();
    const first = await signals.sample(model, ps, O);
    expect(first.length).toBe(ps.length);
    for (const samples of first) {
      expect(samples.length).toBe(O.n);
      for (const c of samples) expect(c.length).toBeLessThanOrEqual(O.maxNewTokens);
    }
    const posts = samplingPosts(s);
    expect(posts.map((r) => r.path)).toEqual(ps.map(() => (mode === 'vllm' ? '/v1/completions' : '/v1/chat/completions')));
    posts.forEach((r) => expect(r.body).toMatchObject({ n: 3, temperature: 1, max_tokens: 12, top_p: 1 }));
    expect(posts.map((r) => (r.body as { seed: number }).seed).sort()).toEqual(ps.map((p) => promptSeed(O.seed, p)).sort());
    if (mode === 'vllm') expect(posts.map((r) => JSON.stringify((r.body as { prompt: unknown }).prompt)).sort()).toEqual(ps.map((p) => JSON.stringify(p)).sort());
    else expect((posts[0]!.body as { messages: unknown }).messages).toEqual([{ role: 'user', content: tok.decode(ps.find((p) => promptSeed(O.seed, p) === (posts[0]!.body as { seed: number }).seed)!.slice(tok.leading)) }]);

    // Cached: the same request again sends nothing and gives the same samples.
    const seen = s.requests.length;
    expect(await signals.sample(model, ps, O)).toEqual(first);
    expect(s.requests.length).toBe(seen);
    // Without the cache the server draws the same samples for the same seed, other ones for another.
    const direct = await Promise.all(ps.map((p) => m.sample(p, { ...O, seed: promptSeed(O.seed, p) })));
    expect(direct).toEqual(first);
    const other = await Promise.all(ps.map((p) => m.sample(p, { ...O, seed: promptSeed(O.seed + 1, p) })));
    expect(other).not.toEqual(first);
  });
});

describe('local sampling (hf: through the pool)', () => {
  it('gives the same samples with 1 worker or 2 and caches one entry per prompt', async () => {
    const ps = prompts();
    const run = async (threads: number) => {
      const p = createPool(threads);
      try {
        const signals = createSignals({ pool: p, cache: diskCache(undefined), specs: new Map([['before', { kind: 'hf' as const, path: dir }]]) });
        return await signals.sample(model, [...ps, ...ps], { ...O, n: 4 });
      } finally {
        await p.close();
      }
    };
    const one = await run(1);
    const two = await run(2);
    expect(two).toEqual(one);
    // The same prompt twice in one request: the same samples (the seed depends on the prompt, not its position).
    expect(one.slice(3)).toEqual(one.slice(0, 3));
    for (const s of one) expect(s.length).toBe(4);
    // A cache entry per prompt: a second call with a disk cache runs no pool task.
    pool = createPool(1);
    const cache = diskCache(mkdtempSync(path.join(os.tmpdir(), 'pa-samia-cache-')));
    const spec = new Map([['before', { kind: 'hf' as const, path: dir }]]);
    const a = await createSignals({ pool, cache, specs: spec }).sample(model, ps, O);
    const noPool: Pool = { threads: 0, run: () => Promise.reject(new Error('no pool task expected')), close: async () => {} };
    const b = await createSignals({ pool: noPool, cache, specs: spec }).sample(model, ps, O);
    expect(b).toEqual(a);
    // The first k of n samples are the samples of a request for k (each sample has its own generator).
    expect(a.map((x) => x.slice(0, 3))).toEqual(one.slice(0, 3).map((x) => x.slice(0, 3)));
  }, 60_000);
});
