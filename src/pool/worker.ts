/**
 * Pool worker: the only code that runs or trains a model. Each worker loads a model once and keeps
 * it for every later batch (models are small next to the cost of re-creating a session per batch).
 */
import { greedyBatch, loadCausalLM, packSignals, sampleContinuations, scoreBatch, type CausalLM } from '../models/hf.ts';
import { loadClassifier, type Classifier } from '../models/classifier.ts';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isInputError } from '../errors.ts';
import type { HfSpec, WorkerResult, WorkerTask } from './protocol.ts';

const lms = new Map<string, Promise<CausalLM>>();
const classifiers = new Map<string, Promise<Classifier>>();

function once<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let m = map.get(key);
  if (!m) {
    m = load();
    map.set(key, m);
  }
  return m;
}

/**
 * Test hook, for the tests of worker death only: PRIVACY_AUDIT_TEST_WORKER_CRASH=<how>:<n> makes
 * each worker die as it starts its task n+1 — `exit` (process.exit in the worker thread), `oom`
 * (fills the worker's JS heap), `segv` / `abort` / `kill` (that signal to the whole process, as a
 * native crash, a native abort or the kernel's out-of-memory killer would).
 */
const crash = /^(exit|oom|segv|abort|kill):(\d+)$/.exec(process.env.PRIVACY_AUDIT_TEST_WORKER_CRASH ?? '');
let started = 0;
function crashForTest(): void {
  if (!crash || started++ < Number(crash[2])) return;
  const how = crash[1];
  if (how === 'exit') process.exit(70);
  if (how === 'oom') {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length));
  }
  process.kill(process.pid, how === 'segv' ? 'SIGSEGV' : how === 'abort' ? 'SIGABRT' : 'SIGKILL');
}

/**
 * Under the supervisor (./supervisor.mjs), the task this worker runs, in a file of the supervisor's
 * folder, written synchronously before the task starts: it outlives a native crash of the process.
 */
const notes = process.env.PRIVACY_AUDIT_SUPERVISOR_DIR;
const noteFile = notes ? path.join(notes, `worker-${threadId}`) : undefined;

/** One copy of each model per worker, loaded as its spec says (the same path, threads and scoring as validated). */
const loadLM = (m: HfSpec): Promise<CausalLM> =>
  once(lms, JSON.stringify([m.device ?? 'cpu', m.scoring ?? 'js', m.threads ?? 1, m.path]), () => loadCausalLM(m.path, m.threads ?? 1, m.device, m.scoring ?? 'js'));

/** A result whose buffer is transferred to the main thread, not copied (piscina's movable protocol). */
function moved(result: WorkerResult, buffer: ArrayBufferLike): WorkerResult {
  const movable = {
    get [Piscina.transferableSymbol]() {
      return [buffer];
    },
    get [Piscina.valueSymbol]() {
      return result;
    },
  };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as WorkerResult;
}

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  if (noteFile) writeFileSync(noteFile, task.label ?? `running a "${task.op}" task`);
  try {
    crashForTest();
    const result = await runTask(task);
    // A scoring batch's signals are views into one buffer (packSignals): moved, not cloned.
    if (result.op === 'score' && result.signals[0]) return moved(result, result.signals[0].logprobs.buffer);
    return result;
  } catch (e) {
    // An Error's class does not survive the thread boundary: a user's mistake found here (e.g. a
    // truncated weights file) is sent back as data and rebuilt as an InputError (exit 2). Any
    // other error comes back as data too, so that a failed piscina task means a dead worker.
    if (isInputError(e)) return { op: 'input-error', message: e.message, where: e.where };
    return { op: 'task-error', message: e instanceof Error ? e.message : String(e), ...(e instanceof Error && e.stack ? { stack: e.stack } : {}) };
  } finally {
    if (noteFile) rmSync(noteFile, { force: true });
  }
}

async function runTask(task: WorkerTask): Promise<WorkerResult> {
  switch (task.op) {
    case 'score': {
      const lm = await loadLM(task.model);
      // One buffer for the batch (views per sequence), moved to the main thread by run(): the audit
      // keeps every batch's signals until its last LM attack, and 48 cloned arrays a batch each cost
      // an allocation and ~200 bytes there.
      return { op: 'score', signals: packSignals(await scoreBatch(lm, task.batch, { stats: task.stats })) };
    }
    case 'generate': {
      const lm = await loadLM(task.model);
      return { op: 'generate', tokens: await greedyBatch(lm, task.prompts, task.maxNewTokens) };
    }
    case 'sample': {
      const lm = await loadLM(task.model);
      const { n, maxNewTokens, temperature, seed } = task;
      return { op: 'sample', samples: await sampleContinuations(lm, task.prompt, { n, maxNewTokens, temperature, seed }) };
    }
    case 'classify':
    case 'classify-text': {
      const key = JSON.stringify(task.model);
      const c = await once(classifiers, key, () => loadClassifier(task.model));
      const { probs, classes } = task.op === 'classify' ? await c.predict(task.features, task.n, task.dim) : await c.predictTexts(task.texts);
      return { op: task.op, probs, classes };
    }
    case 'train': {
      // tfjs is loaded by the first training task, not by every worker: an LM audit never trains.
      const { trainTask } = await import('../shadow/train.ts');
      return { op: 'train', ...(await trainTask(task)) };
    }
  }
}
