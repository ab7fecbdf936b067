/**
 * Linkability (Giomi et al., PoPETs 2023 §4.2; Anonymeter's `LinkabilityEvaluator`): the attacker
 * holds two halves of a person's record (columns A and B, e.g. two datasets released separately) and
 * links them through the synthetic data: the nearest synthetic records to the A half and to the B
 * half (mixed-type distance) share a record. Success on training records beyond control records is
 * what the generator leaks about the people it saw.
 */
import { z } from 'zod';
import { seededRng } from '../../src/metrics/bootstrap.ts';
import { successRate } from '../../src/metrics/risk.ts';
import { kNearest } from '../../src/data/neighbors.ts';
import { takeRows, type EncodedTable } from '../../src/data/table.ts';
import { attackSeed, peopleCount, randInt, targetRows, type RiskObservation, type SyntheticAttack, type SyntheticContext, targetedRisk } from '../synthetic-types.ts';

const options = z.strictObject({
  /** The two column sets the attacker holds separately (names). */
  columns: z.tuple([z.array(z.string().min(1)).min(1), z.array(z.string().min(1)).min(1)]),
  nAttacks: z.int().min(1).max(100000).default(500),
  nNeighbors: z.int().min(1).max(100).default(1),
});
type Options = z.infer<typeof options>;

/** For each target, whether its n nearest synthetic records over A and over B intersect. */
export function linked(targets: EncodedTable, syn: EncodedTable, a: number[], b: number[], numeric: number, k: number): boolean[] {
  const na = kNearest(targets, syn, a, numeric, k);
  const nb = kNearest(targets, syn, b, numeric, k);
  return Array.from({ length: targets.n }, (_, i) => {
    const setA = new Set(na.idx.subarray(i * na.k, (i + 1) * na.k));
    for (const j of nb.idx.subarray(i * nb.k, (i + 1) * nb.k)) if (setA.has(j)) return true;
    return false;
  });
}

function run(ctx: SyntheticContext, o: Options): RiskObservation[] {
  const rng = seededRng(attackSeed(ctx.seed, 'linkability'));
  const [a, b] = o.columns.map((names) => names.map(ctx.column));
  const warnings: string[] = [];
  const n = Math.min(o.nAttacks, peopleCount(ctx.members), peopleCount(ctx.control));
  if (n < o.nAttacks) warnings.push(`${n} targets instead of ${o.nAttacks}: members has ${peopleCount(ctx.members)} people, control ${peopleCount(ctx.control)} (one record per person)`);
  const oriIdx = targetRows(ctx.members, n, rng);
  const ctlIdx = targetRows(ctx.control, n, rng);
  const k = Math.min(o.nNeighbors, ctx.synthetic.n);
  const hits = linked(takeRows(ctx.members, oriIdx), ctx.synthetic, a!, b!, ctx.encoding.numeric, k);
  const ctlHits = linked(takeRows(ctx.control, ctlIdx), ctx.synthetic, a!, b!, ctx.encoding.numeric, k);
  // Baseline: random index sets of the same size.
  let kBase = 0;
  for (let t = 0; t < n; t++) {
    const setA = new Set(Array.from({ length: k }, () => randInt(0, ctx.synthetic.n - 1, rng)));
    if (Array.from({ length: k }, () => randInt(0, ctx.synthetic.n - 1, rng)).some((j) => setA.has(j))) kBase++;
  }
  return [
    targetedRisk({
      variant: `${o.columns[0].join('+')} | ${o.columns[1].join('+')}`,
      requested: o.nAttacks,
      hits,
      controlHits: ctlHits,
      baseline: successRate(kBase, n),
      targets: oriIdx,
      columns: [...o.columns[0], ...o.columns[1]],
      allControlsSucceeded: 'every control target was linked: the residual risk is undefined',
      warnings,
    }),
  ];
}

export const linkability: SyntheticAttack<Options> = {
  meta: {
    id: 'linkability',
    title: 'Synthetic records do not link the halves of a person\'s record',
    failureTitle: 'Synthetic records link information about people the generator was trained on',
    description:
      'An attacker who knows some attributes of a person from one source and others from a second source looks for the synthetic record nearest to each; when both point at the same synthetic record more often for people in the training data than for people outside it, the synthetic data links records of real people.',
    family: 'linkability',
    target: 'tabular',
    reference: 'Giomi et al., "A Unified Framework for Quantifying Privacy Risk in Synthetic Data", PoPETs 2023 (2) §4.2',
  },
  options,
  run,
};
