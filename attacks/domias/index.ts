/**
 * DOMIAS (van Breugel, Sun, Qian, van der Schaar, AISTATS 2023, §3 Eq. 2): a record is scored by the
 * density of the synthetic data at it over the density of the population (reference data the
 * attacker holds) at it, f(x) = p_G(x) / p_R(x): a generator that over-fits puts more mass on its
 * training records than the population does. Both densities are Gaussian KDEs with Scott's
 * bandwidth as SciPy's `gaussian_kde` (the paper's "kde" estimator); the score is log p_G − log p_R,
 * a monotone transform of the ratio (same ROC), computed in logs so that no density underflows.
 */
import { z } from 'zod';
import { seededRng } from '../../src/metrics/bootstrap.ts';
import { gaussianKde } from '../../src/metrics/kde.ts';
import type { EncodedTable, Encoding } from '../../src/data/table.ts';
import { attackSeed, sampleIndices, type ScoresObservation, type SyntheticAttack, type SyntheticContext } from '../synthetic-types.ts';

const options = z.strictObject({
  /** Columns for the densities (default: all; categorical ones one-hot, first level dropped). */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** Members and control records scored, each (a seeded sample when there are more). */
  maxTargets: z.int().min(10).max(1_000_000).default(1000),
});
type Options = z.infer<typeof options>;

/** Dense features for the KDE: numeric columns as they are, categorical ones one-hot without their first level. */
export function densityFeatures(tables: EncodedTable[], enc: Encoding, cols: number[]): { dims: string[]; rows: Float64Array[] } {
  const dims: string[] = [];
  const plan: { col: number; level?: number }[] = [];
  for (const c of cols) {
    const name = enc.columns[c]!.name;
    if (c < enc.numeric) (plan.push({ col: c }), dims.push(name));
    else {
      const levels = enc.levels.get(c) ?? [];
      for (let l = 1; l < levels.length; l++) (plan.push({ col: c, level: l }), dims.push(`${name}#${l}`));
    }
  }
  const rows = tables.map((t) => {
    const out = new Float64Array(t.n * plan.length);
    for (let i = 0; i < t.n; i++) {
      plan.forEach((p, k) => {
        const x = t.data[i * t.d + p.col]!;
        out[i * plan.length + k] = p.level === undefined ? x : x === p.level ? 1 : 0;
      });
    }
    return out;
  });
  return { dims, rows };
}

function run(ctx: SyntheticContext, o: Options): ScoresObservation[] {
  const pop = ctx.population!;
  const rng = seededRng(attackSeed(ctx.seed, 'domias'));
  const warnings: string[] = [];
  const cols = (o.columns ?? ctx.encoding.columns.map((c) => c.name)).map(ctx.column);
  const mRows = ctx.members.n > o.maxTargets ? sampleIndices(ctx.members.n, o.maxTargets, rng).sort((a, b) => a - b) : Array.from({ length: ctx.members.n }, (_, i) => i);
  const cRows = ctx.control.n > o.maxTargets ? sampleIndices(ctx.control.n, o.maxTargets, rng).sort((a, b) => a - b) : Array.from({ length: ctx.control.n }, (_, i) => i);
  const feats = densityFeatures([ctx.synthetic, pop, ctx.members, ctx.control], ctx.encoding, cols);
  let d = feats.dims.length;
  // A missing value has no density: impute the synthetic mean of the dimension (said in a warning).
  const means = new Float64Array(d);
  const [syn, ref, mem, ctl] = feats.rows as [Float64Array, Float64Array, Float64Array, Float64Array];
  for (let k = 0; k < d; k++) {
    let s = 0;
    let c = 0;
    for (let i = 0; i < ctx.synthetic.n; i++) {
      const x = syn[i * d + k]!;
      if (x === x) (s += x, c++);
    }
    means[k] = c ? s / c : 0;
  }
  let imputed = 0;
  for (const a of feats.rows)
    for (let i = 0; i < a.length; i++)
      if (a[i] !== a[i]) (a[i] = means[i % d]!, imputed++);
  if (imputed) warnings.push(`${imputed} missing values imputed with the synthetic mean of their dimension`);
  // Dimensions constant in the synthetic or the population data make a KDE singular: dropped.
  const variable = feats.dims.map((_, k) => [syn, ref].every((a) => {
    const first = a[k];
    for (let i = k; i < a.length; i += d) if (a[i] !== first) return true;
    return false;
  }));
  const keep = feats.dims.flatMap((_, k) => (variable[k] ? [k] : []));
  if (keep.length < d) warnings.push(`${d - keep.length} constant dimension(s) dropped from the densities: ${feats.dims.filter((_, k) => !variable[k]).join(', ')}`);
  const pick = (a: Float64Array, idx?: number[]) => {
    const n = a.length / d;
    const rows = idx ?? Array.from({ length: n }, (_, i) => i);
    const out = new Float64Array(rows.length * keep.length);
    rows.forEach((i, r) => keep.forEach((k, j) => (out[r * keep.length + j] = a[i * d + k]!)));
    return out;
  };
  const dims = feats.dims.filter((_, k) => variable[k]);
  const synK = pick(syn);
  const refK = pick(ref);
  const memK = pick(mem, mRows);
  const ctlK = pick(ctl, cRows);
  d = keep.length;
  if (d > 10) warnings.push(`the densities have ${d} dimensions: a Gaussian KDE is a weak estimator beyond about 10, so this attack's AUC is a lower bound of what a better density model (the paper's BNAF) shows`);
  const pG = gaussianKde(synK, ctx.synthetic.n, d);
  const pR = gaussianKde(refK, pop.n, d);
  const score = (x: Float64Array, m: number) => {
    const g = pG.logDensity(x, m);
    const r = pR.logDensity(x, m);
    return Array.from(g, (v, i) => v - r[i]!);
  };
  return [
    {
      kind: 'scores',
      variant: 'kde',
      members: { scores: score(memK, mRows.length), rows: mRows },
      control: { scores: score(ctlK, cRows.length), rows: cRows },
      details: { estimator: 'gaussian_kde (Scott)', dimensions: d, synthetic: ctx.synthetic.n, reference: pop.n, bandwidthSynthetic: pG.factor, bandwidthReference: pR.factor, features: dims.length },
      warnings,
    },
  ];
}

export const domias: SyntheticAttack<Options> = {
  meta: {
    id: 'domias',
    title: 'The synthetic data does not over-represent the people trained on (DOMIAS)',
    failureTitle: 'The synthetic data over-represents the people it was trained on (DOMIAS)',
    description:
      'Membership inference on the released data itself: where the synthetic data is denser than the population around a real record, the generator has over-fitted to it. Telling training records from control records this way means anyone holding the synthetic data and population data can tell who was in the training data.',
    family: 'membership',
    target: 'tabular',
    needsPopulation: true,
    reference: 'van Breugel et al., "Membership Inference Attacks against Synthetic Data through Overfitting Detection", AISTATS 2023, §3 (Eq. 2)',
  },
  options,
  run,
};
