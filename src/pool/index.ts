/**
 * The worker pool (piscina). Work is cut into batches by the planner, never by the number of
 * workers, so results are identical with 1 or N workers.
 *
 * A worker that dies (`process.exit`, out of memory, an uncaught error) fails its task with a
 * WorkerDiedError naming the task; the audit stops (exit 3) and everything finished stays cached.
 * A native crash takes the whole process with it (workers are threads): the supervisor
 * (./supervisor.mjs) then names the tasks the workers had started (worker.ts notes them).
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { InputError } from '../errors.ts';
import type { WorkerResult, WorkerTask } from './protocol.ts';

export interface Pool {
  /** Runs `task`; `label` names it in the message if its worker dies (e.g. 'attack "loss", scoring batch 3/8 on model "before"'). */
  run<T extends WorkerTask>(task: T, label?: string): Promise<Extract<WorkerResult, { op: T['op'] }>>;
  readonly threads: number;
  close(): Promise<void>;
}

/** A pool worker died while running a task: a runtime failure (exit 3), not a result. */
export class WorkerDiedError extends Error {
  readonly exitCode = 3;
  constructor(
    readonly task: string,
    readonly reason: string,
  ) {
    super(`a pool worker died (${reason}) while ${task}; finished batches are cached: run again to resume`);
    this.name = 'WorkerDiedError';
  }
}

export const isWorkerDied = (e: unknown): e is WorkerDiedError => e instanceof WorkerDiedError;

export function defaultWorkers(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 4));
}

/** Why piscina failed a task: only a worker's death does (task errors come back as data). */
function causeOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return 'out of memory';
  const exit = /worker exited with code: (-?\d+)/.exec(err?.message ?? '');
  if (exit) return `exit code ${exit[1]}`;
  return err?.message ?? String(e);
}

/** `signal`: after an abort no further task starts; running ones finish (see below). */
export function createPool(threads: number, signal?: AbortSignal): Pool {
  // Started on the first task: a run served wholly from the cache, or a --merge of LM work, never
  // pays for starting workers (each imports the model runtimes).
  let piscina: Piscina | undefined;
  const started = () => {
    if (piscina) return piscina;
    piscina = new Piscina({
      filename: new URL('./worker.mjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      // Keep workers (and their loaded models) alive for the whole audit.
      idleTimeout: 60_000,
      // No queue limit: the planner submits a whole request's batches at once.
    });
    // Piscina emits 'error' when a worker dies with no task (e.g. while idle); the task that needed
    // it would fail with its own error, so this is only kept from crashing the process.
    piscina.on('error', () => {});
    return piscina;
  };
  let closing = false;
  // With a signal, at most `threads` tasks are handed to piscina at a time, so an abort leaves none
  // queued there; the running ones finish (ending a worker inside onnxruntime aborts the process)
  // and `close` waits for them.
  const inflight = new Set<Promise<unknown>>();
  return {
    threads,
    run: async (task, label = `running a "${task.op}" task`) => {
      let r: WorkerResult;
      try {
        if (signal) {
          while (inflight.size >= threads) await Promise.race(inflight).catch(() => {});
          signal.throwIfAborted();
        }
        const p = started().run({ ...task, label });
        if (signal) {
          inflight.add(p);
          void p.catch(() => {}).finally(() => inflight.delete(p));
        }
        r = (await p) as WorkerResult;
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (closing) throw new Error(`pool closed while ${label}`);
        throw new WorkerDiedError(label, causeOf(e));
      }
      if (r.op === 'input-error') throw new InputError(r.message, r.where);
      if (r.op === 'task-error') throw Object.assign(new Error(r.message), { stack: r.stack ?? r.message });
      return r as never;
    },
    close: async () => {
      closing = true;
      await Promise.allSettled([...inflight]);
      await piscina?.destroy();
    },
  };
}
