/**
 * Synthetic-data attacks: Anonymeter's statistics against its golden values
 * (../shared/research/synthetic-data.md §1.2, computed from stats/confidence.py), the mixed-type
 * distance, the KDE against scipy.stats.gaussian_kde, and constructed cases with known answers: a
 * synthetic table that is an exact copy of the members (every risk ≈ 1) and one drawn independently
 * from the population (every risk ≈ 0, DOMIAS at chance), each within its interval.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getSyntheticAttack } from '../../attacks/index.ts';
import type { RiskObservation, ScoresObservation, SyntheticContext } from '../../attacks/synthetic-types.ts';
import { ngramLm, verbatimShare, words } from '../../attacks/text-overlap/index.ts';
import { kNearest } from '../../src/data/neighbors.ts';
import { encodeTables, tableSchema, type RawTable } from '../../src/data/table.ts';
import { makePeople, type Person } from '../../src/demo/synthetic-data.ts';
import { auc } from '../../src/metrics/roc.ts';
import { gaussianKde } from '../../src/metrics/kde.ts';
import { residualRisk, successRate } from '../../src/metrics/risk.ts';

const COLS = ['age', 'sex', 'zip3', 'education', 'income', 'diagnosis'] as const;
const raw = (role: string, rows: readonly Person[]): RawTable => ({
  role,
  file: `${role}.csv`,
  header: ['id', 'subject', ...COLS],
  cells: rows.map((p) => [p.id, p.subject, ...COLS.map((c) => p[c])]),
  lines: rows.map((_, i) => i + 2),
  csv: false,
});

function context(synthetic: readonly Person[], members: readonly Person[], control: readonly Person[], population: readonly Person[]): SyntheticContext {
  const raws = [raw('synthetic', synthetic), raw('members', members), raw('holdout', control), raw('population', population)];
  const schema = tableSchema(raws, {}, ['id', 'subject']);
  const { encoding, tables } = encodeTables(raws, schema, 'id', 'subject');
  return { synthetic: tables[0]!, members: tables[1]!, control: tables[2]!, population: tables[3]!, encoding, column: (n) => encoding.columns.findIndex((c) => c.name === n), seed: 3 };
}

const people = makePeople(1600, 21);
const members = people.slice(0, 400);
const control = people.slice(400, 800);
const population = people.slice(800, 1200);
const fresh = people.slice(1200, 1600);
const risk = (id: string, ctx: SyntheticContext, o: unknown) => getSyntheticAttack(id)!.run(ctx, getSyntheticAttack(id)!.options.parse(o)) as RiskObservation[];

describe("Anonymeter's statistics", () => {
  // [n, k_attack, k_control, attack rate, attack error, control rate, control error, R, dR]
  const golden = [
    [500, 50, 20, 0.10305, 0.026372, 0.043507, 0.017466, 0.062251, 0.032457],
    [500, 250, 240, 0.5, 0.043659, 0.480152, 0.043624, 0.038179, 0.116481],
    [500, 5, 0, 0.013736, 0.009457, 0.003812, 0.003812, 0.009962, 0.010221],
    [500, 0, 0, 0.003812, 0.003812, 0.003812, 0.003812, 0, 0.005412],
    [1000, 300, 100, 0.300765, 0.028359, 0.101531, 0.018621, 0.221749, 0.035446],
  ] as const;
  it.each(golden)('n %i, k %i vs %i', (n, ka, kc, ra, ea, rc, ec, r, dr) => {
    const a = successRate(ka, n);
    const c = successRate(kc, n);
    expect(a.rate).toBeCloseTo(ra, 6);
    expect(a.error).toBeCloseTo(ea, 6);
    expect(c.rate).toBeCloseTo(rc, 6);
    expect(c.error).toBeCloseTo(ec, 6);
    const res = residualRisk(a, c)!;
    expect(res.raw).toBeCloseTo(r, 6);
    expect(res.error).toBeCloseTo(dr, 6);
    expect(res.lo).toBeCloseTo(Math.max(0, r - dr), 6);
  });
  it('has no residual when control succeeds every time', () => {
    expect(residualRisk(successRate(5, 5, 0.95), { k: 5, n: 5, rate: 1, error: 0 })).toBeUndefined();
  });
});

describe('mixed-type distance (Anonymeter gower_distance)', () => {
  it('scales numeric columns by their joint range, counts categorical mismatches, missing/missing numeric as 1', () => {
    const mk = (role: string, cells: (number | string | null)[][]): RawTable => ({ role, file: role, header: ['x', 'c'], cells, lines: cells.map((_, i) => i + 1), csv: false });
    const raws = [mk('q', [[0, 'a'], [null, 'b']]), mk('c', [[10, 'a'], [5, 'b'], [null, 'a']])];
    const { encoding, tables } = encodeTables(raws, tableSchema(raws, {}, []), 'id', undefined);
    const nn = kNearest(tables[0]!, tables[1]!, [0, 1], encoding.numeric, 3);
    // query 0 (0, a): range 10 → distances 1 + 0, 0.5 + 1, 1 (missing) + 0
    expect(Array.from(nn.idx.subarray(0, 3))).toEqual([0, 2, 1]);
    expect(Array.from(nn.dist.subarray(0, 3))).toEqual([1, 1, 1.5]);
    // query 1 (missing, b): every numeric difference is 1; the categorical decides
    expect(Array.from(nn.dist.subarray(3, 6))).toEqual([1, 2, 2]);
  });
});

describe('Gaussian KDE', () => {
  it('matches scipy.stats.gaussian_kde (Scott) log-densities', () => {
    const o = JSON.parse(readFileSync(new URL('../../fixtures/synthetic/kde-oracle.json', import.meta.url), 'utf8')) as { data: number[][]; points: number[][]; factor: number; logpdf: number[] };
    const kde = gaussianKde(Float64Array.from(o.data.flat()), o.data.length, 3);
    expect(kde.factor).toBeCloseTo(o.factor, 12);
    const got = kde.logDensity(Float64Array.from(o.points.flat()), o.points.length);
    o.logpdf.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 9));
  });
});

describe('constructed cases', () => {
  const copy = members.map((p, i) => ({ ...p, id: `syn${i}` }));
  const copyCtx = context(copy, members, control, population);
  const freshCtx = context(fresh, members, control, population);

  it('an exact copy of the members: singling out, linkability and inference risks ≈ 1', () => {
    for (const r of [
      ...risk('singling-out', copyCtx, { nAttacks: 200, modes: ['multivariate'] }),
      // each half must identify a row (a categorical-only half ties, and the lower index wins, as in Anonymeter)
      ...risk('linkability', copyCtx, { columns: [['income', 'sex'], ['income', 'zip3']], nAttacks: 200 }),
      ...risk('attribute-inference', copyCtx, { secrets: ['diagnosis'], nAttacks: 200 }),
    ]) {
      expect(r.residual!.value, r.variant).toBeGreaterThan(0.9);
      expect(r.residual!.hi, r.variant).toBeGreaterThan(0.99); // 1 lies within the interval, up to Wilson's pull toward ½
    }
  });

  it('independent draws from the population: every residual risk ≈ 0 within its interval', () => {
    for (const r of [
      ...risk('singling-out', freshCtx, { nAttacks: 200 }),
      ...risk('linkability', freshCtx, { columns: [['age', 'income'], ['zip3', 'education', 'sex']], nAttacks: 200 }),
      ...risk('attribute-inference', freshCtx, { secrets: ['diagnosis'], nAttacks: 200 }),
    ]) {
      expect(r.residual!.lo, r.variant).toBe(0);
      expect(r.residual!.hi, r.variant).toBeLessThan(0.25);
    }
  });

  it('DOMIAS: a copy separates members from control; independent draws do not', () => {
    const score = (ctx: SyntheticContext) => {
      const o = getSyntheticAttack('domias')!.run(ctx, { maxTargets: 1000 })[0] as ScoresObservation;
      return auc(o.members.scores, o.control.scores);
    };
    expect(score(copyCtx)).toBeGreaterThan(0.7);
    expect(Math.abs(score(freshCtx) - 0.5)).toBeLessThan(0.08);
  });

  it('dcr: a copy is a red flag; independent draws copy nobody', () => {
    const copyDcr = getSyntheticAttack('dcr')!.run(copyCtx, { copyTolerance: 0 })[0]!;
    expect(copyDcr.kind === 'diagnostic' && copyDcr.redFlag!.p).toBeLessThan(1e-6);
    const freshDcr = getSyntheticAttack('dcr')!.run(freshCtx, { copyTolerance: 0 })[0]!;
    expect(freshDcr.kind === 'diagnostic' && freshDcr.values.memberCopies).toBe(0);
  });

  it('same seed, same observations', () => {
    expect(risk('singling-out', copyCtx, { nAttacks: 50 })).toEqual(risk('singling-out', copyCtx, { nAttacks: 50 }));
  });
});

describe('text-overlap', () => {
  it('counts verbatim n-grams and scores with a Laplace-smoothed n-gram model', () => {
    const grams = new Set(['a\u0001b\u0001c']);
    expect(verbatimShare(words('A b c d'), 3, grams)).toBe(0.5);
    const lm = ngramLm([words('the cat sat')], 2);
    // P(the|<s>) = (1+1)/(1+4), P(cat|the) = 2/5, P(sat|cat) = 2/5 with V = 3 words + unknown
    expect(lm.score(words('the cat sat'))).toBeCloseTo(Math.log(2 / 5), 12);
    const members = ['the quick brown fox jumps over the lazy dog again', 'my account number is 12345 and my name is ann'];
    const ctx = { text: { synthetic: [members[0]!, 'nothing to see'], members, control: ['a completely different sentence about weather today', 'another unrelated line of words'] } } as unknown as SyntheticContext;
    const obs = getSyntheticAttack('text-overlap')!.run(ctx, { n: 4, lmOrder: 3 }) as ScoresObservation[];
    expect(obs[0]!.members.scores[0]).toBe(1);
    expect(obs[0]!.control.scores).toEqual([0, 0]);
  });
});
