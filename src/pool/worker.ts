/**
 * Pool worker: the only code that runs a model. Each worker loads a model once and keeps it for
 * every later batch (models are small next to the cost of re-creating an ONNX session per batch).
 */
import { greedyBatch, loadCausalLM, scoreBatch, type CausalLM } from '../models/hf.ts';
import type { WorkerResult, WorkerTask } from './protocol.ts';

const loaded = new Map<string, Promise<CausalLM>>();

function model(path: string): Promise<CausalLM> {
  let m = loaded.get(path);
  if (!m) {
    m = loadCausalLM(path, 1);
    loaded.set(path, m);
  }
  return m;
}

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  const lm = await model(task.model.path);
  if (task.op === 'score') {
    // A batch's signals are a few kB of float32: structured cloning them costs less than packing
    // them into one transferable buffer and unpacking it again.
    return { op: 'score', signals: await scoreBatch(lm, task.batch, { stats: task.stats }) };
  }
  return { op: 'generate', tokens: await greedyBatch(lm, task.prompts, task.maxNewTokens) };
}
