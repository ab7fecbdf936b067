/**
 * Collect for the Shokri attack: the shadow bank's outputs on its pool, labelled IN/OUT, train one
 * binary attack model per class (on the pool, through `signals.fit`: cached, run on the workers);
 * each attack model then scores every target role's outputs on the audited records of its class.
 * The attack model's input is log p_y followed by the sorted log-probabilities (clipped at 1e-7),
 * standardised per column on the model's training rows: see the README for why and what it changed.
 */
import type { SplitName, CollectContext, MembershipObservation } from '../types.ts';
import { MEMBERSHIP_SPLITS } from '../lm-membership.ts';
import { collectShadowEvidence, poolIndex } from '../shadow-membership.ts';
import type { ShadowOptions } from './index.ts';

export interface ShokriEvidence {
  models: { role: MembershipObservation['model']; scores: Partial<Record<SplitName, number[]>> }[];
  /** Classes scored by the global attack model (too few shadow examples of their own). */
  pooledClasses: number[];
}

/** Rows of attack-model inputs for one class, growing as they are added. */
class Rows {
  private values: number[] = [];
  labels: number[] = [];
  constructor(readonly width: number) {}
  add(probs: Float32Array, y: number, label: number): void {
    const logs = Array.from(probs, (p) => Math.log(Math.max(p, 1e-7)));
    this.values.push(logs[y]!, ...logs.sort((a, b) => b - a));
    this.labels.push(label);
  }
  get n(): number {
    return this.labels.length;
  }
  features(): Float32Array {
    return Float32Array.from(this.values);
  }
}

export async function collect(ctx: CollectContext<ShadowOptions>): Promise<ShokriEvidence> {
  const o = ctx.options;
  const e = await collectShadowEvidence(ctx, o.shadows);
  const { bank } = e;
  const C = bank.classes;

  // Training rows: each shadow's output on each pool record, labelled by whether it trained on it.
  const byLabel = new Map<number, number[]>();
  bank.pool.forEach((r, i) => (byLabel.get(r.label!) ?? (byLabel.set(r.label!, []), byLabel.get(r.label!)!)).push(i));
  const rowsOf = (records: readonly number[]): Rows => {
    const rows = new Rows(C + 1);
    for (const i of records) {
      for (let s = 0; s < e.count; s++) {
        const m = bank.models[s]!;
        rows.add(m.probs.subarray(i * C, (i + 1) * C), bank.pool[i]!.label!, m.inside[i]!);
      }
    }
    return rows;
  };
  const train = new Map<number, Rows>();
  const classRows = (c: number) => train.get(c) ?? (train.set(c, rowsOf(byLabel.get(c) ?? [])), train.get(c)!);
  const usable = (c: number) => {
    const rows = classRows(c);
    return rows.n >= o.minPerClass && rows.labels.includes(0) && rows.labels.includes(1);
  };

  // Queries: every target role's outputs on every audited record, grouped by the attack model that scores it.
  type Slot = { model: number; split: SplitName; index: number };
  const queries = new Map<number, { rows: Rows; slots: Slot[] }>(); // class, or -1 for the global model
  e.models.forEach(({ probs }, mi) => {
    for (const split of MEMBERSHIP_SPLITS) {
      ctx.splits[split].forEach((r, index) => {
        const key = usable(r.label!) ? r.label! : -1;
        let q = queries.get(key);
        if (!q) queries.set(key, (q = { rows: new Rows(C + 1), slots: [] }));
        q.rows.add(probs[poolIndex(bank, r)]!, r.label!, 0);
        q.slots.push({ model: mi, split, index });
      });
    }
  });

  const scores = e.models.map(({ role }) => ({
    role,
    scores: Object.fromEntries(MEMBERSHIP_SPLITS.map((s) => [s, new Array<number>(ctx.splits[s].length)])) as Record<SplitName, number[]>,
  }));
  await Promise.all(
    [...queries].map(async ([key, q]) => {
      // Only the classes audited records need get rows; the global model's rows only if one is pooled.
      const rows = key === -1 ? rowsOf(bank.pool.map((_, i) => i)) : train.get(key)!;
      const [features, query] = standardise(rows.features(), q.rows.features(), rows.width);
      const out = await ctx.signals.fit({
        architecture: { kind: 'mlp', layers: o.attackLayers },
        training: { epochs: o.attackEpochs, batchSize: 32, learningRate: 0.001 },
        seed: (ctx.seed * 7919 + key + 2) >>> 0,
        features,
        labels: Int32Array.from(rows.labels),
        dim: C + 1,
        classes: 2,
        query,
      });
      q.slots.forEach((slot, j) => (scores[slot.model]!.scores[slot.split][slot.index] = out[j * 2 + 1]!));
    }),
  );
  const pooledClasses = [...new Set(bank.pool.map((r) => r.label!))].filter((c) => !usable(c)).sort((a, b) => a - b);
  return {
    models: scores.map(({ role, scores: s }) => ({
      role,
      scores: Object.fromEntries(MEMBERSHIP_SPLITS.filter((k) => ctx.splits[k].length > 0).map((k) => [k, s[k]])),
    })),
    pooledClasses,
  };
}

/**
 * z-scores per input column, with the training rows' mean and standard deviation (ddof 0). A column
 * whose training values are all equal becomes 0 (tested for exactly, not through a rounded sd).
 */
function standardise(train: Float32Array, query: Float32Array, width: number): [Float32Array, Float32Array] {
  const n = train.length / width;
  const mean = new Float64Array(width);
  const sd = new Float64Array(width);
  const constant = new Array<boolean>(width).fill(true);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < width; c++) {
      mean[c]! += train[i * width + c]!;
      if (train[i * width + c] !== train[c]) constant[c] = false;
    }
  for (let c = 0; c < width; c++) mean[c]! /= n;
  for (let i = 0; i < n; i++) for (let c = 0; c < width; c++) sd[c]! += (train[i * width + c]! - mean[c]!) ** 2;
  for (let c = 0; c < width; c++) sd[c] = Math.sqrt(sd[c]! / n);
  const z = (x: Float32Array) => Float32Array.from(x, (v, k) => (constant[k % width] ? 0 : (v - mean[k % width]!) / sd[k % width]!));
  return [z(train), z(query)];
}
