/**
 * `npm run bench` (second part): shadow models per minute. The harness trains the tabular demo's
 * shadow recipe (MLP [256, 128] on 1000 Purchase-like records, 600 features, 100 classes, 30 epochs,
 * batch 64, Adam 0.001) as pool `train` tasks with 1 and 2 workers; the baseline is the same MLP,
 * data, epochs and batch size in PyTorch on this CPU (Debian python3-torch, test/bench/shadow_torch.py),
 * with 1 and 2 threads, measured in the same run. Skipped with a note when torch is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '../../src/pool/index.ts';
import { makePurchase } from '../../src/shadow/purchase.ts';

const N = 1000;
const DIM = 600;
const CLASSES = 100;
const LAYERS = [256, 128];
const EPOCHS = 30;
const BATCH = 64;
const MODELS = 8;

const data = makePurchase({ n: N, features: DIM, classes: CLASSES, seed: 1 });
const task = (seed: number, epochs = EPOCHS) => ({
  op: 'train' as const,
  architecture: { kind: 'mlp' as const, layers: LAYERS },
  training: { epochs, batchSize: BATCH, learningRate: 0.001 },
  seed,
  features: data.features,
  labels: data.labels,
  dim: DIM,
  classes: CLASSES,
  query: data.features,
});

async function harness(workers: number): Promise<number> {
  const pool = createPool(workers);
  // Warm-up: start every worker's wasm backend outside the timing.
  await Promise.all(Array.from({ length: workers }, (_, i) => pool.run(task(1000 + i, 1))));
  const t = performance.now();
  await Promise.all(Array.from({ length: MODELS }, (_, i) => pool.run(task(i))));
  const s = (performance.now() - t) / 1000;
  await pool.close();
  return (MODELS / s) * 60;
}

const torchArgs = (file: string, threads: number, models: number) => [
  'test/bench/shadow_torch.py',
  ...['--data', file, '--n', String(N), '--dim', String(DIM), '--classes', String(CLASSES)],
  ...['--layers', LAYERS.join(','), '--epochs', String(EPOCHS), '--batch-size', String(BATCH), '--lr', '0.001'],
  ...['--models', String(models), '--threads', String(threads)],
];

function torch(threads: number, file: string): { perMinute: number; version: string } | string {
  const r = spawnSync('/usr/bin/python3', torchArgs(file, threads, Math.max(2, MODELS / 2)), { encoding: 'utf8' });
  if (r.status !== 0) return (r.stderr || r.error?.message || 'failed').trim().split('\n').pop()!;
  const j = JSON.parse(r.stdout) as { modelsPerMinute: number; torch: string };
  return { perMinute: j.modelsPerMinute, version: j.torch };
}

/** Two 1-thread PyTorch processes side by side (what the pool does with 2 workers), models per wall minute. */
async function torchTwoProcesses(file: string): Promise<number | string> {
  const each = Math.max(2, MODELS / 2);
  const t = performance.now();
  const codes = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<number | null>((resolve) => {
          const child = spawn('/usr/bin/python3', torchArgs(file, 1, each), { stdio: 'ignore' });
          child.on('error', () => resolve(-1));
          child.on('close', resolve);
        }),
    ),
  );
  if (codes.some((c) => c !== 0)) return 'failed';
  // Includes interpreter start-up and a warm-up epoch per process: a slight underestimate.
  return ((2 * each) / ((performance.now() - t) / 1000)) * 60;
}

const rows: [string, string, string][] = [];
const h1 = await harness(1);
const h2 = await harness(2);
const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-bench-')), 'data.bin');
writeFileSync(file, Buffer.concat([Buffer.from(data.features.buffer), Buffer.from(data.labels.buffer)]));
const t1 = torch(1, file);
const t2 = torch(2, file);
rows.push(['harness (tfjs wasm), 1 worker', h1.toFixed(1), typeof t1 === 'string' ? '' : `${(h1 / t1.perMinute).toFixed(2)}× torch/1 thread`]);
rows.push(['harness (tfjs wasm), 2 workers', h2.toFixed(1), `${(h2 / h1).toFixed(2)}× 1 worker${typeof t2 === 'string' ? '' : `; ${(h2 / t2.perMinute).toFixed(2)}× torch/2 threads`}`]);
for (const [threads, t] of [[1, t1], [2, t2]] as const) {
  rows.push([`PyTorch ${typeof t === 'string' ? '' : t.version} (Debian), ${threads} thread(s)`, typeof t === 'string' ? 'skipped' : t.perMinute.toFixed(1), typeof t === 'string' ? t : threads === 1 ? 'baseline' : '']);
}
if (typeof t1 !== 'string') {
  const tp = await torchTwoProcesses(file);
  rows.push([
    'PyTorch, 2 processes × 1 thread (wall time incl. start-up)',
    typeof tp === 'string' ? tp : tp.toFixed(1),
    typeof tp === 'string' ? '' : `harness/2 workers = ${(h2 / tp).toFixed(2)}×`,
  ]);
}
console.log(`\nshadow training: MLP [${LAYERS.join(', ')}], ${N} records × ${DIM} features, ${CLASSES} classes, ${EPOCHS} epochs, batch ${BATCH}; ${MODELS} models per harness measurement`);
console.log('| what | shadows/min | ratio |\n|---|---|---|');
for (const [what, v, ratio] of rows) console.log(`| ${what} | ${v} | ${ratio} |`);
