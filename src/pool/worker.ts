/**
 * Pool worker: the only code that runs or trains a model. Each worker loads a model once and keeps
 * it for every later batch (models are small next to the cost of re-creating a session per batch).
 */
import { greedyBatch, loadCausalLM, scoreBatch, type CausalLM } from '../models/hf.ts';
import { loadClassifier, type Classifier } from '../models/classifier.ts';
import { trainTask } from '../shadow/train.ts';
import { isInputError } from '../errors.ts';
import type { WorkerResult, WorkerTask } from './protocol.ts';

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

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  try {
    return await runTask(task);
  } catch (e) {
    // An Error's class does not survive the thread boundary: a user's mistake found here (e.g. a
    // truncated weights file) is sent back as data and rebuilt as an InputError (exit 2).
    if (isInputError(e)) return { op: 'input-error', message: e.message, where: e.where };
    throw e;
  }
}

async function runTask(task: WorkerTask): Promise<WorkerResult> {
  switch (task.op) {
    case 'score': {
      const lm = await once(lms, task.model.path, () => loadCausalLM(task.model.path, 1));
      // A batch's signals are a few kB of float32: structured cloning them costs less than packing
      // them into one transferable buffer and unpacking it again.
      return { op: 'score', signals: await scoreBatch(lm, task.batch, { stats: task.stats }) };
    }
    case 'generate': {
      const lm = await once(lms, task.model.path, () => loadCausalLM(task.model.path, 1));
      return { op: 'generate', tokens: await greedyBatch(lm, task.prompts, task.maxNewTokens) };
    }
    case 'classify':
    case 'classify-text': {
      const key = JSON.stringify(task.model);
      const c = await once(classifiers, key, () => loadClassifier(task.model));
      const { probs, classes } = task.op === 'classify' ? await c.predict(task.features, task.n, task.dim) : await c.predictTexts(task.texts);
      return { op: task.op, probs, classes };
    }
    case 'train':
      return { op: 'train', ...(await trainTask(task)) };
  }
}
