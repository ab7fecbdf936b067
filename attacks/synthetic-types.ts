/**
 * The contract of the attacks on a released synthetic dataset (a target kind of its own: no model is
 * queried, so there is no `collect`): each reads the encoded tables and returns an observation that
 * the synthetic audit (src/audit/synthetic.ts) turns into findings and gates with the same metrics
 * as every other attack.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { unsafeUniformIntDistribution, type RandomGenerator } from 'pure-rand';
import type { EncodedTable, Encoding } from '../src/data/table.ts';
import { residualRisk, successRate, type ResidualRisk, type SuccessRate } from '../src/metrics/risk.ts';

/** The EDPB/WP216 anonymisation criteria (Opinion 05/2014 §2.2.2; carried into Opinion 28/2024), plus membership. */
export type SyntheticFamily = 'singling-out' | 'linkability' | 'inference' | 'membership' | 'diagnostic';

export interface SyntheticAttackMeta {
  id: string;
  title: string;
  failureTitle: string;
  description: string;
  family: SyntheticFamily;
  /** Tabular or text targets. */
  target: 'tabular' | 'text';
  /** Needs `data.population` (e.g. DOMIAS's reference density); without it: not-applicable. */
  needsPopulation?: boolean;
  /** Paper and section the attack follows. */
  reference: string;
}

export interface SyntheticContext {
  synthetic: EncodedTable;
  /** The generator's training records (Anonymeter's `ori`). */
  members: EncodedTable;
  /** Records of the same distribution the generator never saw (Anonymeter's `control`). */
  control: EncodedTable;
  population?: EncodedTable;
  encoding: Encoding;
  /** Column name → encoded index. */
  column: (name: string) => number;
  seed: number;
  /** Text of each row (text targets), per role. */
  text?: { synthetic: string[]; members: string[]; control: string[]; population?: string[] };
}

/** Success on members vs the same attack on control (Anonymeter's main and control attacks). */
export interface RiskObservation {
  kind: 'risk';
  /** e.g. 'univariate', 'multivariate', 'secret:<column>'. */
  variant: string;
  /** Attacks requested and actually made (queries that single out a synthetic row; targets drawn). */
  attacks: { requested: number; made: number };
  attack: SuccessRate;
  control: SuccessRate;
  baseline: SuccessRate;
  /** null when control succeeded every time (residual undefined). */
  residual: ResidualRisk | null;
  /** Rows of `members` the attack got right (singled out, linked, inferred): the per-subject view. */
  memberHits: number[];
  /** Columns the attack used, for the report (never the values). */
  columns: string[];
  /** Rows (members, control) the attack was scored on: members may be subsampled to control's size. */
  scoredOn: { members: number; control: number };
  warnings: string[];
}

/**
 * A targeted attack's risk (linkability, attribute inference): the same attack on `n` member targets
 * and `n` control targets, against a random baseline, with Anonymeter's two warnings (the baseline
 * does as well as the attack; control succeeded every time, so the residual risk is undefined).
 */
export function targetedRisk(o: {
  variant: string;
  requested: number;
  /** Per member target (in `targets` order) and per control target: did the attack succeed. */
  hits: boolean[];
  controlHits: boolean[];
  baseline: SuccessRate;
  /** Rows of `members` the attack targeted. */
  targets: number[];
  columns: string[];
  /** The warning when every control target succeeded. */
  allControlsSucceeded: string;
  warnings: string[];
}): RiskObservation {
  const n = o.hits.length;
  const attack = successRate(o.hits.filter(Boolean).length, n);
  const control = successRate(o.controlHits.filter(Boolean).length, o.controlHits.length);
  const warnings = [...o.warnings];
  if (o.baseline.rate >= attack.rate) warnings.push("the random baseline does as well as the attack: the analysis results cannot be trusted (Anonymeter's warning)");
  const residual = residualRisk(attack, control) ?? null;
  if (!residual) warnings.push(o.allControlsSucceeded);
  return {
    kind: 'risk',
    variant: o.variant,
    attacks: { requested: o.requested, made: n },
    attack,
    control,
    baseline: o.baseline,
    residual,
    memberHits: o.targets.filter((_, i) => o.hits[i]).sort((x, y) => x - y),
    columns: o.columns,
    scoredOn: { members: n, control: o.controlHits.length },
    warnings,
  };
}

/** Membership scores (higher = member) on members vs control, for the shared ROC/AUC machinery. */
export interface ScoresObservation {
  kind: 'scores';
  variant: string;
  members: { scores: number[]; rows: number[] };
  control: { scores: number[]; rows: number[] };
  details: Record<string, number | string>;
  warnings: string[];
}

export interface DiagnosticObservation {
  kind: 'diagnostic';
  variant: string;
  values: Record<string, number>;
  /** A one-sided test whose rejection is a red flag (e.g. more exact copies of members than of holdout). */
  redFlag?: { k: number; n: number; p: number; what: string };
  memberHits: number[];
  warnings: string[];
}

export type SyntheticObservation = RiskObservation | ScoresObservation | DiagnosticObservation;

export interface SyntheticAttack<O> {
  meta: SyntheticAttackMeta;
  options: z.ZodType<O>;
  /** Pure: same tables, options and seed → same observations. */
  run(ctx: SyntheticContext, options: O): SyntheticObservation[];
}

/** Seeded sample of `k` of `n` indices without replacement (partial Fisher–Yates), in draw order. */
export function sampleIndices(n: number, k: number, rng: RandomGenerator): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = unsafeUniformIntDistribution(i, n - 1, rng);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.slice(0, m);
}

export const randInt = (lo: number, hi: number, rng: RandomGenerator) => unsafeUniformIntDistribution(lo, hi, rng);

/** A seed for one attack's draws from the run seed and the attack's id (same seed → same draws). */
export function attackSeed(seed: number, id: string): number {
  return parseInt(createHash('sha256').update(JSON.stringify([seed, 'synthetic', id])).digest('hex').slice(0, 8), 16);
}

/** People in a table: its subjects, or its rows when it has no subject column. */
export function peopleCount(t: EncodedTable): number {
  return t.subjects ? new Set(t.subjects.map((s, i) => s ?? `\u0000${i}`)).size : t.n;
}

/**
 * Targets for an attack: `k` rows of distinct people (a seeded sample of people, then one seeded
 * record of each), so that the successes counted are independent, as the intervals assume; rows
 * without a subject are their own person.
 */
export function targetRows(t: EncodedTable, k: number, rng: RandomGenerator): number[] {
  if (!t.subjects) return sampleIndices(t.n, k, rng);
  const rows = new Map<string, number[]>();
  t.subjects.forEach((s, i) => {
    const key = s ?? `\u0000${i}`;
    const r = rows.get(key);
    if (r) r.push(i);
    else rows.set(key, [i]);
  });
  const people = [...rows.values()];
  return sampleIndices(people.length, k, rng).map((p) => {
    const r = people[p]!;
    return r[unsafeUniformIntDistribution(0, r.length - 1, rng)]!;
  });
}
