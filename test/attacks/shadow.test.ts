/**
 * `shadow` (Shokri et al. 2017) on hand-made inputs: what collect sends to `fit` (one attack model
 * per class from the shadows' IN/OUT outputs, a global model for the classes too small or with one
 * label), and how the attack models' answers come back as per-record scores. `fit` is a fake: it
 * recognises which attack model a request is by its training rows (so wrong rows fail the test) and
 * answers P(member) as a fixed logistic function of each (standardised) query row — the log p_y column
 * for a per-class model, the largest log-probability for the global one. Expected rows are built here
 * from the formula ([log p_y, sorted log-probabilities], clipped at 1e-7, z-scored with the training
 * rows' population stats) and compared within 1e-6.
 *
 * Also `loss` on a classifier (score = log p_y), the other attack that reads `probabilities`.
 */
import { describe, expect, it } from 'vitest';
import { loss } from '../../attacks/loss/index.ts';
import type { ClassifierLossEvidence } from '../../attacks/loss/tasks.ts';
import { shadow, shadowOptions, type ShadowOptions } from '../../attacks/shadow/index.ts';
import type { ShokriEvidence } from '../../attacks/shadow/tasks.ts';
import type { AuditSplits, FitRequest, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { shadowMembership } from '../../src/shadow/bank.ts';
import type { DataRecord, ModelRole } from '../../src/types.ts';
import { classifier, classifierSignals, crec, makeBank, probsWith, splits } from './helpers.ts';

const C = 5;
// Class 0: 5 records (20 shadow rows with 4 shadows); class 1: 4 (16); class 2: 1 (4 rows: too few
// for minPerClass 8); class 3: 2 (8 rows, but every shadow trained on both: one label only);
// class 4: 2 (8 rows, usable) but no audited record, so no attack model of its own is needed.
const POPULATION = [crec('z0a', 0), crec('z0b', 0), crec('z1a', 1), crec('z1b', 1), crec('z3a', 3), crec('z4a', 4), crec('z4b', 4)];
const F1 = crec('f1', 0, 's1');
const F2 = crec('f2', 2, 's2');
const R1 = crec('r1', 0, 's3');
const R2 = crec('r2', 1, 's4');
const H1 = crec('h1', 0);
const H2 = crec('h2', 3, 's6');
const H3 = crec('h3', 1, 's7');
const POOL = [...POPULATION, F1, F2, R1, R2, H1, H2, H3];
const AUDITED = { forget: [F2, F1], retain: [R1, R2], holdout: [H1, H2, H3] };
const SPLITS: AuditSplits = splits({ ...AUDITED, population: POPULATION });
const SPLIT_NAMES = ['forget', 'retain', 'holdout'] as const;

const paired = (s: number, i: number) => shadowMembership(POOL.map((r) => r.id), s, 1)[i] === 1;
/** Class 3's records are IN for every shadow (not the paired protocol: a hand-made degenerate bank). */
const oneLabel = (s: number, i: number) => (POOL[i]!.label === 3 ? true : paired(s, i));
type Shadow = (s: number, i: number) => number[];
const shadowProbs = (inside: (s: number, i: number) => boolean): Shadow => (s, i) =>
  probsWith(C, POOL[i]!.label!, inside(s, i) ? 0.8 + 0.02 * ((i + s) % 5) : 0.3 + 0.03 * ((i + 2 * s) % 5));
/**
 * Shadow outputs with an exact 0 on class y+1 where `zero(s, i)` (elsewhere as `shadowProbs`): the smallest
 * log-probability of those rows is the clip, log 1e-7.
 */
const zeroProbs =
  (inside: (s: number, i: number) => boolean, zero: (s: number, i: number) => boolean): Shadow =>
  (s, i) => {
    if (!zero(s, i)) return shadowProbs(inside)(s, i);
    const y = POOL[i]!.label!;
    const p = inside(s, i) ? 0.8 + 0.02 * ((i + s) % 5) : 0.3 + 0.03 * ((i + 2 * s) % 5);
    return Array.from({ length: C }, (_, c) => (c === y ? p : c === (y + 1) % C ? 0 : (1 - p) / (C - 2)));
  };
const bankWith = (inside: (s: number, i: number) => boolean, shadow: Shadow) => makeBank(POOL, C, 8, shadow, inside);

/** Target confidence in the true label: `before` trained on forget and retain, `after` forgot forget. */
const TARGET: Record<string, Record<string, number>> = {
  before: { f1: 0.94, f2: 0.9, r1: 0.92, r2: 0.88, h1: 0.31, h2: 0.36, h3: 0.28 },
  after: { f1: 0.33, f2: 0.29, r1: 0.92, r2: 0.88, h1: 0.31, h2: 0.36, h3: 0.28 },
};
const targetProbs = (role: ModelRole) => (r: DataRecord) => probsWith(C, r.label!, TARGET[role]![r.id] ?? 0.3);

const f32 = Math.fround;
const W = C + 1; // attack-model input width
/**
 * The attack model's raw input for the (float32) probabilities p and true label y: log p_y, then all C
 * log-probabilities in decreasing order, each clipped at 1e-7 (float64 logs, stored as float32).
 */
function rawRow(p: number[], y: number): number[] {
  const logs = p.map((v) => Math.log(Math.max(f32(v), 1e-7)));
  return [logs[y]!, ...[...logs].sort((a, b) => b - a)].map(f32);
}
interface Stats {
  mean: number[];
  sd: number[];
}
/** Per-column mean and population standard deviation (float64); exactly 0 for a column whose values are all equal. */
function columnStats(rows: number[][]): Stats {
  const cols = Array.from({ length: rows[0]!.length }, (_, c) => rows.map((r) => r[c]!));
  const mean = cols.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  const sd = cols.map((v, c) => (v.every((x) => x === v[0]) ? 0 : Math.sqrt(v.reduce((a, x) => a + (x - mean[c]!) ** 2, 0) / v.length)));
  return { mean, sd };
}
/** z-scores of one row with the given stats (a column with sd 0 becomes 0), as float32. */
const zRow = (row: number[], { mean, sd }: Stats) => row.map((v, c) => (sd[c]! > 0 ? f32((v - mean[c]!) / sd[c]!) : 0));

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/**
 * The fake attack model: P(member) of one (standardised) query row for the attack model `key` (class, or
 * -1 = global): a logistic function of the log p_y column for a per-class model, of the top log-probability
 * column for the global one.
 */
const pMember = (key: number, row: ArrayLike<number>) => (key === -1 ? sigmoid(2 * row[1]! - 0.5) : sigmoid(3 * row[0]! + 0.2));

/** A flat row-major array as rows of `dim`. */
const rowsOf = (flat: ArrayLike<number>, dim: number) => Array.from({ length: flat.length / dim }, (_, j) => Array.from(flat).slice(j * dim, (j + 1) * dim));
/** A request's training rows, each prefixed with its IN/OUT label. */
const labelledRows = (req: FitRequest) => rowsOf(req.features, req.dim).map((row, j) => [req.labels[j]!, ...row]);

const TOL = 1e-6;
const close = (a: number, b: number) => Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b));
/** Multiset comparison of rows within TOL (row order free): the expected rows nothing matched, the rows that match none. */
function unmatched(got: number[][], want: number[][]): { missing: number[][]; extra: number[][] } {
  const left = [...want];
  const extra: number[][] = [];
  for (const g of got) {
    const k = left.findIndex((w) => w.length === g.length && w.every((v, c) => close(g[c]!, v)));
    if (k < 0) extra.push(g);
    else left.splice(k, 1);
  }
  return { missing: left, extra };
}
const NONE = { missing: [], extra: [] };

/**
 * What the attack model `key` must be trained on: every (pool record of the class, shadow) pair as
 * [IN = 1 / OUT = 0, standardised row], with the training rows' own column stats (which the queries must use too).
 */
function expectedModel(key: number, count: number, inside: (s: number, i: number) => boolean, shadow: Shadow) {
  const raw: { label: number; row: number[] }[] = [];
  POOL.forEach((r, i) => {
    if (key !== -1 && r.label !== key) return;
    for (let s = 0; s < count; s++) raw.push({ label: inside(s, i) ? 1 : 0, row: rawRow(shadow(s, i), r.label!) });
  });
  const stats = columnStats(raw.map((r) => r.row));
  return { stats, rows: raw.map(({ label, row }) => [label, ...zRow(row, stats)]) };
}
/** The standardised query row for record r's output under `role`, scored by a model with these stats. */
const queryRow = (role: ModelRole, r: DataRecord, stats: Stats) => zRow(rawRow(targetProbs(role)(r), r.label!), stats);

interface Scenario {
  options: Partial<ShadowOptions>;
  inside: (s: number, i: number) => boolean;
  /** The shadows' outputs (default: `shadowProbs(inside)`). */
  shadow?: Shadow;
  auditSplits?: AuditSplits;
  seed?: number;
}

async function run({ options, inside, shadow: outputs = shadowProbs(inside), auditSplits = SPLITS, seed = 11 }: Scenario) {
  const o = shadowOptions.parse(options);
  const keys = [-1, 0, 1, 2, 3, 4];
  const expected = new Map(keys.map((k) => [k, expectedModel(k, o.shadows, inside, outputs)]));
  const fitKeys: number[] = [];
  const fit = (req: FitRequest): Float32Array => {
    if (req.dim !== W) throw new Error(`fit got dim ${req.dim}, not ${W}`);
    const got = labelledRows(req);
    const matches = keys.filter((k) => {
      const u = unmatched(got, expected.get(k)!.rows);
      return u.missing.length === 0 && u.extra.length === 0;
    });
    if (matches.length !== 1) throw new Error(`fit got training rows that match ${matches.length} attack models, not one`);
    const key = matches[0]!;
    fitKeys.push(key);
    const n = req.query.length / req.dim;
    const out = new Float32Array(2 * n);
    for (let j = 0; j < n; j++) {
      const p = pMember(key, req.query.subarray(j * req.dim, (j + 1) * req.dim));
      out[2 * j] = 1 - p;
      out[2 * j + 1] = p;
    }
    return out;
  };
  const { signals, calls } = classifierSignals({ bank: bankWith(inside, outputs), probs: { before: targetProbs('before'), after: targetProbs('after') }, fit });
  const models = [classifier('before'), classifier('after')];
  const evidence = await shadow.collect({ options: o, seed, splits: auditSplits, models, signals });
  const obs = shadow.evaluate(evidence, { options: o, seed, splits: auditSplits }) as MembershipObservation[];
  return { evidence, obs, calls, fitKeys, expected, o };
}
const MIXED: Scenario = { options: { shadows: 4, minPerClass: 8, attackLayers: [16], attackEpochs: 5 }, inside: oneLabel };
const scoresOf = (obs: MembershipObservation[], role: ModelRole, split: SplitName) => obs.find((o) => o.model === role)!.splits[split]!.scores;

describe("attack 'shadow': options", () => {
  it('defaults: 8 shadows, one hidden layer of 64, 30 epochs, minPerClass 20', () => {
    expect(shadowOptions.parse({})).toEqual({ shadows: 8, attackLayers: [64], attackEpochs: 30, minPerClass: 20 });
  });

  it('rejects an unknown key, minPerClass < 2, attackEpochs < 1, a zero-width layer, a non-integer count', () => {
    expect(shadowOptions.safeParse({ shadowModels: 8 }).success).toBe(false);
    expect(shadowOptions.safeParse({ minPerClass: 1 }).success).toBe(false);
    expect(shadowOptions.safeParse({ attackEpochs: 0 }).success).toBe(false);
    expect(shadowOptions.safeParse({ attackLayers: [0] }).success).toBe(false);
    expect(shadowOptions.safeParse({ shadows: 7.5 }).success).toBe(false);
    expect(shadowOptions.safeParse({ shadows: 2, attackLayers: [], minPerClass: 2 }).success).toBe(true);
  });

  it('rejects an odd or non-positive shadow count', () => {
    for (const shadows of [1, 3, 7, 0, -2]) expect(shadowOptions.safeParse({ shadows }).success, `shadows ${shadows}`).toBe(false);
  });
});

describe("attack 'shadow': collect", () => {
  it('asks the bank for `shadows` models and each role for its probabilities on the pool', async () => {
    const { calls } = await run(MIXED);
    expect(calls.shadows).toEqual([4]);
    expect(calls.probabilities.map((c) => [c.role, c.records.map((r) => r.id)])).toEqual([
      ['before', POOL.map((r) => r.id)],
      ['after', POOL.map((r) => r.id)],
    ]);
  });

  it('trains one attack model per queried class, and one global model for the classes too small or with one label', async () => {
    const { evidence, calls, fitKeys } = await run(MIXED);
    // Class 2 has 4 shadow rows < minPerClass 8; class 3 has 8 but all IN. Class 4 is usable (8 rows,
    // both labels): not pooled, though nothing audited needs it.
    expect((evidence as ShokriEvidence).pooledClasses).toEqual([2, 3]);
    expect(calls.fit).toHaveLength(3);
    expect([...fitKeys].sort()).toEqual([-1, 0, 1]);
  });

  it('sends each attack model its (shadow, record) rows as [log p_y, sorted log-probabilities] standardised on its training rows, IN = 1 / OUT = 0, dim = classes + 1, 2 classes out', async () => {
    const { calls, fitKeys, expected } = await run(MIXED);
    calls.fit.forEach((req, k) => {
      const key = fitKeys[k]!;
      const model = expected.get(key)!;
      expect(req.dim).toBe(C + 1);
      expect(req.classes).toBe(2);
      expect(req.architecture).toEqual({ kind: 'mlp', layers: [16] });
      expect(req.training.epochs).toBe(5);
      expect(req.features).toBeInstanceOf(Float32Array);
      expect(req.query).toBeInstanceOf(Float32Array);
      expect(req.features.length).toBe(req.labels.length * W);
      // Training rows: exactly those of its class (all classes for the global model), 4 per record, standardised.
      expect(unmatched(labelledRows(req), model.rows)).toEqual(NONE);
      const records = POOL.filter((r) => key === -1 || r.label === key).length;
      expect(req.labels.length).toBe(records * 4);
      // The global model is trained on every class, not only the pooled ones.
      if (key === -1) expect(req.labels.length).toBe(POOL.length * 4);
      // Standardised: every training column has mean 0 and standard deviation 1 (no constant column here).
      const got = columnStats(rowsOf(req.features, W));
      got.mean.forEach((m, c) => expect(Math.abs(m), `mean of column ${c}`).toBeLessThan(1e-6));
      got.sd.forEach((sd, c) => expect(Math.abs(sd - 1), `sd of column ${c}`).toBeLessThan(1e-6));
      // Queries: every role's outputs on the audited records this model scores (before, then after), with the training rows' stats.
      const scored = [...AUDITED.forget, ...AUDITED.retain, ...AUDITED.holdout].filter((r) => (key === -1 ? [2, 3].includes(r.label!) : r.label === key));
      const expectedQueries = (['before', 'after'] as const).flatMap((role) => scored.map((r) => queryRow(role, r, model.stats)));
      expect(unmatched(rowsOf(req.query, W), expectedQueries)).toEqual(NONE);
    });
  });

  it('builds each raw row as log p_y then the log-probabilities in decreasing order, clipped at 1e-7', () => {
    // The test's own formula on one hand-made vector (true class 2, one zero probability).
    expect(rawRow([0.1, 0.6, 0.3, 0], 2)).toEqual([Math.log(f32(0.3)), Math.log(f32(0.6)), Math.log(f32(0.3)), Math.log(f32(0.1)), Math.log(1e-7)].map(f32));
  });

  it('clips zero probabilities at 1e-7 (finite rows, the clip on the smallest column)', async () => {
    // IN rows have one zero probability, OUT rows none: the last column mixes log 1e-7 with other values.
    const { calls, fitKeys } = await run({ ...MIXED, shadow: zeroProbs(oneLabel, oneLabel) });
    expect([...fitKeys].sort()).toEqual([-1, 0, 1]); // the fake matched every request to its expected (clipped, standardised) rows
    for (const req of calls.fit) expect([...req.features, ...req.query].every(Number.isFinite)).toBe(true);
  });

  it('maps a constant column (sd 0) to 0, in the training and the query rows', async () => {
    // Every shadow row has one zero probability: its last (smallest) column is log 1e-7 on every training row.
    // (Class 0 has 20 training rows and the global model 56: row counts whose 1/n is not exact in binary.)
    const bank = bankWith(oneLabel, zeroProbs(oneLabel, () => true));
    const { signals, calls } = classifierSignals({
      bank,
      probs: { before: targetProbs('before'), after: targetProbs('after') },
      fit: (req) => new Float32Array(2 * (req.query.length / req.dim)).fill(0.5),
    });
    const o = shadowOptions.parse(MIXED.options);
    await shadow.collect({ options: o, seed: 11, splits: SPLITS, models: [classifier('before'), classifier('after')], signals });
    expect(calls.fit).toHaveLength(3);
    for (const req of calls.fit) {
      const train = rowsOf(req.features, W);
      const query = rowsOf(req.query, W);
      expect(train.map((row) => row[C]), `training rows, ${train.length}`).toEqual(train.map(() => 0));
      // The targets' outputs have no zero, so their last column is not the clip: still 0, the training column's z.
      expect(query.map((row) => row[C]), `query rows, training ${train.length}`).toEqual(query.map(() => 0));
      // The other columns vary: standardised as usual, and the whole request matches one expected model.
      expect(train.some((row) => row[0] !== 0)).toBe(true);
      const matches = [-1, 0, 1].filter((key) => {
        const u = unmatched(labelledRows(req), expectedModel(key, 4, oneLabel, zeroProbs(oneLabel, () => true)).rows);
        return u.missing.length === 0 && u.extra.length === 0;
      });
      expect(matches, `training ${train.length}`).toHaveLength(1);
    }
  });

  it('gives each attack model its own seed, the same on every run, changing with the audit seed', async () => {
    const a = await run(MIXED);
    const b = await run(MIXED);
    const c = await run({ ...MIXED, seed: 12 });
    const seeds = (r: typeof a) => new Map(r.calls.fit.map((req, k) => [r.fitKeys[k]!, req.seed]));
    expect(new Set(seeds(a).values()).size).toBe(3);
    expect(seeds(b)).toEqual(seeds(a));
    for (const [key, s] of seeds(c)) expect(s).not.toBe(seeds(a).get(key));
    for (const s of seeds(a).values()) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });

  it('every class pooled (minPerClass above any class): one global model on every row', async () => {
    const { evidence, calls, fitKeys } = await run({ options: { shadows: 4, minPerClass: 1000 }, inside: paired });
    expect((evidence as ShokriEvidence).pooledClasses).toEqual([0, 1, 2, 3, 4]);
    expect(fitKeys).toEqual([-1]);
    expect(calls.fit[0]!.labels.length).toBe(POOL.length * 4);
    expect(calls.fit[0]!.query.length).toBe(2 * 7 * W); // 2 roles × 7 audited records
  });

  it('no class pooled on a paired bank with minPerClass 2: one model per audited class, no global model', async () => {
    const { evidence, fitKeys } = await run({ options: { shadows: 4, minPerClass: 2 }, inside: paired });
    expect((evidence as ShokriEvidence).pooledClasses).toEqual([]);
    expect([...fitKeys].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe("attack 'shadow': evaluate", () => {
  it('returns one membership observation per role, every split in record order', async () => {
    const { obs } = await run(MIXED);
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
    for (const o of obs) {
      expect(Object.keys(o.splits)).toEqual(['forget', 'retain', 'holdout']);
      expect(o.splits.forget).toMatchObject({ ids: ['f2', 'f1'], subjects: ['s2', 's1'] });
      expect(o.splits.retain).toMatchObject({ ids: ['r1', 'r2'], subjects: ['s3', 's4'] });
      expect(o.splits.holdout).toMatchObject({ ids: ['h1', 'h2', 'h3'], subjects: [undefined, 's6', 's7'] });
    }
  });

  it("scores each record with its own class's attack model (the global one for pooled classes): P(member) on the target's output", async () => {
    const { obs, expected: models } = await run(MIXED);
    for (const role of ['before', 'after'] as const)
      for (const split of SPLIT_NAMES) {
        const expected = AUDITED[split].map((r) => {
          const key = [2, 3].includes(r.label!) ? -1 : r.label!;
          return pMember(key, queryRow(role, r, models.get(key)!.stats));
        });
        const got = scoresOf(obs, role, split);
        expect(got, `${role} ${split}`).toHaveLength(expected.length);
        got.forEach((s, k) => expect(close(s, expected[k]!), `${role} ${split} ${k}: ${s} vs ${expected[k]}`).toBe(true));
      }
  });

  it('members score above non-members (higher = member); forgotten records drop on `after`', async () => {
    const { obs } = await run(MIXED);
    const members = [...scoresOf(obs, 'before', 'forget'), ...scoresOf(obs, 'before', 'retain')];
    expect(Math.min(...members)).toBeGreaterThan(Math.max(...scoresOf(obs, 'before', 'holdout')));
    const before = scoresOf(obs, 'before', 'forget');
    scoresOf(obs, 'after', 'forget').forEach((s, k) => expect(s).toBeLessThan(before[k]!));
  });

  it('omits an empty split and queries nothing for it', async () => {
    const { obs, calls } = await run({ ...MIXED, auditSplits: splits({ forget: AUDITED.forget, holdout: AUDITED.holdout, population: POPULATION }) });
    expect(Object.keys(obs[0]!.splits)).toEqual(['forget', 'holdout']);
    const queried = calls.fit.reduce((n, req) => n + req.query.length / W, 0);
    expect(queried).toBe(2 * (AUDITED.forget.length + AUDITED.holdout.length));
  });
});

describe("attack 'loss' on a classifier", () => {
  const SPLITS_C = splits({ forget: [crec('f1', 2, 's1'), crec('f2', 0)], retain: [crec('r1', 1, 's3')], holdout: [crec('h1', 1), crec('h2', 0, 's5')] });
  const P: Record<string, number[]> = {
    f1: [0.05, 0.05, 0.9],
    f2: [0.8, 0.1, 0.1],
    r1: [0.15, 0.75, 0.1],
    h1: [0.6, 0.3, 0.1],
    h2: [0, 0.5, 0.5], // p_y = 0: a very confident non-member, finite score
  };

  it('scores log p_y (= −cross-entropy) per record, in record order, one observation per role', async () => {
    const { signals, calls } = classifierSignals({ probs: { before: (r) => P[r.id]!, after: (r) => P[r.id]!.map((v) => v / 2 + 1 / 6) } });
    const models = [classifier('before'), classifier('after')];
    const evidence = (await loss.collect({ options: {}, seed: 1, splits: SPLITS_C, models, signals })) as ClassifierLossEvidence;
    expect(evidence.kind).toBe('classifier');
    expect(calls.probabilities.map((c) => [c.role, c.records.map((r) => r.id)])).toEqual([
      ['before', ['f1', 'f2']],
      ['before', ['r1']],
      ['before', ['h1', 'h2']],
      ['after', ['f1', 'f2']],
      ['after', ['r1']],
      ['after', ['h1', 'h2']],
    ]);
    const obs = loss.evaluate(evidence, { options: {}, seed: 1, splits: SPLITS_C }) as MembershipObservation[];
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
    // log of p_y / Σ p over the float32 vector (trueClassConfidence), in float64.
    const ly = (v: number[], y: number) => {
      const q = Float32Array.from(v);
      return Math.log(Math.max(q[y]! / q.reduce((a, b) => a + b, 0), Number.MIN_VALUE));
    };
    const scaled = (v: number[]) => v.map((x) => x / 2 + 1 / 6);
    for (const [k, v] of [['f1', 0.9], ['f2', 0.8], ['r1', 0.75], ['h1', 0.3]] as const) expect(Math.exp(ly(P[k]!, P[k]!.indexOf(v)))).toBeCloseTo(v, 6);
    expect(obs[0]!.splits).toEqual({
      forget: { ids: ['f1', 'f2'], subjects: ['s1', undefined], scores: [ly(P.f1!, 2), ly(P.f2!, 0)] },
      retain: { ids: ['r1'], subjects: ['s3'], scores: [ly(P.r1!, 1)] },
      holdout: { ids: ['h1', 'h2'], subjects: [undefined, 's5'], scores: [ly(P.h1!, 1), Math.log(Number.MIN_VALUE)] },
    });
    expect(Number.isFinite(obs[0]!.splits.holdout!.scores[1])).toBe(true);
    expect(obs[1]!.splits.forget!.scores).toEqual([ly(scaled(P.f1!), 2), ly(scaled(P.f2!), 0)]);
    // Higher = member.
    const b = obs[0]!.splits;
    expect(Math.min(...b.forget!.scores, ...b.retain!.scores)).toBeGreaterThan(Math.max(...b.holdout!.scores));
  });

  it('needs tokenLogprobs or probabilities (any one of them)', () => {
    expect(loss.meta.requires).toEqual([['tokenLogprobs', 'probabilities']]);
  });
});
