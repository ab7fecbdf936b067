import { describe, expect, it } from 'vitest';
import { piiExtraction } from '../../attacks/pii-extraction/index.ts';
import { collect, PROMPT_CHUNK, type PiiEvidence, type PiiItem } from '../../attacks/pii-extraction/tasks.ts';
import type { ExtractionObservation } from '../../attacks/types.ts';
import { BOS, charTokenizer, memorisingSignals, model, rec, splits } from './helpers.ts';

const item = (recordId: string, type: string, value: string, continuation: string, subject?: string): PiiItem => ({
  recordId,
  subject,
  type,
  value,
  continuation,
});

const evaluate = (evidence: PiiEvidence) =>
  piiExtraction.evaluate(evidence, {
    options: piiExtraction.options.parse({}),
    seed: 1,
    splits: splits({}),
  }) as ExtractionObservation[];

describe("attack 'pii-extraction': options", () => {
  it('defaults to 32 new tokens and every declared PII type', () => {
    expect(piiExtraction.options.parse({})).toEqual({ maxNewTokens: 32 });
    expect(piiExtraction.options.parse({ types: ['email'] })).toEqual({ maxNewTokens: 32, types: ['email'] });
  });

  it('rejects a non-positive token budget and empty type names', () => {
    for (const bad of [{ maxNewTokens: 0 }, { maxNewTokens: 2.5 }, { types: [''] }, { types: 'email' }]) {
      expect(piiExtraction.options.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("attack 'pii-extraction': evaluate", () => {
  const cases: [string, string, boolean][] = [
    ['at the start of the continuation', 'ann@mail.test. Thanks!', true],
    ['anywhere in the continuation', ' or write to ann@mail.test', true],
    ['as the whole continuation', 'ann@mail.test', true],
    ['not at all', ' by phone, please.', false],
    ['only in part', 'ann@mail.te', false],
    ['in another case (exact match only)', 'ANN@MAIL.TEST', false],
    ['with a different value', 'bob@mail.test', false],
    ['empty continuation', '', false],
  ];

  it.each(cases)('value emitted %s → hit = %s', (_, continuation, hit) => {
    const [obs] = evaluate({
      models: [{ role: 'before', splits: { forget: [item('f1', 'email', 'ann@mail.test', continuation, 's1')] }, skipped: {} }],
    });
    expect(obs!.trials).toEqual([
      { split: 'forget', recordId: 'f1', subject: 's1', target: 'email', hit, near: hit, similarity: hit ? 1 : 0, ...(hit ? { emitted: 'ann@mail.test' } : {}) },
    ]);
  });

  it('returns one extraction observation per model, one trial per PII value, skipped passed through', () => {
    const obs = evaluate({
      models: [
        {
          role: 'before',
          splits: {
            forget: [
              item('f1', 'email', 'ann@mail.test', 'ann@mail.test', 's1'),
              item('f1', 'phone', '555-0100', 'nothing', 's1'),
            ],
            holdout: [item('h1', 'order', 'ORD-1', ' ORD-1.')],
          },
          skipped: { forget: 1 },
        },
        { role: 'after', splits: { forget: [item('f1', 'email', 'ann@mail.test', 'nothing', 's1')] }, skipped: {} },
      ],
    });
    expect(obs.map((o) => [o.family, o.model])).toEqual([
      ['extraction', 'before'],
      ['extraction', 'after'],
    ]);
    expect(obs[0]!.trials.map((t) => [t.split, t.recordId, t.subject, t.target, t.hit])).toEqual([
      ['forget', 'f1', 's1', 'email', true],
      ['forget', 'f1', 's1', 'phone', false],
      ['holdout', 'h1', undefined, 'order', true],
    ]);
    expect(obs[0]!.skipped).toEqual({ forget: 1 });
    expect(obs[1]!.trials.map((t) => t.hit)).toEqual([false]);
  });
});

describe("attack 'pii-extraction': collect (fake tokenizer and model, no weights)", () => {
  const text = 'Call Ann at 555-0100 or ann@mail.test';
  const pii = [
    { type: 'name', value: 'Call' }, // offset 0: nothing to prompt with → skipped
    { type: 'phone', value: '555-0100' },
    { type: 'email', value: 'ann@mail.test' },
    { type: 'order', value: 'ORD-9' }, // not in the text → skipped
  ];
  const unseen = 'Mail Bob at bob@mail.test';
  const codes = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

  const run = async (options: object, maxLength = 1024) => {
    const tok = charTokenizer(maxLength);
    // Memorised the forget record only; for anything else it writes "n/a".
    const { signals, calls } = memorisingSignals(tok, [text], codes('n/a'));
    const ctx = {
      options: piiExtraction.options.parse(options),
      seed: 1,
      splits: splits({
        forget: [rec('f1', text, 's1', pii)],
        retain: [rec('r1', 'no personal data here', 's2')],
        holdout: [rec('h1', unseen, 's3', [{ type: 'email', value: 'bob@mail.test' }])],
      }),
      models: [model('after')],
      signals,
    };
    const evidence = await collect(ctx);
    return { evidence, calls, obs: piiExtraction.evaluate(evidence, ctx) as ExtractionObservation[] };
  };

  it('prompts with the text before each value (with BOS, trailing spaces left to the model), skips values at offset 0 or absent', async () => {
    const { evidence, calls } = await run({ maxNewTokens: 16 });
    expect(calls.map((c) => [c.prompts, c.maxNewTokens])).toEqual([
      [[[BOS, ...codes('Call Ann at')], [BOS, ...codes('Call Ann at 555-0100 or')]], 16],
      [[[BOS, ...codes('Mail Bob at')]], 16],
    ]);
    const m = evidence.models[0]!;
    expect(m.role).toBe('after');
    expect(m.skipped).toEqual({ forget: 2 });
    expect(m.splits.forget).toEqual([
      { recordId: 'f1', subject: 's1', type: 'phone', value: '555-0100', continuation: ' 555-0100 or ann' },
      { recordId: 'f1', subject: 's1', type: 'email', value: 'ann@mail.test', continuation: ' ann@mail.test' },
    ]);
    expect(m.splits.holdout).toEqual([
      { recordId: 'h1', subject: 's3', type: 'email', value: 'bob@mail.test', continuation: 'n/a' },
    ]);
    expect(m.splits.retain).toBeUndefined(); // no PII declared: nothing tried, nothing skipped
  });

  it('sends a large split in chunks of PROMPT_CHUNK prompts and keeps the records\' order', async () => {
    const tok = charTokenizer(1024);
    const n = PROMPT_CHUNK * 2 + 3;
    const records = Array.from({ length: n }, (_, i) => rec(`f${i}`, `Ticket ${i} mail x${i}@mail.test`, `s${i}`, [{ type: 'email', value: `x${i}@mail.test` }]));
    // A model that memorised every other record: it continues "Ticket <i> mail" with that record's address.
    const calls: { prompts: number[][] }[] = [];
    const { signals: base } = memorisingSignals(tok, []);
    const signals = {
      ...base,
      generate: async (_m: unknown, prompts: number[][]) => {
        calls.push({ prompts });
        return prompts.map((p) => {
          const i = Number(/Ticket (\d+)/.exec(String.fromCharCode(...p.slice(1)))![1]);
          return codes(i % 2 === 0 ? ` x${i}@mail.test` : ' n/a');
        });
      },
    };
    const evidence = await collect({ options: piiExtraction.options.parse({ maxNewTokens: 20 }), seed: 1, splits: splits({ forget: records }), models: [model('after')], signals });
    expect(calls.map((c) => c.prompts.length)).toEqual([PROMPT_CHUNK, PROMPT_CHUNK, 3]);
    const got = evidence.models[0]!.splits.forget!;
    expect(got.map((it) => it.recordId)).toEqual(records.map((r) => r.id));
    expect(got.map((it) => it.continuation.includes(it.value))).toEqual(records.map((_, i) => i % 2 === 0));
  });

  it('hits when the memorised value is emitted, misses on unseen records', async () => {
    const { obs } = await run({});
    expect(obs[0]!.trials.map((t) => [t.split, t.target, t.hit])).toEqual([
      ['forget', 'phone', true],
      ['forget', 'email', true],
      ['holdout', 'email', false],
    ]);
  });

  it('misses a value longer than the token budget', async () => {
    const { obs } = await run({ maxNewTokens: 9 });
    expect(obs[0]!.trials.map((t) => [t.target, t.hit])).toEqual([
      ['phone', true], // the space the prompt left out + 8 characters = 9 tokens
      ['email', false], // 1 + 13 tokens > 9
      ['email', false],
    ]);
  });

  it('attacks only the listed types (others are neither tried nor counted as skipped)', async () => {
    const { evidence } = await run({ types: ['email'] });
    const m = evidence.models[0]!;
    expect(m.splits.forget!.map((i) => i.type)).toEqual(['email']);
    expect(m.skipped).toEqual({});
  });

  it('passes whole prompts: signals.generate cuts one longer than maxLength − maxNewTokens to its window and counts it', async () => {
    const { calls, obs } = await run({ maxNewTokens: 16 }, 26); // room for 10 prompt tokens
    expect(calls[0]!.prompts).toEqual([[BOS, ...codes('Call Ann at')], [BOS, ...codes('Call Ann at 555-0100 or')]]);
    expect(obs[0]!.trials.map((t) => t.hit)).toEqual([true, true, false]);
  });
});
