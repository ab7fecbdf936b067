/**
 * `npm run bench` (served part): requests/s and tokens/s of scoring through a served model, against
 * the vLLM-shaped local server (src/demo/vllm-server.ts over the demo's `before` model) running in its
 * own process, at concurrency 1, 4 and 16. Baseline, measured in the same run on the same requests: a
 * bare loop of `fetch` calls with the same bodies and the same number in flight. The harness's
 * overhead per request (openai client, p-limit, response validation, the Signals door with its
 * per-request cache entries) is the difference, in ms. Peak RSS of this process is reported too.
 * Never run by the tests.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ModelUnderTest } from '../../attacks/types.ts';
import { createSignals } from '../../src/audit/signals.ts';
import { diskCache } from '../../src/cache.ts';
import { openServedModel, type ServedModel } from '../../src/models/served.ts';
import type { Pool } from '../../src/pool/index.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const FIXTURE = path.join(REPO, 'fixtures/support-desk');
const dir = path.join(FIXTURE, 'models/before');
const N = Number(process.env.BENCH_SERVED_REQUESTS ?? 240);
const texts = readFileSync(path.join(FIXTURE, 'data/holdout.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .slice(0, N);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

// The server in its own process, so its model work does not share this event loop.
const server = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/serve-fixture.ts'), '--model', dir, '--port', '0', '--served-name', 'before'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  cwd: REPO,
});
const baseURL: string = await new Promise((resolve, reject) => {
  createInterface({ input: server.stdout! }).once('line', (l) => resolve(l.trim()));
  server.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
});

const time = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};
/** Runs `jobs` with at most `k` in flight (a plain counter: the baseline has no library in it). */
async function inFlight<T>(k: number, jobs: (() => Promise<T>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

const config = (k: number) => ({
  baseURL,
  model: 'before',
  tokenizer: dir,
  protocol: 'auto' as const,
  maxConcurrency: k,
  timeoutMs: 120_000,
  maxRetries: 0,
});
const probe = await openServedModel(config(1), { field: 'models.before' });
const ids = texts.map((t) => probe.tokenizer.encode(t).slice(0, probe.tokenizer.maxLength));
const tokens = ids.reduce((s, x) => s + x.length, 0);

const rows: string[] = [];
for (const k of [1, 4, 16]) {
  // Baseline: the same echo requests, bare fetch, k in flight.
  const bare = await time(() =>
    inFlight(
      k,
      ids.map((x) => async () => {
        const r = await fetch(`${baseURL}/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer EMPTY' },
          body: JSON.stringify({ model: 'before', prompt: x, max_tokens: 0, echo: true, logprobs: 1, temperature: 0 }),
        });
        await r.json();
      }),
    ),
  );
  // The adapter alone: openai client + p-limit + validation.
  const served: ServedModel = await openServedModel(config(k), { field: 'models.before' });
  const adapter = await time(() => Promise.all(ids.map((x) => served.score(x))));
  // The whole door: Signals with one cache entry per request (a fresh cache folder: every request sent).
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-served-'));
  const model: ModelUnderTest = { role: 'before', sha256: `bench-${k}`, capabilities: new Set(['tokenLogprobs', 'generate']) };
  const noPool: Pool = { threads: 0, run: () => Promise.reject(new Error('no pool')), close: async () => {} };
  const again = await openServedModel(config(k), { field: 'models.before' });
  const signals = createSignals({ pool: noPool, cache: diskCache(cacheDir), specs: new Map(), served: new Map([['before', again]]) });
  const door = await time(() => signals.tokenSignals(model, texts));
  rmSync(cacheDir, { recursive: true, force: true });
  const sent = again.stats.requests;
  const perReq = (s: number, n: number) => ((s * 1000) / n).toFixed(2);
  rows.push(
    `concurrency ${String(k).padStart(2)}: bare fetch ${(N / bare).toFixed(1)} req/s, ${(tokens / bare).toFixed(0)} tok/s | adapter ${(N / adapter).toFixed(1)} req/s (overhead ${perReq(adapter - bare, N)} ms/request) | signals + cache ${(sent / door).toFixed(1)} req/s, ${(tokens / door).toFixed(0)} tok/s (overhead ${perReq(door - (bare * sent) / N, sent)} ms/request; ${sent - N} repeat checks)`,
  );
}
clearInterval(sampler);
server.kill('SIGTERM');
console.log(`served model: ${N} scoring requests (${tokens} prompt tokens) against the vLLM-shaped local server in its own process`);
for (const r of rows) console.log(`  ${r}`);
console.log(`  peak RSS of the harness process: ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
