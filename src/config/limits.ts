/**
 * Limits on what the tool accepts as input, so that a mistake (or a hostile file) is a clear exit 2
 * rather than a hang, an out-of-memory crash or a stack trace. One place, so the README and the
 * messages agree.
 */
import os from 'node:os';

/** A config file is a few kB; anything near this size is not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * YAML aliases resolved when the config is turned into values (the `yaml` package's `maxAliasCount`):
 * a real config uses a handful; a "billion laughs" file uses them to expand exponentially.
 */
export const MAX_YAML_ALIASES = 100;
/** Nesting depth of the config (the deepest real key, an assertion's options, is 5 levels down). */
export const MAX_CONFIG_DEPTH = 32;

/** Data files are read into memory whole; a JavaScript string holds at most ~512 MiB of text. */
export const DEFAULT_MAX_DATA_FILE_MIB = 256;
export const CEILING_DATA_FILE_MIB = 500;
/** One record (a JSONL line, a CSV row); far beyond any model's context, so a real record never hits it. */
export const DEFAULT_MAX_RECORD_KIB = 1024;
export const CEILING_RECORD_KIB = 64 * 1024;

export interface DataLimits {
  maxFileBytes: number;
  maxRecordBytes: number;
}

export const DEFAULT_DATA_LIMITS: Readonly<DataLimits> = {
  maxFileBytes: DEFAULT_MAX_DATA_FILE_MIB * 1024 * 1024,
  maxRecordBytes: DEFAULT_MAX_RECORD_KIB * 1024,
};

/**
 * Worker threads: each loads its own copy of every model, so threads beyond the cores only cost
 * memory (and 100 000 of them never start). Up to 4 × the available cores is allowed, so a config
 * written for a bigger CI machine still runs (oversubscribed) on a laptop.
 */
export const WORKERS_PER_CORE = 4;

export function maxWorkers(cores = os.availableParallelism()): number {
  return WORKERS_PER_CORE * Math.max(1, cores);
}

/** Undefined when `n` is allowed, else what is wrong (without the field name: the caller adds it). */
export function workersProblem(n: number, cores = os.availableParallelism()): string | undefined {
  const max = maxWorkers(cores);
  if (n <= max) return undefined;
  return `${n} worker threads is more than ${WORKERS_PER_CORE} × the ${cores} available CPU core${cores === 1 ? '' : 's'} (at most ${max}); each worker loads its own copy of every model — use "auto" (min(cores, 4)) or a number up to ${max}`;
}

/**
 * `workers: auto` within memory: each worker loads its own copy of every local model, which costs
 * about twice the model's files once onnxruntime has built its session (measured: +1.29 GB per extra
 * worker for a 652 MB GPT-2-small), plus ~150 MiB of runtime. Workers are capped so their copies fit
 * in 60% of the memory available now; never fewer than 1. Results do not depend on the number.
 */
export function workersForMemory(wanted: number, modelBytes: number, availableBytes: number): number {
  const perWorker = 2 * modelBytes + 150 * 2 ** 20;
  return Math.max(1, Math.min(wanted, Math.floor((0.6 * availableBytes) / perWorker)));
}

/**
 * Local model files from this size up run as one copy with all the cores as onnxruntime intra-op
 * threads, instead of one single-threaded copy per core. A large model's matrix products split
 * across threads almost perfectly, while every extra copy costs twice its files in memory and a
 * load (measured on 2 cores: a 124M-parameter GPT-2 as 2 workers × 1 thread was slower than
 * 1 × 2 and took +1.3 GB; the 2 MB fixture model scores 1.3× faster as 2 × 1 than 1 × 2: README,
 * "Performance").
 */
export const LARGE_MODEL_BYTES = 64 * 2 ** 20;
/** onnxruntime intra-op threads per session: at most this many (and at most the cores × WORKERS_PER_CORE cap). */
export const MAX_THREADS = 64;

export interface PoolShape {
  workers: number;
  /** onnxruntime intra-op threads of each worker's causal-LM sessions. */
  threads: number;
  /** One line on how the shape was chosen, for the log. */
  why: string;
}

/**
 * Workers × intra-op threads: given numbers are kept; `auto` for both gives one copy with every core
 * for a large model (≥ LARGE_MODEL_BYTES of local model files), else min(cores, 4) single-threaded
 * workers, never more than fit in memory (workersForMemory); cores a memory cap leaves idle become
 * threads. With only one of the two given, the other fills the cores. Results do not depend on the
 * shape (batches are cut by the planner; onnxruntime's kernels split rows, not sums, across threads:
 * test/models/scoring-graph.test.ts).
 */
export function poolShape(o: { modelBytes: number; availableBytes: number; cores: number; workers?: number; threads?: number }): PoolShape {
  const cores = Math.max(1, o.cores);
  const fill = (w: number) => Math.max(1, Math.floor(cores / w));
  if (o.workers !== undefined && o.threads !== undefined) return { workers: o.workers, threads: o.threads, why: 'as configured' };
  if (o.workers !== undefined) return { workers: o.workers, threads: fill(o.workers), why: `${o.workers} worker(s) as configured, the ${cores} cores shared as threads` };
  const byMemory = workersForMemory(Math.min(cores, 4), o.modelBytes, o.availableBytes);
  if (o.threads !== undefined) {
    const workers = Math.max(1, Math.min(byMemory, Math.floor(cores / o.threads)));
    return { workers, threads: o.threads, why: `${o.threads} thread(s) as configured, as many workers as fill the ${cores} cores and fit in memory` };
  }
  if (o.modelBytes >= LARGE_MODEL_BYTES) {
    return { workers: 1, threads: cores, why: `one copy of the models (${formatBytes(o.modelBytes)} of files ≥ ${formatBytes(LARGE_MODEL_BYTES)}: a copy per core does not pay) with ${cores} thread(s)` };
  }
  const why =
    byMemory < Math.min(cores, 4)
      ? `${byMemory} worker(s): each holds a copy of the models (${formatBytes(o.modelBytes)} of files, about twice that loaded) and ${formatBytes(o.availableBytes)} is available`
      : `${byMemory} single-threaded worker(s) (small models: copies are cheap and scale better than threads)`;
  return { workers: byMemory, threads: fill(byMemory), why };
}

/** Undefined when `n` intra-op threads are allowed, else what is wrong (the caller adds the field). */
export function threadsProblem(n: number, cores = os.availableParallelism()): string | undefined {
  const max = Math.min(MAX_THREADS, WORKERS_PER_CORE * Math.max(1, cores));
  return n <= max ? undefined : `${n} intra-op threads is more than ${max} (${WORKERS_PER_CORE} × the ${cores} available CPU cores, at most ${MAX_THREADS})`;
}

/** `1536` → `1.5 KiB`, for messages about sizes. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
