import { describe, expect, it } from 'vitest';
import { mean, type LmEvidence } from '../../attacks/lm-membership.ts';
import { loss } from '../../attacks/loss/index.ts';
import type { MembershipObservation } from '../../attacks/types.ts';
import { lp, rec, splits } from './helpers.ts';

const SPLITS = splits({
  forget: [rec('f1', 'first forget record', 's1'), rec('f2', 'second forget record', 's2')],
  retain: [rec('r1', 'a retained record', 's3')],
  holdout: [rec('h1', 'an unseen record'), rec('h2', 'another unseen record', 's5')],
});

// Log-probabilities exactly representable in float32, so the expected means are exact.
const EVIDENCE: LmEvidence = {
  models: [
    {
      role: 'before',
      splits: {
        forget: [lp(-0.5, -0.5), lp(-0.25, -0.75, -1.25)],
        retain: [lp(-1, -0.5)],
        holdout: [lp(-2, -4), lp(-3)],
      },
    },
    // After deletion: the forget records look like holdout records; retain was not scored.
    { role: 'after', splits: { forget: [lp(-2.5, -3.5), lp(-4, -2)], holdout: [lp(-2, -4), lp(-3)] } },
  ],
};

const run = () =>
  loss.evaluate(EVIDENCE, { options: loss.options.parse({}), seed: 1, splits: SPLITS }) as MembershipObservation[];

describe('mean', () => {
  it('is the float64 mean of float32 values, NaN when empty', () => {
    const xs = Float32Array.from([-0.1, -0.2, -0.3]);
    expect(mean(xs)).toBe((xs[0]! + xs[1]! + xs[2]!) / 3);
    expect(mean([-1, -2])).toBe(-1.5);
    expect(mean(new Float32Array(0))).toBeNaN();
  });
});

describe("attack 'loss': evaluate", () => {
  it('has no options', () => {
    expect(loss.options.parse({})).toEqual({});
  });

  it('returns one membership observation per model, in evidence order', () => {
    const obs = run();
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
  });

  it('scores every record with its mean token log-probability (= −mean NLL), in record order', () => {
    const [before] = run();
    expect(before!.splits).toEqual({
      forget: { ids: ['f1', 'f2'], subjects: ['s1', 's2'], scores: [-0.5, -0.75] },
      retain: { ids: ['r1'], subjects: ['s3'], scores: [-0.75] },
      holdout: { ids: ['h1', 'h2'], subjects: [undefined, 's5'], scores: [-3, -3] },
    });
  });

  it('omits a split that has no evidence', () => {
    const after = run()[1]!;
    expect(Object.keys(after.splits)).toEqual(['forget', 'holdout']);
    expect(after.splits.forget!.scores).toEqual([-3, -3]);
  });

  it('gives higher scores to records the model is more confident on (higher = member)', () => {
    const [before, after] = run();
    const minForget = Math.min(...before!.splits.forget!.scores);
    const maxHoldout = Math.max(...before!.splits.holdout!.scores);
    expect(minForget).toBeGreaterThan(maxHoldout);
    // After deletion the forget records are scored like the holdout records.
    expect(after!.splits.forget!.scores).toEqual(after!.splits.holdout!.scores.map(() => -3));
  });

  it('gives NaN for a record with no scored token (the metrics stage rejects it loudly)', () => {
    const obs = loss.evaluate(
      { models: [{ role: 'before', splits: { holdout: [lp()] } }] },
      { options: {}, seed: 1, splits: splits({ holdout: [rec('h', 'x')] }) },
    ) as MembershipObservation[];
    expect(obs[0]!.splits.holdout!.scores[0]).toBeNaN();
  });
});
