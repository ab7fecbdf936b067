/**
 * The worker side of shadow training: build the architecture (an MLP, or a target's topology
 * re-initialised with the seed), train it, and return its probabilities on the query records and
 * its weights. Pure given the task: same task → same bytes, whichever worker runs it.
 */
import { cloneArchitecture, outputsProbabilities } from '../models/tfjs-io.ts';
import type { TrainTask } from '../pool/protocol.ts';
import { predictDense } from './dense.ts';
import { backendFallbackNote, denseSpecOf, trainLayersModel, trainMlp, useBackend, type SerializedWeight, type TrainedMlp } from './mlp.ts';

export async function trainTask(task: TrainTask): Promise<{ probs: Float32Array; weights: SerializedWeight[] }> {
  // Cache entries are keyed as wasm-trained: a silent fallback to tfjs's cpu backend would store
  // other numbers under the same keys.
  if ((await useBackend('wasm')) !== 'wasm') throw new Error(`the tfjs wasm backend is unavailable: ${backendFallbackNote() ?? 'unknown reason'}`);
  const { dim, rows } = task;
  const features = rows ? new Float32Array(rows.length * dim) : task.features;
  if (rows) rows.forEach((r, j) => features.set(task.features.subarray(r * dim, (r + 1) * dim), j * dim));
  const labels = rows ? Int32Array.from(rows, (r) => task.labels[r]!) : task.labels;
  const data = { features, labels, dim, classes: task.classes };
  const opts = { ...task.training, seed: task.seed };
  let model: TrainedMlp;
  if (task.architecture.kind === 'mlp') {
    model = await trainMlp(data, { ...opts, layers: task.architecture.layers });
  } else {
    const layers = await cloneArchitecture({ modelTopology: task.architecture.topology as never }, task.seed);
    model = await trainLayersModel(layers, outputsProbabilities(layers), data, opts);
  }
  try {
    const n = task.query.length / task.dim;
    const weights = model.weights();
    // A dense MLP scores on the wasm kernels too: tfjs's predict cost 6.7× the training itself
    // for a shadow scoring a 50k pool (3.8 vs 0.56 CPU s, 3 epochs on 25k records).
    const spec = denseSpecOf(model.layersModel, model.softmaxOutput, dim, task.classes);
    const probs = spec ? predictDense(spec, weights.map((w) => Float32Array.from(w.values)), task.query, n) : model.predict(task.query, n);
    return { probs, weights };
  } finally {
    model.dispose();
  }
}
