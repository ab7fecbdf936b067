/**
 * `npm run bench` (second part): shadow-model training, the harness against PyTorch on this CPU
 * (Debian python3-torch, test/bench/shadow_torch.py: the same MLP, data, epochs, batch size, Adam),
 * measured side by side in one run. Without torch the baseline rows say why and are skipped.
 *
 * 1. One thread (issue #13): MLP 100→256→50, 1000 records, 100 epochs, batch 64. Harness = pool
 *    `train` tasks on 1 worker; PyTorch = 1 thread. Both on Purchase-like binary features (11%
 *    ones: the harness's sparse kernels) and on the same records made dense (every feature
 *    nonzero: its dense kernels; torch's cost does not depend on density). Rounds alternate the two
 *    sides so that both see the same machine load; the ratio is the median over rounds of
 *    harness/torch, by wall time and by CPU time.
 * 2. The tabular demo's recipe (MLP [256, 128], 600 features, 100 classes, 30 epochs) with 1 and 2
 *    workers vs PyTorch with 1 and 2 threads.
 * 3. LiRA-sized, in a child process of its own (so its peak RSS is its own): 64 shadows on a pool
 *    of 50k records (each shadow trains on its paired half, ~25k, and scores all 50k, as the audit
 *    does; every shadow's probabilities kept, as the shadow bank keeps them), 2 workers; wall time,
 *    peak RSS, and PyTorch's time for the same work extrapolated from epochs timed in this run.
 *
 * Sizes can be reduced for a quick look: PA_BENCH_ROUNDS (default 3), PA_BENCH_LIRA_EPOCHS
 * (default 10), PA_BENCH_LIRA_SHADOWS (64), PA_BENCH_LIRA_RECORDS (50000); PA_BENCH_ONLY=lira runs
 * part 3 alone. On a busy machine compare CPU times: wall times depend on the share each side got.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type Pool } from '../../src/pool/index.ts';
import { shadowMembership } from '../../src/shadow/bank.ts';
import { makePurchase, type PurchaseData } from '../../src/shadow/purchase.ts';

const env = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-'));
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Recipe {
  layers: number[];
  epochs: number;
  batchSize: number;
}

const trainTask = (d: PurchaseData, r: Recipe, seed: number, epochs = r.epochs, rows?: Int32Array) => ({
  op: 'train' as const,
  architecture: { kind: 'mlp' as const, layers: r.layers },
  training: { epochs, batchSize: r.batchSize, learningRate: 0.001 },
  seed,
  features: d.features,
  labels: d.labels,
  ...(rows ? { rows } : {}),
  dim: d.dim,
  classes: d.classes,
  query: d.features,
});

/** Harness models per wall minute and CPU seconds per model, `models` trained on the pool (already warm). */
async function harness(pool: Pool, d: PurchaseData, r: Recipe, models: number, seed0: number): Promise<{ perMinute: number; cpuPerModel: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  await Promise.all(Array.from({ length: models }, (_, i) => pool.run(trainTask(d, r, seed0 + i))));
  const s = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(c);
  return { perMinute: (models / s) * 60, cpuPerModel: (cpu.user + cpu.system) / 1e6 / models };
}

async function warmPool(workers: number, d: PurchaseData, r: Recipe): Promise<Pool> {
  const pool = createPool(workers);
  // Start every worker's tfjs backend and kernels outside the timing.
  await Promise.all(Array.from({ length: workers }, (_, i) => pool.run(trainTask(d, r, 1000 + i, 1))));
  return pool;
}

function dataFile(d: PurchaseData, name: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, Buffer.concat([Buffer.from(d.features.buffer, d.features.byteOffset, d.features.byteLength), Buffer.from(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength)]));
  return file;
}

const torchArgs = (file: string, d: PurchaseData, r: Recipe, threads: number, models: number, epochs = r.epochs) => [
  'test/bench/shadow_torch.py',
  ...['--data', file, '--n', String(d.labels.length), '--dim', String(d.dim), '--classes', String(d.classes)],
  ...['--layers', r.layers.join(','), '--epochs', String(epochs), '--batch-size', String(r.batchSize), '--lr', '0.001'],
  ...['--models', String(models), '--threads', String(threads)],
];

interface TorchResult {
  perMinute: number;
  cpuPerModel: number;
  seconds: number;
  version: string;
}

/** PyTorch in its own process; its timing excludes interpreter start-up and a warm-up. A string = why it did not run. */
function torch(file: string, d: PurchaseData, r: Recipe, threads: number, models: number, epochs = r.epochs): TorchResult | string {
  const res = spawnSync('/usr/bin/python3', torchArgs(file, d, r, threads, models, epochs), { encoding: 'utf8' });
  if (res.error) return `skipped: /usr/bin/python3 did not start (${res.error.message})`;
  if (res.status !== 0) {
    const last = (res.stderr || 'failed').trim().split('\n').pop()!;
    return /No module named 'torch'/.test(res.stderr) ? "skipped: Debian's python3-torch is not installed" : `failed: ${last}`;
  }
  const j = JSON.parse(res.stdout) as { modelsPerMinute: number; torch: string; cpuSeconds: number; seconds: number; models: number };
  return { perMinute: j.modelsPerMinute, cpuPerModel: j.cpuSeconds / j.models, seconds: j.seconds, version: j.torch };
}

/** Two 1-thread PyTorch processes side by side (what the pool does with 2 workers), models per wall minute. */
async function torchTwoProcesses(file: string, d: PurchaseData, r: Recipe, each: number): Promise<number | string> {
  const t = performance.now();
  const codes = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn('/usr/bin/python3', torchArgs(file, d, r, 1, each), { stdio: 'ignore' });
          child.on('error', () => resolve(-1));
          child.on('close', resolve);
        }),
    ),
  );
  if (codes.some((c) => c !== 0)) return 'failed';
  // Includes interpreter start-up and a warm-up per process: a slight underestimate.
  return ((2 * each) / ((performance.now() - t) / 1000)) * 60;
}

/** The same records with every feature nonzero (x·0.9 + 0.1·u, u uniform in (0, 1]): no sparsity to exploit. */
function densified(d: PurchaseData, seed: number): PurchaseData {
  let s = seed >>> 0 || 1;
  const features = d.features.map((x) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return x * 0.9 + 0.1 * (((s >>> 0) + 1) / 4294967296);
  });
  return { ...d, features };
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

async function oneThread(): Promise<void> {
  const rounds = env('PA_BENCH_ROUNDS', 3);
  const r: Recipe = { layers: [256], epochs: 100, batchSize: 64 };
  const MODELS = 3;
  const sparse = makePurchase({ n: 1000, features: 100, classes: 50, seed: 1 });
  const dense = densified(sparse, 7);
  const pool = await warmPool(1, sparse, r);
  const loadBefore = load();
  console.log(`\nshadow training on one thread: MLP 100→256→50, 1000 records, ${r.epochs} epochs, batch ${r.batchSize}, Adam 0.001; ${MODELS} models per side per round, ${rounds} rounds alternating harness / PyTorch`);
  console.log('| data | harness (1 worker) shadows/min | PyTorch (1 thread) shadows/min | ratio, wall (median) | ratio, CPU time (median) |\n|---|---|---|---|---|');
  let version = '';
  for (const [name, d] of [['Purchase-like, binary (11% ones)', sparse], ['same records, dense', dense]] as const) {
    const file = dataFile(d, `one-${d === sparse ? 'sparse' : 'dense'}.bin`);
    const h: { perMinute: number; cpuPerModel: number }[] = [];
    const t: (TorchResult | string)[] = [];
    for (let k = 0; k < rounds; k++) {
      h.push(await harness(pool, d, r, MODELS, 10 * k));
      t.push(torch(file, d, r, 1, MODELS));
    }
    const ok = t.filter((x): x is TorchResult => typeof x !== 'string');
    const hs = h.map((x) => fmt(x.perMinute)).join(', ');
    if (ok.length !== t.length) {
      console.log(`| ${name} | ${hs} | ${t.find((x) => typeof x === 'string')} | | |`);
      continue;
    }
    version = ok[0]!.version;
    const wall = median(h.map((x, i) => x.perMinute / ok[i]!.perMinute));
    const cpu = median(h.map((x, i) => ok[i]!.cpuPerModel / x.cpuPerModel));
    console.log(`| ${name} | ${hs} | ${ok.map((x) => fmt(x.perMinute)).join(', ')} | **${wall.toFixed(2)}×** | ${cpu.toFixed(2)}× |`);
  }
  await pool.close();
  console.log(`(PyTorch ${version || 'not run'}; load average 1/5/15 min before: ${loadBefore}, after: ${load()}, ${os.cpus().length} cores)`);
}

async function demoRecipe(): Promise<void> {
  const r: Recipe = { layers: [256, 128], epochs: 30, batchSize: 64 };
  const MODELS = 4;
  const d = makePurchase({ n: 1000, features: 600, classes: 100, seed: 1 });
  const file = dataFile(d, 'demo.bin');
  const rows: [string, string, string][] = [];
  const p1 = await warmPool(1, d, r);
  const h1 = await harness(p1, d, r, MODELS, 0);
  await p1.close();
  const p2 = await warmPool(2, d, r);
  const h2 = await harness(p2, d, r, MODELS, 0);
  await p2.close();
  const t1 = torch(file, d, r, 1, MODELS / 2);
  const t2 = torch(file, d, r, 2, MODELS / 2);
  rows.push(['harness, 1 worker', fmt(h1.perMinute), typeof t1 === 'string' ? '' : `${(h1.perMinute / t1.perMinute).toFixed(2)}× torch/1 thread`]);
  rows.push(['harness, 2 workers', fmt(h2.perMinute), `${(h2.perMinute / h1.perMinute).toFixed(2)}× 1 worker${typeof t2 === 'string' ? '' : `; ${(h2.perMinute / t2.perMinute).toFixed(2)}× torch/2 threads`}`]);
  for (const [threads, t] of [[1, t1], [2, t2]] as const) {
    rows.push([`PyTorch ${typeof t === 'string' ? '' : t.version}, ${threads} thread(s)`, typeof t === 'string' ? t : fmt(t.perMinute), typeof t === 'string' ? '' : threads === 1 ? 'baseline' : '']);
  }
  if (typeof t1 !== 'string') {
    const tp = await torchTwoProcesses(file, d, r, MODELS / 2);
    rows.push(['PyTorch, 2 processes × 1 thread (wall time incl. start-up)', typeof tp === 'string' ? tp : fmt(tp), typeof tp === 'string' ? '' : `harness/2 workers = ${(h2.perMinute / tp).toFixed(2)}×`]);
  }
  console.log(`\nshadow training, the tabular demo's recipe: MLP 600→[256, 128]→100, 1000 records, ${r.epochs} epochs, batch ${r.batchSize}; ${MODELS} models per harness measurement (load average ${load()})`);
  console.log('| what | shadows/min | ratio |\n|---|---|---|');
  for (const [what, v, ratio] of rows) console.log(`| ${what} | ${v} | ${ratio} |`);
}

/** Child process: the LiRA-sized bank. Prints one JSON line. */
async function liraChild(): Promise<void> {
  const shadows = env('PA_BENCH_LIRA_SHADOWS', 64);
  const n = env('PA_BENCH_LIRA_RECORDS', 50000);
  const epochs = env('PA_BENCH_LIRA_EPOCHS', 10);
  const r: Recipe = { layers: [256], epochs, batchSize: 64 };
  const d0 = makePurchase({ n, features: 100, classes: 50, seed: 3 });
  // The pool's features in shared memory, as the audit passes them (src/audit/signals.ts).
  const features = new Float32Array(new SharedArrayBuffer(d0.features.byteLength));
  features.set(d0.features);
  const labels = new Int32Array(new SharedArrayBuffer(d0.labels.byteLength));
  labels.set(d0.labels);
  const d = { ...d0, features, labels };
  const ids = Array.from({ length: n }, (_, i) => `r${i}`);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const pool = await warmPool(2, d, { ...r, layers: [8] });
  const startup = (performance.now() - t0) / 1000;
  const warmRss = process.resourceUsage().maxRSS / 1024;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const probs: Float32Array[] = [];
  let trained = 0;
  await Promise.all(
    Array.from({ length: shadows }, async (_, index) => {
      const inside = shadowMembership(ids, index, 1);
      const rows = Int32Array.from([...inside.keys()].filter((i) => inside[i]));
      const res = await pool.run(trainTask(d, r, index * 7919 + 1, epochs, rows));
      probs[index] = res.probs;
      trained++;
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpuSeconds = (c.user + c.system) / 1e6;
  await pool.close();
  const kept = probs.reduce((s, p) => s + p.byteLength, 0);
  console.log(JSON.stringify({ shadows: trained, n, epochs, seconds, cpuSeconds, startup, peakRssMiB: process.resourceUsage().maxRSS / 1024, warmRssMiB: warmRss, startRssMiB: rss0 / 2 ** 20, probsMiB: kept / 2 ** 20 }));
}

async function lira(): Promise<void> {
  const shadows = env('PA_BENCH_LIRA_SHADOWS', 64);
  const n = env('PA_BENCH_LIRA_RECORDS', 50000);
  const epochs = env('PA_BENCH_LIRA_EPOCHS', 10);
  const loadBefore = load();
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--lira-child'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`LiRA-sized run failed (exit ${String(child.status)})`);
  const j = JSON.parse(child.stdout.trim().split('\n').pop()!) as { seconds: number; cpuSeconds: number; startup: number; peakRssMiB: number; warmRssMiB: number; startRssMiB: number; probsMiB: number };
  // PyTorch on one shadow's share (half the records) for 2 epochs, 1 thread; scaled to the run's
  // epochs and shadows on 2 processes (the harness uses 2 workers).
  const half = makePurchase({ n: Math.ceil(n / 2), features: 100, classes: 50, seed: 3 });
  const r: Recipe = { layers: [256], epochs: 2, batchSize: 64 };
  const tt = torch(dataFile(half, 'lira-half.bin'), half, r, 1, 1);
  // Training only: PyTorch's estimate leaves out scoring the 50k records with each shadow, which the harness's time includes.
  const torchEstimate = typeof tt === 'string' ? undefined : (tt.seconds / 2) * epochs * shadows / 2;
  const torchCpu = typeof tt === 'string' ? undefined : (tt.cpuPerModel / 2) * epochs * shadows;
  console.log(`\nLiRA-sized shadow bank: ${shadows} shadows × ${n} records (MLP 100→256→50, each shadow trains on its paired half for ${epochs} epochs, batch 64, and scores all ${n}), 2 workers, in a process of its own`);
  console.log('| what | value |\n|---|---|');
  console.log(`| wall time, training and scoring | ${j.seconds.toFixed(1)} s (${(j.seconds / shadows).toFixed(2)} s per shadow; starting the 2 workers took ${j.startup.toFixed(1)} s more) |`);
  console.log(`| CPU time of the process, training and scoring | ${j.cpuSeconds.toFixed(1)} s (${(j.cpuSeconds / shadows).toFixed(2)} s per shadow) |`);
  console.log(
    `| PyTorch, the same training (not the scoring) on 2 × 1 thread, extrapolated from 2 epochs of one shadow timed in this run | ${
      torchEstimate === undefined || torchCpu === undefined
        ? String(tt)
        : `${torchEstimate.toFixed(1)} s wall, ${torchCpu.toFixed(1)} s CPU → harness/torch = ${(torchEstimate / j.seconds).toFixed(2)}× by wall, ${(torchCpu / j.cpuSeconds).toFixed(2)}× by CPU time`
    } |`,
  );
  console.log(`| peak RSS of the process (main + 2 workers) | ${j.peakRssMiB.toFixed(0)} MiB (${j.startRssMiB.toFixed(0)} MiB with the data, before the pool; ${j.warmRssMiB.toFixed(0)} MiB with 2 workers started; the ${shadows} shadows' probabilities kept: ${j.probsMiB.toFixed(0)} MiB) |`);
  console.log(`(load average before: ${loadBefore}, after: ${load()})`);
}

if (process.argv.includes('--lira-child')) await liraChild();
else if (process.env.PA_BENCH_ONLY === 'lira') await lira();
else {
  await oneThread();
  await demoRecipe();
  await lira();
}
