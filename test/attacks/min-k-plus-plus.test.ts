import { describe, expect, it } from 'vitest';
import type { LmEvidence } from '../../attacks/lm-membership.ts';
import { minKPlusPlus, normalisedTokenScores } from '../../attacks/min-k-plus-plus/index.ts';
import type { MembershipObservation } from '../../attacks/types.ts';
import { rec, splits } from './helpers.ts';

const sig = (lp: number[], mu: number[], sigma: number[]) => ({
  logprobs: Float32Array.from(lp),
  mu: Float32Array.from(mu),
  sigma: Float32Array.from(sigma),
});

describe("attack 'min-k-plus-plus'", () => {
  it('standardises each token against the model distribution at that position', () => {
    const z = normalisedTokenScores(sig([-1, -2, -0.5], [-2, -2, -1], [0.5, 1, 0.25]));
    expect(Array.from(z)).toEqual([2, 0, 2]);
  });

  it('needs the vocabulary statistics', () => {
    expect(() => normalisedTokenScores({ logprobs: Float32Array.of(-1) })).toThrow(/tokenStats/);
  });

  it('scores = mean of the k% lowest z, higher = member, one observation per model in record order', () => {
    const S = splits({ forget: [rec('f1', 'aaaa', 's1')], holdout: [rec('h1', 'bbbb', 's2')] });
    const evidence: LmEvidence = {
      models: [
        {
          role: 'before',
          splits: {
            // memorised: every token is the mode (z high)
            forget: [sig([-0.1, -0.1, -0.1, -0.1, -0.1], [-1, -1, -1, -1, -1], [0.5, 0.5, 0.5, 0.5, 0.5])],
            // unseen: one token far below the expected log-prob
            holdout: [sig([-0.1, -5, -0.1, -0.1, -0.1], [-1, -1, -1, -1, -1], [0.5, 0.5, 0.5, 0.5, 0.5])],
          },
        },
      ],
    };
    const [o] = minKPlusPlus.evaluate(evidence, { options: { k: 0.2 }, seed: 1, splits: S }) as MembershipObservation[];
    expect(o!.model).toBe('before');
    expect(o!.splits.forget!.scores[0]).toBeCloseTo(1.8, 5); // (−0.1 + 1)/0.5, one token (⌊0.2·5⌋ = 1)
    expect(o!.splits.holdout!.scores[0]).toBeCloseTo(-8, 5); // (−5 + 1)/0.5
    expect(o!.splits.forget!.scores[0]!).toBeGreaterThan(o!.splits.holdout!.scores[0]!);
  });

  it('options: k defaults to 0.2 and must be in (0, 1]', () => {
    expect(minKPlusPlus.options.parse({})).toEqual({ k: 0.2 });
    expect(() => minKPlusPlus.options.parse({ k: 0 })).toThrow();
  });
});
