/**
 * `npm run bench`: throughput of the harness against baselines measured in the same run, on the
 * demo's `before` model and records. Never run by the tests (timings are not assertions).
 *
 *   scoring:    harness (pool + signals, N workers, no cache, runtime-side reduction) vs a raw onnxruntime-node session
 *               fed the same batches (1 and 2 intra-op threads), in tokens/s
 *   generation: harness greedy loop vs transformers.js generate(), in generated tokens/s
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@huggingface/transformers';
import { createSignals } from '../../src/audit/signals.ts';
import { diskCache } from '../../src/cache.ts';
import { greedyBatch, loadCausalLM, loadTokenizer } from '../../src/models/hf.ts';
import { createPool } from '../../src/pool/index.ts';

const FIXTURE = new URL('../../fixtures/support-desk/', import.meta.url).pathname;
const dir = path.join(FIXTURE, 'models/before');
const texts = ['members.jsonl', 'holdout.jsonl'].flatMap((f) =>
  readFileSync(path.join(FIXTURE, 'data', f), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text),
);
const tok = await loadTokenizer(dir);
const ids = texts.map((t) => tok.encode(t).slice(0, tok.maxLength));
const tokens = ids.reduce((s, x) => s + x.length, 0);
const rows: [string, number, string][] = [];
const time = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

// Raw onnxruntime session: the same right-padded batches of 16, empty key/value cache.
const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { n_layer: number; n_head: number; n_embd: number; pad_token_id: number };
async function rawScore(threads: number): Promise<number> {
  const session = await ort.InferenceSession.create(path.join(dir, 'onnx/model.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const run = async () => {
    for (let i = 0; i < ids.length; i += 16) {
      const b = ids.slice(i, i + 16);
      const W = Math.max(...b.map((x) => x.length));
      const input = new BigInt64Array(b.length * W).fill(BigInt(cfg.pad_token_id));
      const mask = new BigInt64Array(b.length * W);
      b.forEach((x, r) => x.forEach((v, c) => ((input[r * W + c] = BigInt(v)), (mask[r * W + c] = 1n))));
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', input, [b.length, W]),
        attention_mask: new ort.Tensor('int64', mask, [b.length, W]),
      };
      const D = cfg.n_embd / cfg.n_head;
      for (let l = 0; l < cfg.n_layer; l++)
        for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [b.length, cfg.n_head, 0, D]);
      await session.run(feeds);
    }
  };
  await run(); // warm-up
  return tokens / (await time(run));
}

async function harnessScore(workers: number): Promise<number> {
  const pool = createPool(workers);
  const signals = createSignals({ pool, cache: diskCache(undefined), specs: new Map([['before', { kind: 'hf', path: dir, scoring: 'runtime' }]]) });
  const model = { role: 'before' as const, sha256: 'bench', capabilities: new Set<never>() };
  await signals.tokenSignals(model, texts.slice(0, 64)); // warm-up: load the model in every worker
  const fresh = createSignals({ pool, cache: diskCache(undefined), specs: new Map([['before', { kind: 'hf', path: dir, scoring: 'runtime' }]]) });
  const tps = tokens / (await time(() => fresh.tokenSignals(model, texts)));
  await pool.close();
  return tps;
}

const raw1 = await rawScore(1);
const raw2 = await rawScore(2);
rows.push(['raw onnxruntime session, 1 thread', raw1, 'baseline']);
rows.push(['raw onnxruntime session, 2 threads', raw2, `${(raw2 / raw1).toFixed(2)}×`]);
for (const w of [1, 2]) {
  const h = await harnessScore(w);
  rows.push([`harness scoring, ${w} worker(s)`, h, `${(h / raw1).toFixed(2)}× raw/1 thread, ${(h / raw2).toFixed(2)}× raw/2 threads`]);
}

// Generation: 64 prompts of 32 tokens, 32 new tokens each.
const lm = await loadCausalLM(dir, 1);
const prompts = ids.filter((x) => x.length >= 33).slice(0, 64).map((x) => x.slice(0, 33));
const genTokens = prompts.length * 32;
const viaGenerate = async () => {
  for (let i = 0; i < prompts.length; i += 32) {
    const b = prompts.slice(i, i + 32);
    await lm.model.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(b.flat().map(BigInt)), [b.length, 33]),
      attention_mask: new Tensor('int64', new BigInt64Array(b.length * 33).fill(1n), [b.length, 33]),
      max_new_tokens: 32,
      min_new_tokens: 32,
      do_sample: false,
    } as never);
  }
};
const viaHarness = async () => {
  for (let i = 0; i < prompts.length; i += 32) await greedyBatch(lm, prompts.slice(i, i + 32), 32);
};
await viaGenerate();
await viaHarness();
const g = genTokens / (await time(viaGenerate));
const h = genTokens / (await time(viaHarness));
rows.push(['transformers.js generate(), batch 32', g, 'baseline']);
rows.push(['harness greedy loop, batch 32', h, `${(h / g).toFixed(2)}×`]);

console.log(`model: ${path.relative(process.cwd(), dir)}; scoring ${texts.length} records, ${tokens} tokens; generation ${genTokens} tokens`);
console.log('| what | tokens/s | ratio |\n|---|---|---|');
for (const [what, tps, ratio] of rows) console.log(`| ${what} | ${Math.round(tps).toLocaleString('en')} | ${ratio} |`);
