import { describe, expect, it } from 'vitest';
import type { LmEvidence } from '../../attacks/lm-membership.ts';
import { reference } from '../../attacks/reference/index.ts';
import type { MembershipObservation } from '../../attacks/types.ts';
import { rec, splits } from './helpers.ts';

const lp = (...xs: number[]) => ({ logprobs: Float32Array.from(xs) });

describe("attack 'reference'", () => {
  it('score = target mean log-prob − reference mean log-prob, per record, for every attacked model', () => {
    const S = splits({ forget: [rec('f1', 'aa', 's1'), rec('f2', 'bb', 's2')], holdout: [rec('h1', 'cc', 's3')] });
    const target: LmEvidence = {
      models: [
        { role: 'before', splits: { forget: [lp(-0.1, -0.1), lp(-0.2, -0.4)], holdout: [lp(-2, -2)] } },
        { role: 'after', splits: { forget: [lp(-2, -2), lp(-1, -3)], holdout: [lp(-2, -2)] } },
      ],
    };
    const base = { role: 'reference' as const, splits: { forget: [lp(-2, -2), lp(-1, -1)], holdout: [lp(-3, -1)] } };
    const obs = reference.evaluate({ target, reference: base }, { options: {}, seed: 1, splits: S }) as MembershipObservation[];
    expect(obs.map((o) => o.model)).toEqual(['before', 'after']);
    expect(obs[0]!.splits.forget!.scores).toEqual([expect.closeTo(1.9, 6), expect.closeTo(0.7, 6)]);
    expect(obs[0]!.splits.holdout!.scores).toEqual([expect.closeTo(0, 6)]);
    expect(obs[1]!.splits.forget!.scores).toEqual([expect.closeTo(0, 6), expect.closeTo(-1, 6)]);
    expect(obs[0]!.splits.forget!.ids).toEqual(['f1', 'f2']);
  });

  it('declares that it needs a reference model and takes no options', () => {
    expect(reference.meta.needsReference).toBe(true);
    expect(reference.options.parse({})).toEqual({});
    expect(() => reference.options.parse({ k: 1 })).toThrow();
  });
});
