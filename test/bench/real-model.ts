/**
 * `npm run bench`, part 2: a GPT-2-small-sized model (124M parameters, vocabulary 50,257; built by
 * scripts/make-bench-model.py into .bench/gpt2-small when Debian's python3-torch is present, else
 * skipped with a note). Every configuration runs in its own child process, one after another, so each
 * has its own peak RSS; ratios are between figures of this one run.
 *
 *   scoring     harness (pool + Signals, Min-K%++ statistics on, the chosen workers × threads) vs a raw
 *               onnxruntime-node session fed the same right-padded batches of 16 (forward only,
 *               logits fetched), same threads; and the harness on its JavaScript reduction (the
 *               path before the runtime one) for comparison
 *   generation  harness greedy (pool + Signals) vs a raw onnxruntime greedy loop with key/value cache
 *               on the same 32 prompts, 64 new tokens each, over five alternating rounds; continuations
 *               must be equal
 *   memory      peak RSS of the harness with the chosen shape vs the raw session (one model copy
 *               plus the data), and per worker
 *   checks      the runtime reduction vs the float64 JavaScript one and vs torch; 1 vs 2 threads bitwise
 *
 *   npx tsx test/bench/real-model.ts            (part of npm run bench)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = process.env.PRIVACY_AUDIT_BENCH_MODEL ?? path.join(REPO, '.bench/gpt2-small');
const FIXTURE = path.join(REPO, 'fixtures/support-desk');
const ONNX = path.join(MODEL, 'onnx/model.onnx');
/** Scored texts: two fixture records joined (~190 tokens each), 12 batches of 16. */
const SCORE_TEXTS = 192;
const GEN_PROMPTS = 32;
const PROMPT_TOKENS = 32;
/** 64 new tokens (2,048 per run, ~16 s): 32-token runs of ~8 s swung ±15% between rounds. */
const NEW_TOKENS = Number(process.env.BENCH_REAL_NEW_TOKENS ?? 64);

interface ChildResult {
  tokens: number;
  seconds: number;
  peakRss: number;
  /** RSS before the model was loaded (the harness: before the pool started). */
  baseRss: number;
  sample?: { logprobs: number[][]; mu: number[][]; sigma: number[][] };
  continuations?: number[][];
  maxDiff?: Record<string, number>;
}

const mib = (b: number) => `${Math.round(b / 2 ** 20).toLocaleString('en')} MiB`;
const rss = () => process.memoryUsage().rss;
const peak = () => process.resourceUsage().maxRSS * 1024;

function texts(): string[] {
  const recs = ['members.jsonl', 'holdout.jsonl'].flatMap((f) =>
    readFileSync(path.join(FIXTURE, 'data', f), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text),
  );
  return Array.from({ length: SCORE_TEXTS }, (_, i) => `${recs[2 * i]} ${recs[2 * i + 1]}`);
}

// ------------------------------------------------------------------ children
async function child(mode: string, workers: number, threads: number): Promise<ChildResult> {
  const baseRss = rss();
  const { loadTokenizer } = await import('../../src/models/hf.ts');
  const tok = await loadTokenizer(MODEL);
  const all = texts();
  const ids = all.map((t) => tok.encode(t).slice(0, tok.maxLength));
  const promptIds = ids.slice(0, GEN_PROMPTS).map((x) => x.slice(0, PROMPT_TOKENS + 1));
  const cfg = JSON.parse(readFileSync(path.join(MODEL, 'config.json'), 'utf8')) as { n_layer: number; n_head: number; n_embd: number; pad_token_id: number; eos_token_id: number };
  const D = cfg.n_embd / cfg.n_head;
  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return (performance.now() - t) / 1000;
  };

  if (mode === 'raw-score' || mode === 'raw-generate') {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(ONNX, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const empty = (B: number) => {
      const f: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (let l = 0; l < cfg.n_layer; l++) for (const kv of ['key', 'value']) f[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [B, cfg.n_head, 0, D]);
      return f;
    };
    if (mode === 'raw-score') {
      const batch = async (b: number[][]) => {
        const W = Math.max(...b.map((x) => x.length));
        const input = new BigInt64Array(b.length * W).fill(BigInt(cfg.pad_token_id));
        const mask = new BigInt64Array(b.length * W);
        b.forEach((x, r) => x.forEach((v, c) => ((input[r * W + c] = BigInt(v)), (mask[r * W + c] = 1n))));
        await session.run({ input_ids: new ort.Tensor('int64', input, [b.length, W]), attention_mask: new ort.Tensor('int64', mask, [b.length, W]), ...empty(b.length) }, ['logits']);
      };
      await batch(ids.slice(0, 16)); // warm-up
      const seconds = await time(async () => {
        for (let i = 0; i < ids.length; i += 16) await batch(ids.slice(i, i + 16));
      });
      return { tokens: ids.reduce((s, x) => s + x.length, 0), seconds, peakRss: peak(), baseRss };
    }
    // Greedy with the key/value cache: prompts of equal length (no padding), argmax, presents fed back.
    const greedy = async (prompts: number[][], steps: number) => {
      const B = prompts.length;
      const out: number[][] = prompts.map(() => []);
      let feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input_ids: new ort.Tensor('int64', BigInt64Array.from(prompts.flat(), BigInt), [B, prompts[0]!.length]), ...empty(B) };
      let len = prompts[0]!.length;
      for (let s = 0; s < steps; s++) {
        feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(B * len).fill(1n), [B, len]);
        const r = await session.run(feeds);
        const logits = r.logits!.data as Float32Array;
        const [, T, V] = r.logits!.dims as number[];
        const next = new BigInt64Array(B);
        for (let b = 0; b < B; b++) {
          const base = (b * T! + T! - 1) * V!;
          let best = 0;
          for (let v = 1; v < V!; v++) if (logits[base + v]! > logits[base + best]!) best = v;
          next[b] = BigInt(best);
          out[b]!.push(best);
        }
        feeds = { input_ids: new ort.Tensor('int64', next, [B, 1]) };
        for (let l = 0; l < cfg.n_layer; l++) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = r[`present.${l}.${kv}`]!;
        len++;
      }
      return out;
    };
    await greedy(promptIds.slice(0, 2), 2); // warm-up
    let continuations: number[][] = [];
    const seconds = await time(async () => (continuations = await greedy(promptIds, NEW_TOKENS)));
    return { tokens: GEN_PROMPTS * NEW_TOKENS, seconds, peakRss: peak(), baseRss, continuations };
  }

  if (mode === 'threads-check') {
    // The runtime reduction with 1 and with 2 intra-op threads (bit for bit), and against the
    // float64 JavaScript reduction of the same session's logits and torch's reference values.
    const { loadCausalLM, scoreBatch, scoreInJs } = await import('../../src/models/hf.ts');
    const one = await loadCausalLM(MODEL, 1, 'cpu', 'runtime');
    const two = await loadCausalLM(MODEL, 2, 'cpu', 'runtime');
    const b = ids.slice(0, 16);
    const [a, c, j] = [await scoreBatch(one, b, { stats: true }), await scoreBatch(two, b, { stats: true }), await scoreInJs(one, b, { stats: true })];
    const ref = JSON.parse(readFileSync(path.join(MODEL, 'reference-logprobs.json'), 'utf8')) as { records: { input_ids: number[]; token_logprobs: number[]; mu: number[]; sigma: number[] }[] };
    const torch = await scoreBatch(one, ref.records.map((r) => r.input_ids), { stats: true });
    const diff = (x: { [k: string]: Float32Array | undefined }[], y: { [k: string]: ArrayLike<number> | undefined }[], k: string) =>
      Math.max(...x.flatMap((s, i) => Array.from(s[k]!, (v, t) => Math.abs(v - y[i]![k]![t]!))));
    const refAs = ref.records.map((r) => ({ logprobs: r.token_logprobs, mu: r.mu, sigma: r.sigma }));
    const maxDiff: Record<string, number> = {};
    for (const k of ['logprobs', 'mu', 'sigma']) {
      maxDiff[`threads ${k}`] = diff(a as never, c as never, k);
      maxDiff[`js ${k}`] = diff(a as never, j as never, k);
      maxDiff[`torch ${k}`] = diff(torch as never, refAs as never, k);
    }
    return { tokens: 0, seconds: 0, peakRss: peak(), baseRss, maxDiff };
  }

  // The harness: the pool and the Signals door, no cache.
  const { createSignals } = await import('../../src/audit/signals.ts');
  const { diskCache } = await import('../../src/cache.ts');
  const { createPool } = await import('../../src/pool/index.ts');
  const runtime = !mode.endsWith('-js');
  const spec = { kind: 'hf' as const, path: MODEL, ...(runtime ? { scoring: 'runtime' as const } : {}), threads };
  const pool = createPool(workers);
  const model = { role: 'before' as const, sha256: 'bench', capabilities: new Set<never>() };
  const fresh = () => createSignals({ pool, cache: diskCache(undefined), specs: new Map([['before', spec]]) });
  const poolBase = rss();
  try {
    if (mode.startsWith('harness-score')) {
      // Warm-up: one batch per worker loads the model in every worker.
      await Promise.all(Array.from({ length: workers }, (_, w) => fresh().tokenSignals(model, all.slice(16 * w, 16 * w + 16), { stats: true })));
      let sig: Awaited<ReturnType<ReturnType<typeof fresh>['tokenSignals']>> = [];
      const s = fresh();
      const seconds = await time(async () => (sig = await s.tokenSignals(model, all, { stats: true })));
      const pick = (k: 'logprobs' | 'mu' | 'sigma') => sig.slice(0, 2).map((x) => Array.from(x[k]!));
      return { tokens: ids.reduce((n, x) => n + x.length, 0), seconds, peakRss: peak(), baseRss: poolBase, sample: { logprobs: pick('logprobs'), mu: pick('mu'), sigma: pick('sigma') } };
    }
    await fresh().generate(model, promptIds.slice(0, 2), 2); // warm-up
    let continuations: number[][] = [];
    const s = fresh();
    const seconds = await time(async () => (continuations = await s.generate(model, promptIds, NEW_TOKENS)));
    return { tokens: continuations.reduce((n, c) => n + c.length, 0), seconds, peakRss: peak(), baseRss: poolBase, continuations };
  } finally {
    await pool.close();
  }
}

// ------------------------------------------------------------------ parent
async function main(): Promise<void> {
  if (!existsSync(ONNX)) {
    const python = '/usr/bin/python3';
    const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
    if (!hasTorch) {
      console.log(`real-size model: skipped (${ONNX} is missing and ${python} with torch and onnx is not available to build it: scripts/make-bench-model.py)`);
      return;
    }
    console.log(`real-size model: building ${path.relative(REPO, MODEL)} with scripts/make-bench-model.py (several minutes, once)…`);
    execFileSync(python, [path.join(REPO, 'scripts/make-bench-model.py'), MODEL], { stdio: 'inherit' });
  }
  const { poolShape } = await import('../../src/config/limits.ts');
  const modelBytes = statSync(ONNX).size;
  const cores = os.availableParallelism();
  const shape = poolShape({ modelBytes, availableBytes: os.freemem(), cores });
  const T = shape.threads;
  const run = (mode: string, workers = shape.workers, threads = T): ChildResult => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, String(workers), String(threads)], {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`bench child ${mode} failed (exit ${r.status})`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
  };
  const load0 = os.loadavg()[0]!;
  console.log(
    `\nreal-size model: ${path.relative(REPO, MODEL)} (${mib(modelBytes)} of ONNX), ${cores} cores, ${mib(os.freemem())} free, load ${load0.toFixed(2)}; ` +
      `chosen shape ${shape.workers} worker(s) × ${T} thread(s): ${shape.why}`,
  );
  // Raw and harness alternate, and which goes first alternates too, so a drift of the machine's load
  // hits both sides alike; the ratio read is the median of the rounds'.
  const alternate = (rounds: number, raw: string, harness: string): [ChildResult[], ChildResult[]] => {
    const r: ChildResult[] = [];
    const h: ChildResult[] = [];
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) (r.push(run(raw)), h.push(run(harness)));
      else (h.push(run(harness)), r.push(run(raw)));
    }
    return [r, h];
  };
  const rounds = Math.max(1, Number(process.env.BENCH_REAL_ROUNDS ?? 4));
  const [rawS, harS] = alternate(rounds, 'raw-score', 'harness-score');
  const jsS = run('harness-score-js');
  const genRounds = Math.max(1, Number(process.env.BENCH_REAL_GEN_ROUNDS ?? 5));
  const [rawGs, harGs] = alternate(genRounds, 'raw-generate', 'harness-generate');
  const check = run('threads-check');
  const load1 = os.loadavg()[0]!;

  const tps = (r: ChildResult) => r.tokens / r.seconds;
  const best = (rs: ChildResult[]) => rs.reduce((a, b) => (tps(b) > tps(a) ? b : a));
  const rows: string[][] = [];
  rawS.forEach((r, i) => rows.push([`raw onnxruntime session, forward only, ${T} thread(s), round ${i + 1}`, Math.round(tps(r)).toLocaleString('en'), 'baseline', mib(r.peakRss)]));
  harS.forEach((r, i) =>
    rows.push([`harness scoring + Min-K%++ stats (runtime reduction), ${shape.workers}×${T}, round ${i + 1}`, Math.round(tps(r)).toLocaleString('en'), `${(tps(r) / tps(rawS[i]!)).toFixed(2)}× raw of round ${i + 1}`, mib(r.peakRss)]),
  );
  rows.push([`harness scoring + stats (JavaScript reduction, the earlier path), ${shape.workers}×${T}`, Math.round(tps(jsS)).toLocaleString('en'), `${(tps(jsS) / tps(best(rawS))).toFixed(2)}× best raw`, mib(jsS.peakRss)]);
  rawGs.forEach((r, i) => rows.push([`raw greedy loop with key/value cache, batch ${GEN_PROMPTS}, ${T} thread(s), round ${i + 1}`, Math.round(tps(r)).toLocaleString('en'), 'baseline', mib(r.peakRss)]));
  harGs.forEach((r, i) =>
    rows.push([`harness greedy generation, ${shape.workers}×${T}, round ${i + 1}`, Math.round(tps(r)).toLocaleString('en'), `${(tps(r) / tps(rawGs[i]!)).toFixed(2)}× raw of round ${i + 1}`, mib(r.peakRss)]),
  );
  console.log('| what | tokens/s | ratio | peak RSS |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);

  const ratios = harS.map((r, i) => tps(r) / tps(rawS[i]!));
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const memRatio = Math.max(...harS.map((r) => r.peakRss)) / Math.max(...rawS.map((r) => r.peakRss));
  const perWorker = Math.max(...harS.map((r) => (r.peakRss - r.baseRss) / shape.workers));
  const genRatios = harGs.map((r, i) => tps(r) / tps(rawGs[i]!));
  const sameGen = harGs.every((r) => JSON.stringify(r.continuations) === JSON.stringify(rawGs[0]!.continuations));
  const sd = (k: 'logprobs' | 'mu' | 'sigma') => Math.max(...harS[0]!.sample![k].flatMap((row, i) => row.map((v, t) => Math.abs(v - jsS.sample![k][i]![t]!))));
  console.log(
    [
      `scoring: harness / raw = median ${median(ratios).toFixed(2)} over ${rounds} rounds (${ratios.map((x) => x.toFixed(2)).join(', ')}; target ≥ 0.9); the JavaScript reduction: ${(tps(jsS) / tps(best(rawS))).toFixed(2)} of the best raw`,
      `generation: harness / raw = median ${median(genRatios).toFixed(2)} over ${genRounds} rounds (${genRatios.map((x) => x.toFixed(2)).join(', ')}; target ≥ 0.95); continuations ${sameGen ? 'identical' : 'DIFFER'} (${harGs[0]!.tokens} vs ${rawGs[0]!.tokens} tokens)`,
      `memory: harness peak ${mib(Math.max(...harS.map((r) => r.peakRss)))} vs raw session ${mib(Math.max(...rawS.map((r) => r.peakRss)))} = ${memRatio.toFixed(2)}× (target ≤ 1.3); per worker ≈ ${mib(perWorker)} (peak − RSS before the pool, ÷ workers)`,
      `checks: runtime vs JavaScript reduction through the pool, max |Δ| logprobs ${sd('logprobs').toExponential(1)}, mu ${sd('mu').toExponential(1)}, sigma ${sd('sigma').toExponential(1)}; ` +
        Object.entries(check.maxDiff!)
          .map(([k, v]) => `${k} ${v === 0 ? '0' : v.toExponential(1)}`)
          .join(', '),
      `load average (1 min): ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end, on ${cores} cores`,
    ].join('\n'),
  );
}

if (process.argv[2] === '--child') {
  const r = await child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
} else {
  await main();
}
