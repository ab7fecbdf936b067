/**
 * Attribute inference (Giomi et al., PoPETs 2023 §4.3; Anonymeter's `InferenceEvaluator`): the
 * attacker knows some attributes of a person (the auxiliary columns) and guesses a secret one from
 * the nearest synthetic record (mixed-type distance). Guessing right more often for training
 * records than for control records is inference the generator enables about the people it saw,
 * beyond what population statistics teach.
 */
import { z } from 'zod';
import { seededRng } from '../../src/metrics/bootstrap.ts';
import { successRate } from '../../src/metrics/risk.ts';
import { kNearest } from '../../src/data/neighbors.ts';
import { takeRows, type EncodedTable } from '../../src/data/table.ts';
import { attackSeed, peopleCount, randInt, targetRows, type RiskObservation, type SyntheticAttack, type SyntheticContext, targetedRisk } from '../synthetic-types.ts';

const options = z.strictObject({
  /** The secret columns (one inference attack each). */
  secrets: z.array(z.string().min(1)).min(1),
  /** Auxiliary columns the attacker knows (default: every column but the secret). */
  aux: z.array(z.string().min(1)).min(1).optional(),
  nAttacks: z.int().min(1).max(100000).default(500),
});
type Options = z.infer<typeof options>;

/**
 * Anonymeter's rule: categorical guesses must be equal; numeric ones within 5% of the guess
 * (|g − s| ≤ 0.05·|g|; Anonymeter divides by the signed guess + 1e-12, which accepts every wrong
 * negative guess — we take the absolute value). Missing/missing counts as correct.
 */
export function correct(guess: number, secret: number, numeric: boolean): boolean {
  if (guess !== guess || secret !== secret) return guess !== guess && secret !== secret;
  if (!numeric) return guess === secret;
  return Math.abs(guess - secret) <= 0.05 * Math.abs(guess + 1e-12);
}

function guesses(targets: EncodedTable, syn: EncodedTable, aux: number[], secret: number, numeric: number): boolean[] {
  const nn = kNearest(targets, syn, aux, numeric, 1);
  return Array.from({ length: targets.n }, (_, i) => correct(syn.data[nn.idx[i]! * syn.d + secret]!, targets.data[i * targets.d + secret]!, secret < numeric));
}

function run(ctx: SyntheticContext, o: Options): RiskObservation[] {
  const rng = seededRng(attackSeed(ctx.seed, 'attribute-inference'));
  const out: RiskObservation[] = [];
  const { numeric } = ctx.encoding;
  for (const name of o.secrets) {
    const secret = ctx.column(name);
    const aux = (o.aux ?? ctx.encoding.columns.map((c) => c.name).filter((c) => c !== name)).filter((c) => c !== name).map(ctx.column);
    const warnings: string[] = [];
    const n = Math.min(o.nAttacks, peopleCount(ctx.members), peopleCount(ctx.control));
    if (n < o.nAttacks) warnings.push(`${n} targets instead of ${o.nAttacks}: members has ${peopleCount(ctx.members)} people, control ${peopleCount(ctx.control)} (one record per person)`);
    const oriIdx = targetRows(ctx.members, n, rng);
    const ctlIdx = targetRows(ctx.control, n, rng);
    const ori = takeRows(ctx.members, oriIdx);
    const hits = guesses(ori, ctx.synthetic, aux, secret, numeric);
    const ctlHits = guesses(takeRows(ctx.control, ctlIdx), ctx.synthetic, aux, secret, numeric);
    // Baseline: the secret of a random synthetic record.
    let kBase = 0;
    const nBase = Math.min(ctx.synthetic.n, n);
    for (let i = 0; i < nBase; i++) {
      const g = ctx.synthetic.data[randInt(0, ctx.synthetic.n - 1, rng) * ctx.synthetic.d + secret]!;
      if (correct(g, ori.data[i * ori.d + secret]!, secret < numeric)) kBase++;
    }
    out.push(
      targetedRisk({
        variant: `secret:${name}`,
        requested: o.nAttacks,
        hits,
        controlHits: ctlHits,
        baseline: successRate(kBase, nBase),
        targets: oriIdx,
        columns: [...aux.map((c) => ctx.encoding.columns[c]!.name), name],
        allControlsSucceeded: `every control target's ${name} was guessed: the residual risk is undefined`,
        warnings,
      }),
    );
  }
  return out;
}

export const attributeInference: SyntheticAttack<Options> = {
  meta: {
    id: 'attribute-inference',
    title: 'Synthetic records do not reveal secret attributes of the people trained on',
    failureTitle: 'Synthetic records reveal secret attributes of people the generator was trained on',
    description:
      'An attacker who knows a few attributes of a person (age, postcode, sex) reads a sensitive one (a diagnosis, an income) off the nearest synthetic record. What counts is how much better this works for people in the training data than for people outside it: the rest is what the population reveals about everyone.',
    family: 'inference',
    target: 'tabular',
    reference: 'Giomi et al., "A Unified Framework for Quantifying Privacy Risk in Synthetic Data", PoPETs 2023 (2) §4.3',
  },
  options,
  run,
};
