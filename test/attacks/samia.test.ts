import { xoroshiro128plus } from 'pure-rand';
import { describe, expect, it } from 'vitest';
import { getAttack } from '../../attacks/index.ts';
import { CHAT_WARNING, rouge1Recall, samia, samiaOptions, samiaScore } from '../../attacks/samia/index.ts';
import { splitRecord, words, type SamiaEvidence } from '../../attacks/samia/tasks.ts';
import type { MembershipObservation, ModelUnderTest, SampleOptions, Signals } from '../../attacks/types.ts';
import { temperatureChooser } from '../../src/models/hf.ts';
import { charTokenizer, rec, splits } from './helpers.ts';

const w = (s: string) => words(s);

describe("attack 'samia': ROUGE-1 recall", () => {
  it('is clipped unigram matches over the reference length (hand-computed)', () => {
    // Reference: the cat is on the mat (6 words). Candidate has the×2 cat sat on mat: the, cat, on, the, mat match.
    expect(rouge1Recall(w('the cat sat on the mat'), w('the cat is on the mat'))).toBe(5 / 6);
    // A word repeated in the candidate matches at most as often as it is in the reference, and vice versa.
    expect(rouge1Recall(w('the the the'), w('the cat'))).toBe(1 / 2);
    expect(rouge1Recall(w('the'), w('the the'))).toBe(1 / 2);
    // Recall, not F: a long candidate that contains the reference scores 1.
    expect(rouge1Recall(w('x y the cat z sat w'), w('the cat sat'))).toBe(1);
    // Order does not matter (unigrams).
    expect(rouge1Recall(w('mat the on'), w('on the mat'))).toBe(1);
  });

  it('compares words as written: case and punctuation count, as in the reference code', () => {
    expect(rouge1Recall(w('The Mat'), w('the mat'))).toBe(0);
    expect(rouge1Recall(w('mat.'), w('mat'))).toBe(0);
  });

  it('is 0 when the candidate or the reference is empty', () => {
    expect(rouge1Recall([], w('a b'))).toBe(0);
    expect(rouge1Recall(w('a b'), [])).toBe(0);
  });
});

describe("attack 'samia': prefix split", () => {
  it('gives the first ⌊W · ratio⌋ words as the prefix (joined by one space) and the rest as the reference', () => {
    expect(splitRecord('a b c d e', 0.5)).toEqual({ prefix: 'a b', reference: ['c', 'd', 'e'] });
    expect(splitRecord('a b c d', 0.5)).toEqual({ prefix: 'a b', reference: ['c', 'd'] });
    expect(splitRecord('  a\n b\t c  d ', 0.75)).toEqual({ prefix: 'a b c', reference: ['d'] });
  });

  it('keeps at least one word on each side, and gives up below two words', () => {
    expect(splitRecord('a b c d e', 0.1)).toEqual({ prefix: 'a', reference: ['b', 'c', 'd', 'e'] });
    expect(splitRecord('a b', 0.99)).toEqual({ prefix: 'a', reference: ['b'] });
    expect(splitRecord('one', 0.5)).toBeUndefined();
    expect(splitRecord('  ', 0.5)).toBeUndefined();
  });
});

describe("attack 'samia': score", () => {
  const item = { reference: w('the cat is on the mat'), samples: ['the cat sat on the mat', '', 'dog'] };
  it('is the mean over samples of ROUGE-1 recall', () => {
    expect(samiaScore(item, false)).toBeCloseTo(5 / 6 / 3, 15);
  });
  it("with zlib, multiplies each sample's recall by the zlib size of its words (Python's len(zlib.compress(...)))", () => {
    // len(zlib.compress(b'the cat sat on the mat')) == 27 in Python 3.
    expect(samiaScore(item, true)).toBeCloseTo(((5 / 6) * 27) / 3, 12);
    // Joined by one space: len(zlib.compress(b'cat cat')) == 15.
    expect(samiaScore({ reference: ['cat'], samples: [' cat \n cat'] }, true)).toBe(15);
  });
});

describe("attack 'samia': options", () => {
  it('defaults to the paper: prefix ratio 0.5, 10 samples at temperature 1, no zlib; 64 new tokens', () => {
    expect(samiaOptions.parse({})).toEqual({ prefixRatio: 0.5, samples: 10, maxNewTokens: 64, temperature: 1, zlib: false });
  });

  it.each([
    [{ prefixRatio: 0 }],
    [{ prefixRatio: 1 }],
    [{ samples: 0 }],
    [{ samples: 101 }],
    [{ samples: 2.5 }],
    [{ maxNewTokens: 0 }],
    [{ temperature: 0 }],
    [{ temperature: -1 }],
    [{ zlib: 'yes' }],
    [{ sample: 4 }],
  ])('rejects %j', (o) => {
    expect(samiaOptions.safeParse(o).success).toBe(false);
  });

  it('accepts the edges', () => {
    expect(samiaOptions.safeParse({ prefixRatio: 0.01, samples: 1, maxNewTokens: 1, temperature: 0.1, zlib: true }).success).toBe(true);
    expect(samiaOptions.safeParse({ samples: 100 }).success).toBe(true);
  });
});

describe("attack 'samia': registry entry", () => {
  it('is registered as a membership attack that needs sampling only', () => {
    expect(getAttack('samia')).toBe(samia);
    expect(samia.meta.family).toBe('membership');
    expect(samia.meta.requires).toEqual(['sample']);
    expect(samia.meta.reference).toMatch(/Kaneko.*2404\.11262/);
  });
});

describe("attack 'samia': collect and evaluate", () => {
  const tok = charTokenizer();
  const SPLITS = splits({
    forget: [rec('f1', 'alpha beta gamma delta', 's1'), rec('f2', 'short', 's2')],
    holdout: [rec('h1', 'one two three four', 's3')],
  });
  const model = (role: 'before' | 'after', generation?: 'chat'): ModelUnderTest => ({
    role,
    sha256: role,
    capabilities: new Set(['sample']),
    ...(generation ? { generation } : {}),
  });

  /** A "model" that continues "alpha beta" with its true suffix and anything else with "zzz". */
  function fakeSignals() {
    const calls: { role: string; prompts: string[]; o: SampleOptions }[] = [];
    const signals = {
      tokenizer: async () => tok,
      sample: async (m: ModelUnderTest, prompts: number[][], o: SampleOptions) => {
        calls.push({ role: m.role, prompts: prompts.map((p) => tok.decode(p)), o });
        return prompts.map((p) => Array.from({ length: o.n }, (_, j) => tok.encode(tok.decode(p) === 'alpha beta' ? (j === 0 ? ' gamma delta' : ' gamma x') : ' zzz').slice(1)));
      },
    } as unknown as Signals;
    return { signals, calls };
  }

  it('samples from each prefix with the options and the seed, and scores the suffix recall per record', async () => {
    const { signals, calls } = fakeSignals();
    const options = samiaOptions.parse({ samples: 2, maxNewTokens: 8, temperature: 0.7 });
    const models = [model('before', 'chat'), model('after')];
    const evidence = (await samia.collect({ options, seed: 9, splits: SPLITS, models, signals })) as SamiaEvidence;
    expect(calls).toEqual([
      { role: 'before', prompts: ['alpha beta'], o: { n: 2, maxNewTokens: 8, temperature: 0.7, seed: 9 } },
      { role: 'before', prompts: ['one two'], o: { n: 2, maxNewTokens: 8, temperature: 0.7, seed: 9 } },
      { role: 'after', prompts: ['alpha beta'], o: { n: 2, maxNewTokens: 8, temperature: 0.7, seed: 9 } },
      { role: 'after', prompts: ['one two'], o: { n: 2, maxNewTokens: 8, temperature: 0.7, seed: 9 } },
    ]);
    const obs = samia.evaluate(evidence, { options, seed: 9, splits: SPLITS }) as MembershipObservation[];
    // f1: samples "gamma delta" (recall 1) and "gamma x" (1/2) → 3/4; f2 too short → 0; h1: "zzz" → 0.
    expect(obs[0]!.splits).toEqual({
      forget: { ids: ['f1', 'f2'], subjects: ['s1', 's2'], scores: [0.75, 0] },
      holdout: { ids: ['h1'], subjects: ['s3'], scores: [0] },
    });
    // The chat-only model says it is a lower bound; both say which record could not be split.
    expect(obs[0]!.warnings).toEqual([
      `models.before: ${CHAT_WARNING}`,
      'models.before: 1 record(s) of fewer than 2 words could not be split and were scored 0',
    ]);
    expect(obs[1]!.warnings).toEqual(['models.after: 1 record(s) of fewer than 2 words could not be split and were scored 0']);
    expect(CHAT_WARNING).toMatch(/^no prompt likelihoods available; sampling attack only; a lower bound of what a logprob attack would show/);
  });
});

describe('temperature sampling (local models)', () => {
  const freq = (logits: number[], temperature: number, draws = 20000) => {
    const pick = temperatureChooser(xoroshiro128plus(42), temperature);
    const l = Float32Array.from(logits);
    let ones = 0;
    for (let i = 0; i < draws; i++) ones += pick(l) === 1 ? 1 : 0;
    return ones / draws;
  };
  it('draws from softmax(logits / T)', () => {
    // p(1) = 3/4 at T = 1; at T = 2, softmax of [0, ln3 / 2] gives √3 / (1 + √3) ≈ 0.634.
    expect(freq([0, Math.log(3)], 1)).toBeCloseTo(0.75, 1);
    expect(Math.abs(freq([0, Math.log(3)], 2) - Math.sqrt(3) / (1 + Math.sqrt(3)))).toBeLessThan(0.02);
    expect(Math.abs(freq([0, Math.log(3)], 1) - 0.75)).toBeLessThan(0.02);
    expect(freq([-Infinity, 0], 1)).toBe(1);
  });
  it('is deterministic for a generator state, and refuses T ≤ 0', () => {
    const run = () => {
      const pick = temperatureChooser(xoroshiro128plus(7), 1);
      return Array.from({ length: 50 }, () => pick(Float32Array.from([0.1, 0.2, 0.3])));
    };
    expect(run()).toEqual(run());
    expect(() => temperatureChooser(xoroshiro128plus(1), 0)).toThrow(/temperature/);
  });
});
