/** Messages between the main thread and pool workers. Arrays cross threads as transferables. */
import type { Where } from '../errors.ts';
import type { TokenSignals } from '../models/hf.ts';
import type { ClassifierSpec } from '../models/classifier.ts';
import type { Architecture, Training } from '../shadow/bank.ts';
import type { SerializedWeight } from '../shadow/mlp.ts';

/**
 * A local model as a worker loads it; `device` only when not the CPU; `scoring: 'runtime'` when the
 * main thread found that the graph takes the runtime-side scoring reduction (models/hf.ts); `threads`:
 * onnxruntime intra-op threads per session (default 1; config/limits.ts decides).
 */
export type HfSpec = { kind: 'hf'; path: string; device?: 'cuda'; scoring?: 'runtime'; threads?: number };
export type ModelSpec = HfSpec | ClassifierSpec;

/** Train a classifier on (features, labels) and return its probabilities on `query` (shadows, targets, attack models). */
export interface TrainTask {
  op: 'train';
  architecture: Architecture;
  training: Training;
  seed: number;
  features: Float32Array;
  labels: Int32Array;
  /** Train on these rows of features/labels only (shadows: their half of the pool); default all. */
  rows?: Int32Array;
  dim: number;
  classes: number;
  query: Float32Array;
}

/** Every task may carry a label: what it is, for the message if its worker dies. */
export type WorkerTask = (
  | { op: 'score'; model: HfSpec; batch: number[][]; stats: boolean }
  | { op: 'generate'; model: HfSpec; prompts: number[][]; maxNewTokens: number }
  /** `n` seeded samples of one prompt at a temperature (hf.ts sampleContinuations). */
  | { op: 'sample'; model: HfSpec; prompt: number[]; n: number; maxNewTokens: number; temperature: number; seed: number }
  | { op: 'classify'; model: ClassifierSpec; features: Float32Array; n: number; dim: number }
  | { op: 'classify-text'; model: ClassifierSpec; texts: string[] }
  | TrainTask
) & { label?: string };

export type WorkerResult =
  | { op: 'score'; signals: TokenSignals[] }
  | { op: 'generate'; tokens: number[][] }
  | { op: 'sample'; samples: number[][] }
  | { op: 'classify'; probs: Float32Array; classes: number }
  | { op: 'classify-text'; probs: Float32Array; classes: number }
  | { op: 'train'; probs: Float32Array; weights: SerializedWeight[] }
  /** A user's mistake found in the worker, rebuilt as an InputError by the pool. */
  | { op: 'input-error'; message: string; where: Where }
  /** Any other error of the task, as data: a rejected piscina task then always means a dead worker. */
  | { op: 'task-error'; message: string; stack?: string };
