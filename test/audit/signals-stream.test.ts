/**
 * Signals.tokenSignals streams (#13): texts are tokenised one batch at a time and each batch is sent
 * to the pool at once (the workers score while the rest is tokenised), every text is tokenised once
 * per audit however many attacks ask, and the memo can be let go (then the cache answers).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSignals, SCORE_BATCH } from '../../src/audit/signals.ts';
import { diskCache } from '../../src/cache.ts';
import type { Pool } from '../../src/pool/index.ts';
import { MODELS } from '../helpers/paths.ts';

const model = { role: 'before' as const, sha256: 'm'.repeat(64), capabilities: new Set<never>() };
const texts = Array.from({ length: 100 * SCORE_BATCH + 3 }, (_, i) => `ticket ${i}: my order ${1000 + i} never arrived`);

/** A pool that answers score tasks with a value per token derived from its id, and logs when it was asked. */
function fakePool(log: { encodedAtRun: number[] }, encoded: () => number) {
  const pool: Pool = {
    threads: 1,
    close: async () => {},
    run: (async (task: { op: string; batch: number[][]; stats: boolean }) => {
      if (task.op !== 'score') throw new Error(`unexpected ${task.op}`);
      log.encodedAtRun.push(encoded());
      await new Promise((r) => setTimeout(r, 1));
      const f = (x: number[]) => Float32Array.from(x.slice(1), (t, j) => -(t % 7) - j / 100);
      return { op: 'score', signals: task.batch.map((x) => (task.stats ? { logprobs: f(x), mu: f(x), sigma: f(x) } : { logprobs: f(x) })) };
    }) as Pool['run'],
  };
  return pool;
}

describe('tokenSignals', () => {
  it('sends the first batch before the last text is tokenised; one tokenisation per text for every attack; release → from the cache', async () => {
    const cacheDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-stream-')), 'cache');
    let encoded = 0;
    const log = { encodedAtRun: [] as number[] };
    const pool = fakePool(log, () => encoded);
    const cache = diskCache(cacheDir);
    await cache.get('0'.repeat(64), 'score', (v) => v); // the cache's folder and secret made before the timing matters
    const signals = createSignals({ pool, cache, specs: new Map([['before', { kind: 'hf', path: path.join(MODELS, 'before') }]]) });
    const tok = await signals.tokenizer(model);
    const encode = tok.encode.bind(tok);
    tok.encode = (t: string) => (encoded++, encode(t));

    const first = await signals.tokenSignals(model, texts, { stats: true });
    expect(first.length).toBe(texts.length);
    first.forEach((s, i) => expect(Array.from(s.logprobs)).toEqual(Array.from(Float32Array.from(encode(texts[i]!).slice(1), (t, j) => -(t % 7) - j / 100))));
    // streamed: the pool had work before the last text was tokenised (it waited for all before)
    expect(log.encodedAtRun[0]).toBeLessThan(texts.length);
    expect(log.encodedAtRun.length).toBe(101);
    expect(encoded).toBe(texts.length);

    // a second attack asking for the same texts: no tokenisation, no pool task
    const again = await signals.tokenSignals(model, texts, { stats: true });
    expect(again[0]).toBe(first[0]);
    expect(encoded).toBe(texts.length);
    expect(log.encodedAtRun.length).toBe(101);

    // let go of the memo: the next request is tokenised again and answered by the cache, not the pool
    signals.releaseTokenSignals();
    const fromCache = await signals.tokenSignals(model, texts, { stats: true });
    expect(fromCache[0]).not.toBe(first[0]);
    expect(fromCache.map((s) => Array.from(s.logprobs))).toEqual(first.map((s) => Array.from(s.logprobs)));
    expect(encoded).toBe(2 * texts.length);
    expect(log.encodedAtRun.length).toBe(101);
  });
});
