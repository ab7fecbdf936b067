import { describe, expect, it } from 'vitest';
import { prefixExtraction } from '../../attacks/prefix-extraction/index.ts';
import { collect, type PrefixEvidence, type PrefixItem } from '../../attacks/prefix-extraction/tasks.ts';
import type { ExtractionObservation } from '../../attacks/types.ts';
import { BOS, charTokenizer, memorisingSignals, model, rec, splits } from './helpers.ts';

const TRUTH = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]; // S = 10
const item = (recordId: string, generated: number[]): PrefixItem => ({
  recordId,
  subject: `s-${recordId}`,
  truth: TRUTH,
  generated,
});

const evaluate = (evidence: PrefixEvidence, options: object = {}) =>
  prefixExtraction.evaluate(evidence, {
    options: prefixExtraction.options.parse({ suffixTokens: 10, ...options }),
    seed: 1,
    splits: splits({}),
  }) as ExtractionObservation[];

describe("attack 'prefix-extraction': options", () => {
  it('defaults to P = 32, S = 32 and near hits at similarity ≥ 0.9', () => {
    expect(prefixExtraction.options.parse({})).toEqual({ prefixTokens: 32, suffixTokens: 32, nearSimilarity: 0.9 });
  });

  it('rejects non-positive or fractional token counts and a threshold outside (0, 1]', () => {
    for (const bad of [{ prefixTokens: 0 }, { suffixTokens: -1 }, { prefixTokens: 1.5 }, { nearSimilarity: 0 }, { nearSimilarity: 1.1 }]) {
      expect(prefixExtraction.options.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("attack 'prefix-extraction': evaluate", () => {
  const cases: [string, number[], { hit: boolean; near: boolean; similarity: number }][] = [
    ['exact', [...TRUTH], { hit: true, near: true, similarity: 1 }],
    ['one substitution', [11, 12, 13, 14, 99, 16, 17, 18, 19, 20], { hit: false, near: true, similarity: 0.9 }],
    ['two substitutions', [11, 12, 13, 14, 99, 16, 17, 98, 19, 20], { hit: false, near: false, similarity: 0.8 }],
    ['all wrong', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { hit: false, near: false, similarity: 0 }],
    ['stopped one token early (EOS)', [11, 12, 13, 14, 15, 16, 17, 18, 19], { hit: false, near: true, similarity: 0.9 }],
    ['stopped half way', [11, 12, 13, 14, 15], { hit: false, near: false, similarity: 0.5 }],
    ['nothing generated', [], { hit: false, near: false, similarity: 0 }],
    ['longer than the truth, truth first', [...TRUTH, 21, 22], { hit: true, near: true, similarity: 1 - 2 / 12 }],
    ['longer than the truth, shifted', [0, ...TRUTH], { hit: false, near: true, similarity: 1 - 1 / 11 }],
  ];

  it.each(cases)('%s', (_, generated, expected) => {
    const [obs] = evaluate({ models: [{ role: 'before', splits: { forget: [item('r', generated)] }, skipped: {} }] });
    expect(obs!.trials).toEqual([{ split: 'forget', recordId: 'r', subject: 's-r', target: 'suffix', ...expected }]);
  });

  it('a hit always implies a near hit, whatever the threshold', () => {
    const [obs] = evaluate(
      { models: [{ role: 'before', splits: { forget: [item('r', [...TRUTH, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])] }, skipped: {} }] },
      { nearSimilarity: 1 },
    );
    expect(obs!.trials[0]).toMatchObject({ hit: true, near: true, similarity: 0.5 });
  });

  it('uses the nearSimilarity option', () => {
    const oneOff = [item('r', [11, 12, 13, 14, 99, 16, 17, 18, 19, 20])];
    const ev: PrefixEvidence = { models: [{ role: 'before', splits: { forget: oneOff }, skipped: {} }] };
    expect(evaluate(ev, { nearSimilarity: 0.95 })[0]!.trials[0]!.near).toBe(false);
    expect(evaluate(ev, { nearSimilarity: 0.8 })[0]!.trials[0]!.near).toBe(true);
  });

  it('returns one extraction observation per model, trials in split and record order, skipped passed through', () => {
    const obs = evaluate({
      models: [
        {
          role: 'before',
          splits: { forget: [item('f1', [...TRUTH]), { ...item('f2', [1]), subject: undefined }], holdout: [item('h1', [])] },
          skipped: { forget: 2, holdout: 1 },
        },
        { role: 'after', splits: { forget: [item('f1', [])] }, skipped: {} },
      ],
    });
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['extraction', 'before'],
      ['extraction', 'after'],
    ]);
    expect(obs[0]!.trials.map((t) => [t.split, t.recordId, t.subject, t.hit])).toEqual([
      ['forget', 'f1', 's-f1', true],
      ['forget', 'f2', undefined, false],
      ['holdout', 'h1', 's-h1', false],
    ]);
    expect(obs[0]!.skipped).toEqual({ forget: 2, holdout: 1 });
    expect(obs[1]!.trials).toHaveLength(1);
    expect(obs[1]!.skipped).toEqual({});
  });
});

describe("attack 'prefix-extraction': collect (fake tokenizer and model, no weights)", () => {
  const tok = charTokenizer();
  const texts = { long: 'abcdefgh', exact: 'ABCDE', short: 'wxyz', unseen: 'ijklmnop' };
  // The "model" memorised the first three records, not `unseen`: for that one it emits "?".
  const { signals, calls } = memorisingSignals(tok, [texts.long, texts.exact, texts.short], ['?'.charCodeAt(0)]);
  const ctx = {
    options: prefixExtraction.options.parse({ prefixTokens: 3, suffixTokens: 2 }),
    seed: 1,
    splits: splits({
      forget: [rec('f1', texts.long, 's1'), rec('f2', texts.short, 's1'), rec('f3', texts.exact, 's2')],
      holdout: [rec('h1', texts.unseen, 's3')],
    }),
    models: [model('before')],
    signals,
  };

  it('prompts with BOS + the first P text tokens, decodes S tokens, and counts records shorter than P + S', async () => {
    const evidence = await collect(ctx);
    const codes = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
    expect(calls.map((c) => [c.prompts, c.maxNewTokens])).toEqual([
      [[[BOS, ...codes('abc')], [BOS, ...codes('ABC')]], 2],
      [[[BOS, ...codes('ijk')]], 2],
    ]);
    expect(evidence.models).toHaveLength(1);
    const m = evidence.models[0]!;
    expect(m.role).toBe('before');
    expect(m.skipped).toEqual({ forget: 1 }); // 'wxyz': 4 text tokens < 3 + 2
    expect(m.splits.forget).toEqual([
      { recordId: 'f1', subject: 's1', truth: codes('de'), generated: codes('de') },
      { recordId: 'f3', subject: 's2', truth: codes('DE'), generated: codes('DE') },
    ]);
    expect(m.splits.holdout).toEqual([{ recordId: 'h1', subject: 's3', truth: codes('lm'), generated: codes('?') }]);
    expect(m.splits.retain).toBeUndefined();

    const [obs] = prefixExtraction.evaluate(evidence, ctx) as ExtractionObservation[];
    expect(obs!.trials.map((t) => [t.recordId, t.hit, t.near])).toEqual([
      ['f1', true, true],
      ['f3', true, true],
      ['h1', false, false],
    ]);
  });
});
