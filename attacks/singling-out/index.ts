/**
 * Singling out (Giomi et al., PoPETs 2023 §4.1; Anonymeter's `SinglingOutEvaluator`): predicates
 * that isolate exactly one synthetic record are tried on the generator's training records; a
 * predicate that isolates exactly one of them singles that person out. The same predicates on
 * control records measure what the synthetic data teaches about the population in general.
 */
import { z } from 'zod';
import { seededRng } from '../../src/metrics/bootstrap.ts';
import { residualRisk, successRate } from '../../src/metrics/risk.ts';
import { distinctRows, takeRows, type EncodedTable } from '../../src/data/table.ts';
import { attackSeed, randInt, sampleIndices, type RiskObservation, type SyntheticAttack, type SyntheticContext } from '../synthetic-types.ts';

const options = z.strictObject({
  nAttacks: z.int().min(1).max(100000).default(500),
  nCols: z.int().min(1).max(64).default(3),
  /** Tries at most maxAttempts random rows per multivariate query wanted (the polars version's cap; the pandas one may loop forever). */
  maxAttemptsPerQuery: z.int().min(1).max(10000).default(100),
  modes: z.array(z.enum(['univariate', 'multivariate'])).min(1).default(['univariate', 'multivariate']),
});
type Options = z.infer<typeof options>;

type Op = '==' | '!=' | '<=' | '>=' | '<' | '>' | 'isna' | 'notna';
export interface Predicate {
  col: number;
  op: Op;
  value: number;
}

function holds(p: Predicate, x: number): boolean {
  switch (p.op) {
    case 'isna':
      return x !== x;
    case 'notna':
      return x === x;
    case '==':
      return x === p.value;
    case '!=':
      return x !== p.value; // NaN != v is true in pandas too
    case '<=':
      return x <= p.value;
    case '>=':
      return x >= p.value;
    case '<':
      return x < p.value;
    case '>':
      return x > p.value;
  }
}

/** Rows matching every predicate: returns the count, stopping at 2, and the one row when it is 1. */
export function matchOne(t: EncodedTable, query: readonly Predicate[]): { count: number; row: number } {
  let count = 0;
  let row = -1;
  for (let i = 0; i < t.n && count < 2; i++) {
    let ok = true;
    for (const p of query) {
      if (!holds(p, t.data[i * t.d + p.col]!)) {
        ok = false;
        break;
      }
    }
    if (ok) (count++, (row = i));
  }
  return { count, row: count === 1 ? row : -1 };
}

const keyOf = (q: readonly Predicate[]) => q.map((p) => `${p.col}${p.op}${p.value}`).sort().join('&');

function column(t: EncodedTable, c: number): Float64Array {
  const v = new Float64Array(t.n);
  for (let i = 0; i < t.n; i++) v[i] = t.data[i * t.d + c]!;
  return v;
}

/** Anonymeter's univariate queries: isna for a lone NaN; min and max of numeric columns; values seen once. */
export function univariateQueries(syn: EncodedTable, numeric: number): Predicate[][] {
  const out: Predicate[][] = [];
  for (let c = 0; c < syn.d; c++) {
    const v = column(syn, c);
    let nan = 0;
    let lo = Infinity;
    let hi = -Infinity;
    const counts = new Map<number, number>();
    for (const x of v) {
      if (x !== x) nan++;
      else {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
        counts.set(x, (counts.get(x) ?? 0) + 1);
      }
    }
    if (nan === 1) out.push([{ col: c, op: 'isna', value: NaN }]);
    if (c < numeric && Number.isFinite(lo)) out.push([{ col: c, op: '<=', value: lo }], [{ col: c, op: '>=', value: hi }]);
    for (const [x, k] of counts) if (k === 1) out.push([{ col: c, op: '==', value: x }]);
  }
  return out;
}

function median(v: Float64Array): number {
  const s = Array.from(v).filter((x) => x === x).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function uniqueQueries(candidates: Iterable<Predicate[]>, syn: EncodedTable, want: number): Predicate[][] {
  const seen = new Set<string>();
  const out: Predicate[][] = [];
  for (const q of candidates) {
    if (out.length >= want) break;
    const key = keyOf(q);
    if (seen.has(key)) continue;
    seen.add(key);
    if (matchOne(syn, q).count === 1) out.push(q);
  }
  return out;
}

function run(ctx: SyntheticContext, o: Options): RiskObservation[] {
  const { numeric } = ctx.encoding;
  // Anonymeter de-duplicates the three tables first.
  const syn = takeRows(ctx.synthetic, distinctRows(ctx.synthetic));
  const oriRows = distinctRows(ctx.members);
  const ctlRows = distinctRows(ctx.control);
  const rng = seededRng(attackSeed(ctx.seed, 'singling-out'));
  // Singling out gets easier as a table gets smaller: members and control are compared at the same
  // size (the larger one subsampled, seeded) instead of Anonymeter's fitted rescaling of the control count.
  const size = Math.min(oriRows.length, ctlRows.length);
  const oriIdx = oriRows.length > size ? sampleIndices(oriRows.length, size, rng).map((i) => oriRows[i]!).sort((a, b) => a - b) : oriRows;
  const ctlIdx = ctlRows.length > size ? sampleIndices(ctlRows.length, size, rng).map((i) => ctlRows[i]!).sort((a, b) => a - b) : ctlRows;
  const ori = takeRows(ctx.members, oriIdx);
  const ctl = takeRows(ctx.control, ctlIdx);
  const medians = Array.from({ length: syn.d }, (_, c) => (c < numeric ? median(column(syn, c)) : NaN));
  const out: RiskObservation[] = [];
  for (const mode of o.modes) {
    const warnings: string[] = [];
    let queries: Predicate[][];
    if (mode === 'univariate') {
      const all = univariateQueries(syn, numeric);
      // shuffle (seeded), then keep the first nAttacks that single out a synthetic row
      const order = sampleIndices(all.length, all.length, rng);
      queries = uniqueQueries(order.map((i) => all[i]!), syn, o.nAttacks);
    } else {
      const nCols = Math.min(o.nCols, syn.d);
      if (nCols < o.nCols) warnings.push(`only ${syn.d} columns: multivariate predicates use ${nCols}`);
      const maxAttempts = o.nAttacks * o.maxAttemptsPerQuery;
      const candidates = function* (): Generator<Predicate[]> {
        for (let a = 0; a < maxAttempts; a++) {
          const r = randInt(0, syn.n - 1, rng);
          const cols = sampleIndices(syn.d, nCols, rng);
          yield cols.map((c): Predicate => {
            const x = syn.data[r * syn.d + c]!;
            if (x !== x) return { col: c, op: 'isna', value: NaN };
            if (c < numeric) return { col: c, op: x > medians[c]! ? '>=' : '<=', value: x };
            return { col: c, op: '==', value: x };
          });
        }
      };
      queries = uniqueQueries(candidates(), syn, o.nAttacks);
    }
    if (queries.length < o.nAttacks)
      warnings.push(`only ${queries.length} of ${o.nAttacks} ${mode} predicates single out a synthetic record; success is counted over ${o.nAttacks}, as Anonymeter does, which underestimates the risk`);
    const memberHits: number[] = [];
    let kAttack = 0;
    let kControl = 0;
    for (const q of queries) {
      const m = matchOne(ori, q);
      if (m.count === 1) (kAttack++, memberHits.push(oriIdx[m.row]!));
      if (matchOne(ctl, q).count === 1) kControl++;
    }
    // Baseline: random predicates over random columns, values drawn from each column's synthetic values.
    let kBase = 0;
    const nCols = Math.min(o.nCols, syn.d);
    for (let a = 0; a < o.nAttacks; a++) {
      const cols = sampleIndices(syn.d, mode === 'univariate' ? 1 : nCols, rng);
      const q = cols.map((c): Predicate => {
        const x = syn.data[randInt(0, syn.n - 1, rng) * syn.d + c]!;
        if (x !== x) return { col: c, op: randInt(0, 1, rng) ? 'isna' : 'notna', value: NaN };
        const ops: Op[] = c < numeric ? ['==', '!=', '>', '<', '>=', '<='] : ['==', '!='];
        return { col: c, op: ops[randInt(0, ops.length - 1, rng)]!, value: x };
      });
      if (matchOne(ori, q).count === 1) kBase++;
    }
    const attack = successRate(kAttack, o.nAttacks);
    const control = successRate(kControl, o.nAttacks);
    const baseline = successRate(kBase, o.nAttacks);
    if (baseline.rate >= attack.rate) warnings.push('the random baseline does as well as the attack: the analysis results cannot be trusted (Anonymeter\'s warning)');
    const residual = residualRisk(attack, control) ?? null;
    if (!residual) warnings.push('every predicate singles out a control record: the residual risk is undefined');
    out.push({
      kind: 'risk',
      variant: mode,
      attacks: { requested: o.nAttacks, made: queries.length },
      attack,
      control,
      baseline,
      residual,
      memberHits: [...new Set(memberHits)].sort((a, b) => a - b),
      columns: ctx.encoding.columns.map((c) => c.name),
      scoredOn: { members: ori.n, control: ctl.n },
      warnings,
    });
  }
  return out;
}

export const singlingOut: SyntheticAttack<Options> = {
  meta: {
    id: 'singling-out',
    title: 'Synthetic records do not single out the people trained on',
    failureTitle: 'Synthetic records single out people the generator was trained on',
    description:
      'Predicates that isolate one synthetic record (a rare value, an extreme, a rare combination of three attributes) are tried on the generator\'s training records and on control records it never saw: isolating a training record more often than a control record means the synthetic data reproduces individuals, not only the population.',
    family: 'singling-out',
    target: 'tabular',
    reference: 'Giomi et al., "A Unified Framework for Quantifying Privacy Risk in Synthetic Data", PoPETs 2023 (2) §4.1; Cohen & Nissim, PNAS 2020',
  },
  options,
  run,
};
