/**
 * `rmia` end to end on hand-made inputs: the population records are the z points (scored by no one),
 * online every reference model counts for x and z, offline only the ones that did not train on them
 * (with the scaling a). Expected scores are `rmiaScores` on inputs built here from the same tables,
 * and one is computed fully by hand.
 */
import { describe, expect, it } from 'vitest';
import { rmia, rmiaOptions, type RmiaOptions } from '../../attacks/rmia/index.ts';
import type { ShadowEvidence } from '../../attacks/shadow-membership.ts';
import type { AuditSplits, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { shadowMembership } from '../../src/shadow/bank.ts';
import { rmiaScores, type RecordShadows } from '../../src/shadow/scores.ts';
import type { DataRecord, ModelRole } from '../../src/types.ts';
import { classifier, classifierSignals, crec, makeBank, probsWith, shadowsFromTables, splits } from './helpers.ts';

const C = 3;
const POPULATION = [crec('z1', 0), crec('z2', 1), crec('z3', 2), crec('z4', 0), crec('z5', 1), crec('z6', 2)];
const F1 = crec('f1', 1, 's1');
const F2 = crec('f2', 2, 's2');
const R1 = crec('r1', 0, 's3');
const H1 = crec('h1', 2);
const H2 = crec('h2', 1, 's5');
const POOL = [...POPULATION, F1, F2, R1, H1, H2];
const AUDITED = { forget: [F2, F1], retain: [R1], holdout: [H1, H2] };
const SPLITS: AuditSplits = splits({ ...AUDITED, population: POPULATION });

const inside = (s: number, i: number) => shadowMembership(POOL.map((r) => r.id), s, 1)[i] === 1;
/** Reference s's confidence in pool record i's true label: 0.70–0.90 if it trained on it, 0.20–0.44 if not. */
const conf = (s: number, i: number) => (inside(s, i) ? 0.7 + 0.05 * ((i + s) % 5) : 0.2 + 0.06 * ((2 * i + s) % 5));
const BANK = makeBank(POOL, C, 8, (s, i) => probsWith(C, POOL[i]!.label!, conf(s, i)));

const TARGET: Record<string, Record<string, number>> = {
  before: { z1: 0.25, z2: 0.4, z3: 0.18, z4: 0.5, z5: 0.3, z6: 0.22, f1: 0.93, f2: 0.85, r1: 0.9, h1: 0.31, h2: 0.45 },
  after: { z1: 0.25, z2: 0.4, z3: 0.18, z4: 0.5, z5: 0.3, z6: 0.22, f1: 0.3, f2: 0.26, r1: 0.9, h1: 0.31, h2: 0.45 },
};
const probs = (role: ModelRole) => (r: DataRecord) => probsWith(C, r.label!, TARGET[role]![r.id]!);

/** The target's and the first `count` references' confidences on record r, from the tables. */
const shadowsOf = (role: ModelRole, r: DataRecord, count: number): RecordShadows => shadowsFromTables(POOL, C, conf, inside, TARGET[role]![r.id]!, r, count);
/** z points as rmiaScores takes them: `all` references, or only the OUT ones. */
const zPoints = (role: ModelRole, zs: DataRecord[], count: number, which: 'all' | 'out') =>
  zs.map((z) => {
    const s = shadowsOf(role, z, count);
    return { target: s.target, references: which === 'all' ? [...s.inside, ...s.outside] : s.outside };
  });

async function run(options: Partial<RmiaOptions>, auditSplits = SPLITS) {
  const o = rmiaOptions.parse(options);
  const { signals, calls } = classifierSignals({ bank: BANK, probs: { before: probs('before'), after: probs('after') } });
  const models = [classifier('before'), classifier('after')];
  const evidence = (await rmia.collect({ options: o, seed: 3, splits: auditSplits, models, signals })) as ShadowEvidence;
  const obs = rmia.evaluate(evidence, { options: o, seed: 3, splits: auditSplits }) as MembershipObservation[];
  return { obs, calls, evidence, o };
}
const scoresOf = (obs: MembershipObservation[], role: ModelRole, split: SplitName) => obs.find((o) => o.model === role)!.splits[split]!.scores;
const SPLIT_NAMES = ['forget', 'retain', 'holdout'] as const;

describe("attack 'rmia': options", () => {
  it('defaults: 4 references, online, γ = 2, a = 0.3; needs population', () => {
    expect(rmiaOptions.parse({})).toEqual({ references: 4, offline: false, gamma: 2, a: 0.3 });
    expect(rmia.meta.needsPopulation).toBe(true);
  });

  it('rejects an unknown key, γ ≤ 0, a outside [0, 1] and a non-integer count', () => {
    expect(rmiaOptions.safeParse({ refs: 4 }).success).toBe(false);
    expect(rmiaOptions.safeParse({ shadows: 4 }).success).toBe(false);
    expect(rmiaOptions.safeParse({ gamma: 0 }).success).toBe(false);
    expect(rmiaOptions.safeParse({ a: 1.5 }).success).toBe(false);
    expect(rmiaOptions.safeParse({ a: -0.1 }).success).toBe(false);
    expect(rmiaOptions.safeParse({ references: 2.5 }).success).toBe(false);
    expect(rmiaOptions.safeParse({ references: 2, a: 0, gamma: 1, offline: true }).success).toBe(true);
  });

  it('rejects an odd or non-positive reference count', () => {
    for (const references of [1, 3, 5, 0, -4]) expect(rmiaOptions.safeParse({ references }).success, `references ${references}`).toBe(false);
  });
});

describe("attack 'rmia': collect", () => {
  it('asks the bank for `references` models and each role for its probabilities on the whole pool (z included)', async () => {
    const { calls, evidence } = await run({ references: 6 });
    expect(calls.shadows).toEqual([6]);
    expect(calls.probabilities.map((c) => [c.role, c.records.map((r) => r.id)])).toEqual([
      ['before', POOL.map((r) => r.id)],
      ['after', POOL.map((r) => r.id)],
    ]);
    expect(evidence.count).toBe(6);
  });
});

describe("attack 'rmia': evaluate", () => {
  it('returns one membership observation per role; population records are z points, never scored', async () => {
    const { obs } = await run({});
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
    for (const o of obs) {
      expect(Object.keys(o.splits)).toEqual(['forget', 'retain', 'holdout']);
      expect(o.splits.forget!.ids).toEqual(['f2', 'f1']);
      expect(o.splits.forget!.subjects).toEqual(['s2', 's1']);
      expect(o.splits.holdout!.ids).toEqual(['h1', 'h2']);
      // RMIA scores are fractions of the |z| = 6 population points.
      for (const split of SPLIT_NAMES) for (const s of o.splits[split]!.scores) expect(Number.isInteger(s * 6)).toBe(true);
    }
  });

  it('online: all references for x and for z; z = the population records only', async () => {
    for (const gamma of [1, 1.5, 2]) {
      const { obs } = await run({ gamma });
      for (const role of ['before', 'after'] as const)
        for (const split of SPLIT_NAMES) {
          const expected = rmiaScores(
            AUDITED[split].map((r) => shadowsOf(role, r, 4)),
            zPoints(role, POPULATION, 4, 'all'),
            { gamma },
          );
          expect(scoresOf(obs, role, split), `γ ${gamma} ${role} ${split}`).toEqual(expected);
        }
    }
    // The z set matters here: with the audited records as z too the scores would differ.
    const allAsZ = rmiaScores(
      AUDITED.forget.map((r) => shadowsOf('before', r, 4)),
      zPoints('before', POOL, 4, 'all'),
      { gamma: 2 },
    );
    expect(scoresOf((await run({})).obs, 'before', 'forget')).not.toEqual(allAsZ);
  });

  it('offline: only the OUT references, for x and for z, with Pr = ½((1 + a)·mean_OUT + (1 − a))', async () => {
    for (const [gamma, a] of [
      [2, 0.3],
      [1.5, 0.3],
      [1, 0.6],
    ] as const) {
      const { obs } = await run({ offline: true, gamma, a });
      for (const role of ['before', 'after'] as const)
        for (const split of SPLIT_NAMES) {
          const expected = rmiaScores(
            AUDITED[split].map((r) => shadowsOf(role, r, 4)),
            zPoints(role, POPULATION, 4, 'out'),
            { offline: true, gamma, a },
          );
          expect(scoresOf(obs, role, split), `γ ${gamma} a ${a} ${role} ${split}`).toEqual(expected);
        }
    }
    // The choice matters with these numbers: the z points' IN references would change the scores.
    const { obs } = await run({ offline: true });
    const withInRefs = rmiaScores(
      AUDITED.forget.map((r) => shadowsOf('before', r, 4)),
      zPoints('before', POPULATION, 4, 'all'),
      { offline: true },
    );
    expect(scoresOf(obs, 'before', 'forget')).not.toEqual(withInRefs);
  });

  it('offline score by hand for f1: fraction of z with (p(x)/Pr(x)) / (p(z)/Pr(z)) ≥ γ', async () => {
    const { obs } = await run({ offline: true, gamma: 2, a: 0.3 });
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    const pr = (outs: number[]) => 0.5 * (1.3 * mean(outs) + 0.7);
    const x = shadowsOf('before', F1, 4);
    expect(x.outside).toHaveLength(2); // paired bank: k/2 OUT references per record
    const ratioX = x.target / pr(x.outside);
    const hits = POPULATION.filter((z) => {
      const s = shadowsOf('before', z, 4);
      return ratioX / (s.target / pr(s.outside)) >= 2;
    }).length;
    expect(scoresOf(obs, 'before', 'forget')[1]).toBe(hits / POPULATION.length);
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThan(POPULATION.length);
  });

  it('members score above non-members (higher = member), online and offline; forgotten records drop on `after`', async () => {
    for (const offline of [false, true]) {
      const { obs } = await run({ offline });
      const members = [...scoresOf(obs, 'before', 'forget'), ...scoresOf(obs, 'before', 'retain')];
      expect(Math.min(...members)).toBeGreaterThan(Math.max(...scoresOf(obs, 'before', 'holdout')));
      const before = scoresOf(obs, 'before', 'forget');
      scoresOf(obs, 'after', 'forget').forEach((s, k) => expect(s).toBeLessThan(before[k]!));
      expect(scoresOf(obs, 'after', 'retain')).toEqual(scoresOf(obs, 'before', 'retain'));
    }
  });

  it('uses the first `references` models of the bank', async () => {
    const { obs } = await run({ references: 8 });
    const expected = rmiaScores(
      AUDITED.holdout.map((r) => shadowsOf('before', r, 8)),
      zPoints('before', POPULATION, 8, 'all'),
      { gamma: 2 },
    );
    expect(scoresOf(obs, 'before', 'holdout')).toEqual(expected);
  });

  it('without population records there is no z: an error, never a silent score', async () => {
    await expect(run({}, splits(AUDITED))).rejects.toThrow(/population/);
  });
});
