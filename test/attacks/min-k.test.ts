import { describe, expect, it } from 'vitest';
import type { LmEvidence } from '../../attacks/lm-membership.ts';
import { minK, minKMean } from '../../attacks/min-k/index.ts';
import type { MembershipObservation } from '../../attacks/types.ts';
import { lp, rec, splits } from './helpers.ts';

describe('minKMean', () => {
  const five = [-3, -1, -5, -2, -4]; // unsorted on purpose

  it('averages the ⌊k·n⌋ lowest values', () => {
    expect(minKMean(five, 0.2)).toBe(-5); // ⌊1⌋ = 1
    expect(minKMean(five, 0.4)).toBe(-4.5); // ⌊2⌋ = 2: (−5 − 4) / 2
    expect(minKMean(five, 0.5)).toBe(-4.5); // ⌊2.5⌋ = 2
    expect(minKMean(five, 0.79)).toBe(-4); // ⌊3.95⌋ = 3: (−5 − 4 − 3) / 3
  });

  it('averages everything at k = 1', () => {
    expect(minKMean(five, 1)).toBe(-3);
  });

  it('uses at least one token when k·n < 1', () => {
    expect(minKMean(five, 0.1)).toBe(-5); // ⌊0.5⌋ = 0 → 1
    expect(minKMean([-7], 0.2)).toBe(-7);
  });

  it('floors k·n in float64 like Python int(len * k) (MIMIR)', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => -(i + 1)); // −1 … −100
    // 0.29 · 100 = 28.999999999999996 → 28 tokens: −100 … −73
    expect(minKMean(hundred, 0.29)).toBe(-(100 + 73) / 2);
    // 0.57 · 100 = 56.99999999999999 → 56 tokens: −100 … −45
    expect(minKMean(hundred, 0.57)).toBe(-(100 + 45) / 2);
    // 0.3 · 10 = 3 → 3 tokens
    expect(minKMean([-1, -2, -3, -4, -5, -6, -7, -8, -9, -10], 0.3)).toBe(-9);
  });

  it('sorts numerically, not as strings', () => {
    expect(minKMean([-10, -9, -2, -1], 0.5)).toBe(-9.5);
  });

  it('accepts float32 token signals and sums in float64', () => {
    const xs = Float32Array.from([-0.1, -0.2, -0.3, -0.4]);
    expect(minKMean(xs, 0.5)).toBe((xs[3]! + xs[2]!) / 2);
  });

  it('is NaN for an empty record', () => {
    expect(minKMean([], 0.2)).toBeNaN();
    expect(minKMean(new Float32Array(0), 1)).toBeNaN();
  });
});

describe("attack 'min-k': options", () => {
  it('defaults to k = 0.2 (Shi et al.)', () => {
    expect(minK.options.parse({})).toEqual({ k: 0.2 });
  });

  it('accepts 0 < k ≤ 1 and rejects the rest', () => {
    expect(minK.options.parse({ k: 0.4 })).toEqual({ k: 0.4 });
    expect(minK.options.safeParse({ k: 1 }).success).toBe(true);
    for (const k of [0, -0.1, 1.5, '0.2']) expect(minK.options.safeParse({ k }).success, String(k)).toBe(false);
  });
});

describe("attack 'min-k': evaluate", () => {
  const SPLITS = splits({
    forget: [rec('f1', 'memorised', 's1'), rec('f2', 'memorised too', 's1')],
    retain: [rec('r1', 'retained', 's2')],
    holdout: [rec('h1', 'unseen', 's3'), rec('h2', 'unseen too')],
  });
  // A member has no very unlikely token; a non-member has a few (a name, an order number).
  const EVIDENCE: LmEvidence = {
    models: [
      {
        role: 'before',
        splits: {
          forget: [lp(-0.5, -0.25, -1, -0.5), lp(-1, -1, -0.5, -2)],
          retain: [lp(-0.5, -1.5, -0.5, -0.5)],
          holdout: [lp(-0.5, -0.25, -8, -6), lp(-0.25, -9, -0.5, -0.5)],
        },
      },
      { role: 'after', splits: { forget: [lp(-7, -0.5, -0.5, -6), lp(-1, -9, -0.5, -2)], holdout: [lp(-8, -6), lp(-9)] } },
    ],
  };
  const run = (k?: number) =>
    minK.evaluate(EVIDENCE, {
      options: minK.options.parse(k === undefined ? {} : { k }),
      seed: 1,
      splits: SPLITS,
    }) as MembershipObservation[];

  it('returns one membership observation per model, scores in record order', () => {
    const obs = run(0.5);
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
    expect(obs[0]!.splits).toEqual({
      forget: { ids: ['f1', 'f2'], subjects: ['s1', 's1'], scores: [-0.75, -1.5] },
      retain: { ids: ['r1'], subjects: ['s2'], scores: [-1] },
      holdout: { ids: ['h1', 'h2'], subjects: ['s3', undefined], scores: [-7, -4.75] },
    });
    expect(obs[1]!.splits.forget!.scores).toEqual([-6.5, -5.5]);
  });

  it('uses the k option (default 0.2: one of four tokens)', () => {
    expect(run()[0]!.splits.forget!.scores).toEqual([-1, -2]);
    expect(run(1)[0]!.splits.forget!.scores).toEqual([-0.5625, -1.125]);
  });

  it('gives higher scores to members', () => {
    const before = run()[0]!;
    expect(Math.min(...before.splits.forget!.scores)).toBeGreaterThan(Math.max(...before.splits.holdout!.scores));
  });
});
