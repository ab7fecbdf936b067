/** Messages between the main thread and pool workers. Arrays cross threads as transferables. */
import type { TokenSignals } from '../models/hf.ts';

export interface ModelSpec {
  kind: 'hf';
  path: string;
}

export type WorkerTask =
  | { op: 'score'; model: ModelSpec; batch: number[][]; stats: boolean }
  | { op: 'generate'; model: ModelSpec; prompts: number[][]; maxNewTokens: number };

export type WorkerResult =
  | { op: 'score'; signals: TokenSignals[] }
  | { op: 'generate'; tokens: number[][] };
