/**
 * The worker pool (piscina). Work is cut into batches by the planner, never by the number of
 * workers, so results are identical with 1 or N workers.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { InputError } from '../errors.ts';
import type { WorkerResult, WorkerTask } from './protocol.ts';

export interface Pool {
  run<T extends WorkerTask>(task: T): Promise<Extract<WorkerResult, { op: T['op'] }>>;
  readonly threads: number;
  close(): Promise<void>;
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 4));
}

export function createPool(threads: number): Pool {
  const piscina = new Piscina({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // Keep workers (and their loaded models) alive for the whole audit.
    idleTimeout: 60_000,
    // No queue limit: the planner submits a whole request's batches at once.
  });
  return {
    threads,
    run: async (task) => {
      const r = (await piscina.run(task)) as WorkerResult;
      if (r.op === 'input-error') throw new InputError(r.message, r.where);
      return r as never;
    },
    close: () => piscina.destroy(),
  };
}
