/**
 * The worker side of shadow training: build the architecture (an MLP, or a target's topology
 * re-initialised with the seed), train it, and return its probabilities on the query records and
 * its weights. Pure given the task: same task → same bytes, whichever worker runs it.
 */
import { cloneArchitecture, outputsProbabilities } from '../models/tfjs-io.ts';
import type { TrainTask } from '../pool/protocol.ts';
import { trainLayersModel, trainMlp, useBackend, type SerializedWeight, type TrainedMlp } from './mlp.ts';

export async function trainTask(task: TrainTask): Promise<{ probs: Float32Array; weights: SerializedWeight[] }> {
  await useBackend('wasm');
  const data = { features: task.features, labels: task.labels, dim: task.dim, classes: task.classes };
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
    return { probs: model.predict(task.query, n), weights: model.weights() };
  } finally {
    model.dispose();
  }
}
