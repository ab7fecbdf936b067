/**
 * `lira` end to end on hand-made inputs: collect asks the shadow bank for `shadows` models and every
 * role's probabilities on the bank's pool; evaluate scores each audited split with `liraScores` on the
 * IN/OUT confidences of the record's true label. The shadow confidences are built so members are
 * clearly separable (IN ≈ 0.80–0.92, OUT ≈ 0.25–0.41).
 */
import normalLogpdf from '@stdlib/stats-base-dists-normal-logpdf';
import { describe, expect, it } from 'vitest';
import { CALIBRATION_ALPHA, calibrationWarning, lira, liraOptions, type LiraOptions } from '../../attacks/lira/index.ts';
import { recordShadows, type ShadowEvidence } from '../../attacks/shadow-membership.ts';
import type { AuditSplits, MembershipObservation, SplitName } from '../../attacks/types.ts';
import { shadowMembership, trueClassConfidence } from '../../src/shadow/bank.ts';
import { ks2samp } from '../../src/metrics/index.ts';
import { liraScores, logit, shadowCalibration, type RecordShadows } from '../../src/shadow/scores.ts';
import type { DataRecord, ModelRole } from '../../src/types.ts';
import { classifier, classifierSignals, crec, makeBank, probsWith, readConfidence, shadowsFromTables, splits } from './helpers.ts';

const C = 3;
const POPULATION = [crec('z1', 0), crec('z2', 1), crec('z3', 2), crec('z4', 0)];
const F1 = crec('f1', 1, 's1');
const F2 = crec('f2', 2, 's2');
const R1 = crec('r1', 0, 's3');
const H1 = crec('h1', 2);
const H2 = crec('h2', 1, 's5');
const POOL = [...POPULATION, F1, F2, R1, H1, H2];
// Split order differs from pool order (f2 before f1): scores must follow the split's record order.
const SPLITS: AuditSplits = splits({ forget: [F2, F1], retain: [R1], holdout: [H1, H2], population: POPULATION });

/** Shadow s's confidence in the true label of pool record i: high when it trained on it. */
const inside = (s: number, i: number) => shadowMembership(POOL.map((r) => r.id), s, 1)[i] === 1;
const conf = (s: number, i: number) => (inside(s, i) ? 0.8 + 0.03 * ((i + s) % 5) : 0.25 + 0.04 * ((2 * i + s) % 5));
const bankOf = (count: number) => makeBank(POOL, C, count, (s, i) => probsWith(C, POOL[i]!.label!, conf(s, i)));

/** Target confidences: `before` trained on forget and retain; `after` has forgotten the forget records. */
const TARGET: Record<string, Record<string, number>> = {
  before: { z1: 0.3, z2: 0.35, z3: 0.28, z4: 0.4, f1: 0.93, f2: 0.88, r1: 0.9, h1: 0.31, h2: 0.36 },
  after: { z1: 0.3, z2: 0.35, z3: 0.28, z4: 0.4, f1: 0.33, f2: 0.3, r1: 0.91, h1: 0.31, h2: 0.36 },
};
const probs = (role: ModelRole) => (r: DataRecord) => probsWith(C, r.label!, TARGET[role]![r.id]!);
const pc = (p: number) => readConfidence(C, p);

/** What liraScores must be given for record r on `role`: computed here from the tables, not through the bank. */
const expectedInputs = (role: ModelRole, r: DataRecord, count: number): RecordShadows => shadowsFromTables(POOL, C, conf, inside, TARGET[role]![r.id]!, r, count);

async function run(options: Partial<LiraOptions>, auditSplits = SPLITS, bankSize = 16) {
  const o = liraOptions.parse(options);
  const { signals, calls } = classifierSignals({ bank: bankOf(bankSize), probs: { before: probs('before'), after: probs('after') } });
  const models = [classifier('before'), classifier('after')];
  const evidence = (await lira.collect({ options: o, seed: 7, splits: auditSplits, models, signals })) as ShadowEvidence;
  const obs = lira.evaluate(evidence, { options: o, seed: 7, splits: auditSplits }) as MembershipObservation[];
  return { obs, calls, evidence };
}

const scoresOf = (obs: MembershipObservation[], role: ModelRole, split: SplitName) => obs.find((o) => o.model === role)!.splits[split]!.scores;

describe("attack 'lira': options", () => {
  it('defaults: 16 shadows, online, fixed variance "auto"', () => {
    expect(liraOptions.parse({})).toEqual({ shadows: 16, offline: false, fixedVariance: 'auto' });
  });

  it('accepts an even shadow count; rejects a non-integer count, an unknown key and a bad fixedVariance', () => {
    for (const shadows of [2, 4, 64]) expect(liraOptions.safeParse({ shadows }).success).toBe(true);
    expect(liraOptions.safeParse({ shadows: 4.5 }).success).toBe(false);
    expect(liraOptions.safeParse({ shadow: 16 }).success).toBe(false);
    expect(liraOptions.safeParse({ fixedVariance: 'yes' }).success).toBe(false);
    expect(liraOptions.safeParse({ fixedVariance: true, offline: true }).success).toBe(true);
  });

  it('rejects an odd or non-positive shadow count, saying shadows come in pairs', () => {
    for (const shadows of [1, 3, 15, 0, -2]) expect(liraOptions.safeParse({ shadows }).success, `shadows ${shadows}`).toBe(false);
    const odd = liraOptions.safeParse({ shadows: 3 });
    expect(odd.success ? '' : odd.error.issues[0]!.message).toContain('even');
  });
});

describe("attack 'lira': collect", () => {
  it('asks the bank for `shadows` models and each role for its probabilities on the whole pool, in role order', async () => {
    const { calls, evidence } = await run({ shadows: 4 });
    expect(calls.shadows).toEqual([4]);
    expect(calls.fit).toEqual([]);
    expect(calls.probabilities.map((c) => [c.role, c.records.map((r) => r.id)])).toEqual([
      ['before', POOL.map((r) => r.id)],
      ['after', POOL.map((r) => r.id)],
    ]);
    expect(evidence.count).toBe(4);
    expect(evidence.models.map((m) => m.role)).toEqual(['before', 'after']);
  });
});

describe("attack 'lira': evaluate", () => {
  it('returns one membership observation per role, every split in record order', async () => {
    const { obs } = await run({ shadows: 4 });
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
    for (const o of obs) {
      expect(Object.keys(o.splits)).toEqual(['forget', 'retain', 'holdout']); // population is never scored
      expect(o.splits.forget!.ids).toEqual(['f2', 'f1']);
      expect(o.splits.forget!.subjects).toEqual(['s2', 's1']);
      expect(o.splits.retain!.ids).toEqual(['r1']);
      expect(o.splits.holdout!.ids).toEqual(['h1', 'h2']);
      expect(o.splits.holdout!.subjects).toEqual([undefined, 's5']);
    }
  });

  it('omits an empty split', async () => {
    const { obs } = await run({ shadows: 4 }, splits({ forget: [F1], holdout: [H1], population: POPULATION }));
    expect(Object.keys(obs[0]!.splits)).toEqual(['forget', 'holdout']);
  });

  for (const offline of [false, true]) {
    it(`${offline ? 'offline' : 'online'}, per-record variance: each split's scores are liraScores of its records' IN/OUT confidences`, async () => {
      const { obs } = await run({ shadows: 4, offline, fixedVariance: false });
      for (const role of ['before', 'after'] as const)
        for (const split of ['forget', 'retain', 'holdout'] as const) {
          const expected = liraScores(
            SPLITS[split].map((r) => expectedInputs(role, r, 4)),
            { offline, fixedVariance: false },
          );
          expect(scoresOf(obs, role, split), `${role} ${split}`).toEqual(expected);
        }
    });
  }

  it('online score is log N(φ; μ_in, σ_in) − log N(φ; μ_out, σ_out), φ = logit(p), ddof 0 (checked by hand for f1)', async () => {
    const { obs } = await run({ shadows: 4, fixedVariance: false });
    const x = expectedInputs('before', F1, 4);
    expect(x.inside).toHaveLength(2); // paired bank: IN for exactly half
    const stats = (ps: number[]) => {
      const phis = ps.map(logit);
      const mu = phis.reduce((a, b) => a + b, 0) / phis.length;
      return { mu, sd: Math.sqrt(phis.reduce((a, b) => a + (b - mu) ** 2, 0) / phis.length) };
    };
    const logN = (v: number, { mu, sd }: { mu: number; sd: number }) => -0.5 * Math.log(2 * Math.PI * sd * sd) - (v - mu) ** 2 / (2 * sd * sd);
    const phi = logit(x.target);
    const byHand = logN(phi, stats(x.inside)) - logN(phi, stats(x.outside));
    expect(scoresOf(obs, 'before', 'forget')[1]).toBeCloseTo(byHand, 9);
    // Offline (conventions v2): the statistic z = (φ − μ_out)/σ_out of the paper's one-sided test,
    // no longer its Φ(z), which rounds every strong member to 1.0; not a density either.
    const off = (await run({ shadows: 4, offline: true, fixedVariance: false })).obs;
    const out = stats(x.outside);
    expect(scoresOf(off, 'before', 'forget')[1]).toBeCloseTo((phi - out.mu) / out.sd, 12);
  });

  it('offline z does not saturate: members far above their OUT shadows keep distinct, ordered scores', () => {
    // Φ(z) is exactly 1.0 in float64 beyond z ≈ 8.3: these three would tie at the top under v1.
    const recs = [0.99, 0.999, 0.9999].map((target, i) => ({ id: `m${i}`, target, inside: [0.99], outside: [0.3, 0.31, 0.29] }));
    const s = liraScores(recs, { offline: true });
    expect(s[0]!).toBeGreaterThan(8.3);
    expect(s[0]!).toBeLessThan(s[1]!);
    expect(s[1]!).toBeLessThan(s[2]!);
  });

  it('members score above non-members (higher = member); after deletion the forget records drop', async () => {
    for (const offline of [false, true]) {
      const { obs } = await run({ shadows: 4, offline });
      const holdout = Math.max(...scoresOf(obs, 'before', 'holdout'));
      expect(Math.min(...scoresOf(obs, 'before', 'forget'), ...scoresOf(obs, 'before', 'retain'))).toBeGreaterThan(holdout);
      // `after` forgot f1, f2: they now score below what they scored on `before`; r1 is still a member.
      const before = scoresOf(obs, 'before', 'forget');
      scoresOf(obs, 'after', 'forget').forEach((s, k) => expect(s).toBeLessThan(before[k]!));
      expect(scoresOf(obs, 'after', 'retain')[0]).toBeGreaterThan(Math.max(...scoresOf(obs, 'after', 'holdout')));
    }
  });

  it('uses only the first `shadows` models of the bank', async () => {
    // The same records with 4 and with 8 shadows give different IN/OUT samples, hence different scores.
    const four = (await run({ shadows: 4, fixedVariance: false })).obs;
    const eight = (await run({ shadows: 8, fixedVariance: false })).obs;
    const expected8 = liraScores(
      SPLITS.forget.map((r) => expectedInputs('before', r, 8)),
      { fixedVariance: false },
    );
    expect(scoresOf(eight, 'before', 'forget')).toEqual(expected8);
    expect(scoresOf(eight, 'before', 'forget')).not.toEqual(scoresOf(four, 'before', 'forget'));
  });

  // One audited split and a pool of exactly its records: every sensible pooling set for the fixed
  // variance (the split, all audited records, the pool) is the same set here. The test after them checks the pooling set is shared by every split.
  const ONE: AuditSplits = splits({ forget: [F1, F2, R1, H1, H2] });
  const onePool = [F1, F2, R1, H1, H2];
  async function runOne(options: Partial<LiraOptions>, bankSize: number) {
    const o = liraOptions.parse(options);
    const bank = makeBank(onePool, C, bankSize, (s, i) => probsWith(C, onePool[i]!.label!, 0.5 + 0.4 * (shadowMembership(onePool.map((r) => r.id), s, 1)[i]! ? 1 : 0) - 0.01 * ((i * 5 + s) % 7)));
    const { signals } = classifierSignals({ bank, probs: { before: probs('before') } });
    const evidence = (await lira.collect({ options: o, seed: 1, splits: ONE, models: [classifier('before')], signals })) as ShadowEvidence;
    const scores = (lira.evaluate(evidence, { options: o, seed: 1, splits: ONE }) as MembershipObservation[])[0]!.splits.forget!.scores;
    const inputs: RecordShadows[] = onePool.map((r, i) => {
      const ks = Array.from({ length: o.shadows }, (_, k) => k);
      const c = (k: number) => trueClassConfidence(bank.models[k]!.probs, r.label!, i * C, C);
      return { id: r.id, target: pc(TARGET.before![r.id]!), inside: ks.filter((k) => bank.models[k]!.inside[i]).map(c), outside: ks.filter((k) => !bank.models[k]!.inside[i]).map(c) };
    });
    return { scores, inputs };
  }

  for (const offline of [false, true]) {
    it(`${offline ? 'offline' : 'online'}, fixed variance: equals liraScores with one global σ pooled over records`, async () => {
      const { scores, inputs } = await runOne({ shadows: 4, offline, fixedVariance: true }, 4);
      const fixed = liraScores(inputs, { offline, fixedVariance: true });
      expect(scores).toEqual(fixed);
      expect(scores).not.toEqual(liraScores(inputs, { offline, fixedVariance: false }));
    });
  }

  it('fixed variance (conventions v2): one σ for IN and OUT — the std of all IN φ online, of all OUT φ offline (checked by hand)', async () => {
    const { inputs } = await runOne({ shadows: 4 }, 4);
    const std = (xs: number[]) => {
      const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length);
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sIn = std(inputs.flatMap((r) => r.inside.map(logit)));
    const sOut = std(inputs.flatMap((r) => r.outside.map(logit)));
    expect(Math.abs(sIn - sOut)).toBeGreaterThan(1e-3); // so the test tells the two conventions apart
    const online = inputs.map((r) => {
      const phi = logit(r.target);
      return normalLogpdf(phi, mean(r.inside.map(logit)), sIn) - normalLogpdf(phi, mean(r.outside.map(logit)), sIn);
    });
    liraScores(inputs, { fixedVariance: true }).forEach((s, i) => expect(s).toBeCloseTo(online[i]!, 9));
    const offline = inputs.map((r) => (logit(r.target) - mean(r.outside.map(logit))) / sOut);
    liraScores(inputs, { offline: true, fixedVariance: true }).forEach((s, i) => expect(s).toBeCloseTo(offline[i]!, 12));
  });

  it('fixedVariance "auto" pools the variance below 64 shadows and estimates it per record from 64 on', async () => {
    const below = await runOne({ shadows: 62 }, 64);
    expect(below.scores).toEqual(liraScores(below.inputs, { fixedVariance: true }));
    expect(below.scores).not.toEqual(liraScores(below.inputs, { fixedVariance: false }));
    const at = await runOne({ shadows: 64 }, 64);
    expect(at.scores).toEqual(liraScores(at.inputs, { fixedVariance: false }));
    expect(at.scores).not.toEqual(liraScores(at.inputs, { fixedVariance: true }));
    // Explicit settings override "auto" either way.
    expect((await runOne({ shadows: 64, fixedVariance: true }, 64)).scores).toEqual(liraScores(at.inputs, { fixedVariance: true }));
    expect((await runOne({ shadows: 4, fixedVariance: false }, 4)).scores).toEqual(
      liraScores((await runOne({ shadows: 4 }, 4)).inputs, { fixedVariance: false }),
    );
  });

  it('fixed variance: a record scores the same whichever split it is audited in', async () => {
    const a = (await run({ shadows: 4, fixedVariance: true }, splits({ forget: [F1, F2], holdout: [H1, H2], population: POPULATION }))).obs;
    const b = (await run({ shadows: 4, fixedVariance: true }, splits({ forget: [F1], holdout: [F2, H1, H2], population: POPULATION }))).obs;
    expect(scoresOf(b, 'before', 'holdout')[0]).toBe(scoresOf(a, 'before', 'forget')[1]);
  });

  it('the bank protocol: any even prefix of shadows has every record IN for exactly half (pairs 2p, 2p + 1)', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `rec-${i}`);
    const m = Array.from({ length: 8 }, (_, s) => shadowMembership(ids, s, 42));
    for (let p = 0; p < 4; p++) ids.forEach((_, i) => expect(m[2 * p]![i]! + m[2 * p + 1]![i]!).toBe(1));
    // Shadow i's training set depends on (seed, i, ids) only, and the coin is not constant.
    expect(shadowMembership(ids, 5, 42)).toEqual(m[5]);
    expect(shadowMembership(ids, 0, 43)).not.toEqual(m[0]);
    const ones = m[0]!.reduce((a, b) => a + b, 0);
    expect(ones).toBeGreaterThan(60);
    expect(ones).toBeLessThan(140);
  });
});

describe("attack 'lira': calibration warning", () => {
  // 60 holdout records and 2 forget records; shadows' OUT confidences spread over [0.2, 0.7], IN ones high.
  const HOLD = Array.from({ length: 60 }, (_, i) => crec(`h${i}`, i % C));
  const FORGET = [crec('f0', 0, 's0'), crec('f1', 1, 's1')];
  const pool = [...FORGET, ...HOLD];
  const ids = pool.map((r) => r.id);
  /** A deterministic spread in [0, 1) per (model, record). */
  const u = (s: number, i: number) => ((i * 7919 + s * 104729 + 13) % 997) / 997;
  const isIn = (s: number, i: number) => shadowMembership(ids, s, 1)[i] === 1;
  const shadowConf = (s: number, i: number) => (isIn(s, i) ? 0.9 + 0.09 * u(s, i) : 0.2 + 0.5 * u(s, i));
  const bank = makeBank(pool, C, 16, (s, i) => probsWith(C, pool[i]!.label!, shadowConf(s, i)));
  const AUDIT = splits({ forget: FORGET, holdout: HOLD });
  // `before` is like the shadows on records it never saw (a seventeenth OUT shadow); `after` is
  // over-confident on them (another recipe): its holdout confidences sit in [0.6, 0.95].
  const target: Record<string, (i: number) => number> = {
    before: (i) => (i < FORGET.length ? 0.95 : 0.2 + 0.5 * u(16, i)),
    after: (i) => (i < FORGET.length ? 0.95 : 0.6 + 0.35 * u(16, i)),
  };
  const probsOf = (role: ModelRole) => (r: DataRecord) => probsWith(C, r.label!, target[role]!(pool.indexOf(r)));

  async function runCal(holdout = HOLD) {
    const o = liraOptions.parse({ shadows: 16 });
    const { signals } = classifierSignals({ bank, probs: { before: probsOf('before'), after: probsOf('after') } });
    const s = splits({ forget: FORGET, holdout });
    const evidence = (await lira.collect({ options: o, seed: 1, splits: s, models: [classifier('before'), classifier('after')], signals })) as ShadowEvidence;
    return { evidence, obs: lira.evaluate(evidence, { options: o, seed: 1, splits: s }) as MembershipObservation[] };
  }

  it('KS on φ: target φ of the holdout records vs the OUT shadows’ φ of the same records, pooled', async () => {
    const { evidence } = await runCal();
    const m = evidence.models[1]!;
    const inputs = HOLD.map((r) => recordShadows(evidence, m.probs, r));
    const expected = ks2samp(
      inputs.map((r) => logit(r.target)),
      inputs.flatMap((r) => r.outside.map(logit)),
    );
    const got = shadowCalibration(inputs);
    expect(got).toEqual({ ...expected, targets: 60, shadows: 60 * 8 });
  });

  it('warns on the mismatched role only, saying the result is a lower bound', async () => {
    const { obs, evidence } = await runCal();
    expect(obs[0]!.warnings).toBeUndefined();
    expect(shadowCalibration(HOLD.map((r) => recordShadows(evidence, evidence.models[0]!.probs, r))).pvalue).toBeGreaterThan(CALIBRATION_ALPHA);
    expect(obs[1]!.warnings).toHaveLength(1);
    expect(obs[1]!.warnings![0]).toMatch(/^after: the shadows are not calibrated to this model: .*60 holdout records.*KS D = 0\.\d{3}, p = .* < 0\.01\); LiRA's result on after is a lower bound$/);
    // The scores themselves do not change with the warning.
    expect(obs[1]!.splits.forget!.scores).toHaveLength(2);
  });

  it('no holdout records, no test and no warning', async () => {
    const { obs, evidence } = await runCal([]);
    expect(obs.every((o) => o.warnings === undefined)).toBe(true);
    expect(calibrationWarning(evidence, evidence.models[1]!, [])).toBeUndefined();
  });
});
