/**
 * `shadow` (Shokri et al. 2017) on hand-made inputs: what collect sends to `fit` (one attack model
 * per class from the shadows' IN/OUT outputs, a global model for the classes too small or with one
 * label), and how the attack models' answers come back as per-record scores. `fit` is a fake: it
 * recognises which attack model a request is by its training rows (so wrong rows fail the test) and
 * answers P(member) as a fixed logistic function of each query row — the log-probability at the
 * model's own class column for a per-class model, the largest log-probability for the global one.
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
const shadowProbs = (inside: (s: number, i: number) => boolean) => (s: number, i: number) =>
  probsWith(C, POOL[i]!.label!, inside(s, i) ? 0.8 + 0.02 * ((i + s) % 5) : 0.3 + 0.03 * ((i + 2 * s) % 5));
const bankWith = (inside: (s: number, i: number) => boolean) => makeBank(POOL, C, 8, shadowProbs(inside), inside);

/** Target confidence in the true label: `before` trained on forget and retain, `after` forgot forget. */
const TARGET: Record<string, Record<string, number>> = {
  before: { f1: 0.94, f2: 0.9, r1: 0.92, r2: 0.88, h1: 0.31, h2: 0.36, h3: 0.28 },
  after: { f1: 0.33, f2: 0.29, r1: 0.92, r2: 0.88, h1: 0.31, h2: 0.36, h3: 0.28 },
};
const targetProbs = (role: ModelRole) => (r: DataRecord) => probsWith(C, r.label!, TARGET[role]![r.id] ?? 0.3);

const f32 = Math.fround;
const logRow = (p: number[]) => p.map((v) => f32(Math.log(Math.max(f32(v), 1e-7))));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** The fake attack model: P(member) of one query row for the attack model `key` (class, or -1 = global). */
const pMember = (key: number, row: ArrayLike<number>) =>
  key === -1 ? sigmoid(2 * (Math.max(...Array.from(row)) + 0.7)) : sigmoid(4 * (row[key]! + 0.7));

/** Rows as sortable strings "label|v0,v1,…": compares training sets as multisets (row order is free). */
const rowSet = (features: ArrayLike<number>, labels: ArrayLike<number>, dim: number) =>
  Array.from({ length: labels.length }, (_, j) => `${labels[j]}|${Array.from(features).slice(j * dim, (j + 1) * dim).join(',')}`).sort();
const queryRows = (query: ArrayLike<number>, dim: number) =>
  Array.from({ length: query.length / dim }, (_, j) => Array.from(query).slice(j * dim, (j + 1) * dim).join(',')).sort();

/** The training rows the attack model `key` must get: every (pool record of the class, shadow) pair. */
function expectedTraining(key: number, count: number, inside: (s: number, i: number) => boolean): string[] {
  const out: string[] = [];
  POOL.forEach((r, i) => {
    if (key !== -1 && r.label !== key) return;
    for (let s = 0; s < count; s++) out.push(`${inside(s, i) ? 1 : 0}|${logRow(shadowProbs(inside)(s, i)).join(',')}`);
  });
  return out.sort();
}

interface Scenario {
  options: Partial<ShadowOptions>;
  inside: (s: number, i: number) => boolean;
  auditSplits?: AuditSplits;
  seed?: number;
}

async function run({ options, inside, auditSplits = SPLITS, seed = 11 }: Scenario) {
  const o = shadowOptions.parse(options);
  const keys = [-1, 0, 1, 2, 3, 4];
  const training = new Map(keys.map((k) => [k, expectedTraining(k, o.shadows, inside).join('\n')]));
  const fitKeys: number[] = [];
  const fit = (req: FitRequest): Float32Array => {
    const got = rowSet(req.features, req.labels, req.dim).join('\n');
    const key = keys.find((k) => training.get(k) === got);
    if (key === undefined) throw new Error('fit got training rows that match no attack model');
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
  const { signals, calls } = classifierSignals({ bank: bankWith(inside), probs: { before: targetProbs('before'), after: targetProbs('after') }, fit });
  const models = [classifier('before'), classifier('after')];
  const evidence = await shadow.collect({ options: o, seed, splits: auditSplits, models, signals });
  const obs = shadow.evaluate(evidence, { options: o, seed, splits: auditSplits }) as MembershipObservation[];
  return { evidence, obs, calls, fitKeys, o };
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

  it('sends each attack model its (shadow, record) rows as clipped log-probabilities, IN = 1 / OUT = 0, dim = classes, 2 classes out', async () => {
    const { calls, fitKeys } = await run(MIXED);
    calls.fit.forEach((req, k) => {
      const key = fitKeys[k]!;
      expect(req.dim).toBe(C);
      expect(req.classes).toBe(2);
      expect(req.architecture).toEqual({ kind: 'mlp', layers: [16] });
      expect(req.training.epochs).toBe(5);
      expect(req.features.length).toBe(req.labels.length * C);
      // Training rows: exactly those of its class (all classes for the global model), 4 per record.
      expect(rowSet(req.features, req.labels, C)).toEqual(expectedTraining(key, 4, oneLabel));
      const records = POOL.filter((r) => key === -1 || r.label === key).length;
      expect(req.labels.length).toBe(records * 4);
      // The global model is trained on every class, not only the pooled ones.
      if (key === -1) expect(req.labels.length).toBe(POOL.length * 4);
      // Queries: every role's outputs on the audited records this model scores (before, then after).
      const scored = [...AUDITED.forget, ...AUDITED.retain, ...AUDITED.holdout].filter((r) => (key === -1 ? [2, 3].includes(r.label!) : r.label === key));
      const expectedQueries = (['before', 'after'] as const).flatMap((role) => scored.map((r) => logRow(targetProbs(role)(r)).join(',')));
      expect(queryRows(req.query, C)).toEqual(expectedQueries.sort());
    });
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
    expect(calls.fit[0]!.query.length).toBe(2 * 7 * C); // 2 roles × 7 audited records
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
    const { obs } = await run(MIXED);
    for (const role of ['before', 'after'] as const)
      for (const split of SPLIT_NAMES) {
        const expected = AUDITED[split].map((r) => f32(pMember([2, 3].includes(r.label!) ? -1 : r.label!, logRow(targetProbs(role)(r)))));
        expect(scoresOf(obs, role, split), `${role} ${split}`).toEqual(expected);
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
    const queried = calls.fit.reduce((n, req) => n + req.query.length / C, 0);
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
    const ly = (p: number) => Math.log(Math.max(f32(p), Number.MIN_VALUE));
    expect(obs[0]!.splits).toEqual({
      forget: { ids: ['f1', 'f2'], subjects: ['s1', undefined], scores: [ly(0.9), ly(0.8)] },
      retain: { ids: ['r1'], subjects: ['s3'], scores: [ly(0.75)] },
      holdout: { ids: ['h1', 'h2'], subjects: [undefined, 's5'], scores: [ly(0.3), Math.log(Number.MIN_VALUE)] },
    });
    expect(Number.isFinite(obs[0]!.splits.holdout!.scores[1])).toBe(true);
    expect(obs[1]!.splits.forget!.scores).toEqual([ly(0.9 / 2 + 1 / 6), ly(0.8 / 2 + 1 / 6)]);
    // Higher = member.
    const b = obs[0]!.splits;
    expect(Math.min(...b.forget!.scores, ...b.retain!.scores)).toBeGreaterThan(Math.max(...b.holdout!.scores));
  });

  it('needs tokenLogprobs or probabilities (any one of them)', () => {
    expect(loss.meta.requires).toEqual([['tokenLogprobs', 'probabilities']]);
  });
});
