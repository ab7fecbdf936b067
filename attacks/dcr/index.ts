/**
 * Distance to closest record (DCR) and nearest-neighbour distance ratio (NNDR): diagnostics only.
 * For each synthetic record, the mixed-type distance to its nearest training record and to its
 * nearest control record (the two sets compared at the same size), the share of synthetic records
 * closer to training than to control (≈ 0.5 when the generator did not copy), and exact copies.
 *
 * Why a diagnostic and never a pass: Yao, Krčo, Ganev, de Montjoye, "The DCR Delusion" (ESORICS
 * 2025, arXiv 2505.01524) show synthetic data that passes DCR tests highly vulnerable to membership
 * inference; Ganev & De Cristofaro (arXiv 2312.05114) reconstruct training outliers from generators
 * that pass them. Synthetic records closer to training than to control records beyond the ½ expected
 * without copying (a one-sided binomial test; exact copies are the extreme case) are a red flag that
 * can fail a release; no DCR value can pass one.
 */
import { z } from 'zod';
import betaCdf from '@stdlib/stats-base-dists-beta-cdf';
import { seededRng } from '../../src/metrics/bootstrap.ts';
import { kNearest } from '../../src/data/neighbors.ts';
import { takeRows } from '../../src/data/table.ts';
import { attackSeed, sampleIndices, type DiagnosticObservation, type SyntheticAttack, type SyntheticContext } from '../synthetic-types.ts';

const options = z.strictObject({
  /** Distances at or below this count as exact copies (0: identical on every column). */
  copyTolerance: z.number().min(0).default(0),
});
type Options = z.infer<typeof options>;

const median = (a: ArrayLike<number>) => {
  const s = Array.from(a).sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** P(X ≥ k), X ~ Binomial(n, ½). */
const upperTail = (k: number, n: number) => (k <= 0 ? 1 : betaCdf(0.5, k, n - k + 1));

function run(ctx: SyntheticContext, o: Options): DiagnosticObservation[] {
  const rng = seededRng(attackSeed(ctx.seed, 'dcr'));
  const size = Math.min(ctx.members.n, ctx.control.n);
  const mIdx = ctx.members.n > size ? sampleIndices(ctx.members.n, size, rng).sort((a, b) => a - b) : Array.from({ length: size }, (_, i) => i);
  const cIdx = ctx.control.n > size ? sampleIndices(ctx.control.n, size, rng).sort((a, b) => a - b) : Array.from({ length: size }, (_, i) => i);
  const mem = takeRows(ctx.members, mIdx);
  const ctl = takeRows(ctx.control, cIdx);
  const cols = ctx.encoding.columns.map((_, k) => k);
  const syn = ctx.synthetic;
  const toM = kNearest(syn, mem, cols, ctx.encoding.numeric, 2);
  const toC = kNearest(syn, ctl, cols, ctx.encoding.numeric, 1);
  const dM = new Float64Array(syn.n);
  const dC = new Float64Array(syn.n);
  const nndr = new Float64Array(syn.n);
  let closer = 0;
  let strictly = 0;
  let untied = 0;
  let copiesM = 0;
  let copiesC = 0;
  let onlyM = 0;
  let only = 0;
  const copied = new Set<number>();
  for (let i = 0; i < syn.n; i++) {
    dM[i] = toM.dist[i * toM.k]!;
    dC[i] = toC.dist[i]!;
    const d2 = toM.k > 1 ? toM.dist[i * toM.k + 1]! : NaN;
    nndr[i] = d2 > 0 ? dM[i]! / d2 : dM[i] === 0 ? 0 : 1;
    closer += dM[i]! < dC[i]! ? 1 : dM[i] === dC[i] ? 0.5 : 0;
    if (dM[i] !== dC[i]) (untied++, dM[i]! < dC[i]! && strictly++);
    const cm = dM[i]! <= o.copyTolerance;
    const cc = dC[i]! <= o.copyTolerance;
    if (cm) (copiesM++, copied.add(mIdx[toM.idx[i * toM.k]!]!));
    if (cc) copiesC++;
    if (cm !== cc) (only++, cm && onlyM++);
  }
  // The red flag: synthetic records closer to a training record than to any control record, beyond
  // the ½ expected when the generator did not copy (the "holdout test"; ties left out). Exact copies
  // are its extreme case and are counted separately.
  const p = upperTail(strictly, untied);
  return [
    {
      kind: 'diagnostic',
      variant: 'dcr',
      values: {
        syntheticRecords: syn.n,
        comparedRecords: size,
        memberCopies: copiesM,
        controlCopies: copiesC,
        copiesOfOneSetOnly: only,
        copiesOfMembersOnly: onlyM,
        shareCloserToMembers: closer / syn.n,
        medianDcrMembers: median(dM),
        medianDcrControl: median(dC),
        p05DcrMembers: Array.from(dM).sort((a, b) => a - b)[Math.floor(0.05 * (syn.n - 1))]!,
        medianNndr: median(nndr),
      },
      redFlag: { k: strictly, n: untied, p, what: 'synthetic records closer to a training record than to any control record (ties left out)' },
      memberHits: [...copied].sort((a, b) => a - b),
      warnings: [],
    },
  ];
}

export const dcr: SyntheticAttack<Options> = {
  meta: {
    id: 'dcr',
    title: 'No excess of exact copies of training records (DCR, a diagnostic)',
    failureTitle: 'The synthetic data copies training records (more exact copies of training records than of control records)',
    description:
      'The distance from each synthetic record to its closest training record, against the same for control records. Copies of training records beyond chance are a red flag; but a "good" DCR does not mean private: synthetic data that passes DCR tests has been shown to be highly vulnerable to membership inference, so this diagnostic can fail a release and never pass one.',
    family: 'diagnostic',
    target: 'tabular',
    reference: 'Yao et al., "The DCR Delusion", ESORICS 2025 (arXiv 2505.01524); Ganev & De Cristofaro, arXiv 2312.05114',
  },
  options,
  run,
};
