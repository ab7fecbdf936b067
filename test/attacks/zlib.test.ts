import { deflate } from 'pako';
import { describe, expect, it } from 'vitest';
import type { LmEvidence } from '../../attacks/lm-membership.ts';
import type { MembershipObservation } from '../../attacks/types.ts';
import { zlib, zlibBytes } from '../../attacks/zlib/index.ts';
import { lp, rec, splits } from './helpers.ts';

const REPETITIVE = 'I love you. '.repeat(20);
const UNICODE = 'Müller – naïve café 東京 😀';

/** Expected values: `len(zlib.compress(s.encode()))` in CPython (zlib 1.2.13), computed once and hard-coded. */
const PYTHON_AGREES: [string, number][] = [
  ['', 8],
  ['a', 9],
  ['hello world', 19],
  ['abcabcabcabcabcabcabcabcabcabc', 13],
  [REPETITIVE, 23],
  [UNICODE, 47], // 36 UTF-8 bytes: UTF-8, not UTF-16 code units
  ['\x00\x01\x02\xff', 13],
];

/**
 * Where Node 20's bundled zlib (1.3.1, Chromium's fork, whose deflate makes different choices) compresses to a
 * different length than CPython's zlib with the same parameters (Node gives 52, 108, 147 and 143). zlibBytes
 * uses pako, which reproduces CPython on all of these and on all 784 fixture records.
 */
const PYTHON_DIFFERS: [string, number][] = [
  ['The quick brown fox jumps over the lazy dog.', 51],
  ['Ticket #4821: Jane Doe <jane.doe@example.com> asked to change her delivery address to 12 Rue de la Paix, Paris.', 110],
  [
    'Escalation: Estefania Fritsch is unhappy that the coffee grinder shows the wrong size again. Order ORD-371823. Prefers phone contact at 555-183-1400 rather than dmtf03@mail.test.',
    150,
  ],
  [
    'Please update the delivery address for order ORD-181037. I will be away until Saturday. Contact me on 555-183-1400 or dmtf03@mail.test. Thank you, Estefania Fritsch.',
    144,
  ],
];

describe('zlibBytes', () => {
  it.each(PYTHON_AGREES)('equals Python len(zlib.compress(s.encode())) for %j', (s, expected) => {
    expect(zlibBytes(s)).toBe(expected);
  });

  it('equals Python on ordinary prose too, where node:zlib would not', () => {
    expect(PYTHON_DIFFERS.map(([s]) => zlibBytes(s))).toEqual(PYTHON_DIFFERS.map(([, n]) => n));
  });

  it('reuses one stream and still equals a fresh pako deflate, whatever came before (long, short, binary, multi-block)', () => {
    // Seeded text: short after long (a stale window tail), incompressible bytes, and inputs past the
    // 64 KB output buffer and past one deflate block, in an order that mixes them.
    let x = 7;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const words = ['order', 'ORD-', 'refund', 'the', 'address', '@mail.test', 'Müller', '555-', 'please', '\n'];
    const texts: string[] = [];
    for (let i = 0; i < 300; i++) {
      const n = [0, 1, 5, 40, 300, 3000, 40000][Math.floor(rnd() * 7)]!;
      texts.push(Array.from({ length: n }, () => (rnd() < 0.2 ? String.fromCharCode(Math.floor(rnd() * 0x3000)) : words[Math.floor(rnd() * words.length)]!)).join(rnd() < 0.5 ? ' ' : ''));
    }
    texts.push('x'.repeat(200000), 'short after a long one', String.fromCharCode(...Array.from({ length: 90000 }, () => Math.floor(rnd() * 256))));
    for (const t of texts) expect(zlibBytes(t)).toBe(deflate(Buffer.from(t, 'utf8')).length);
  });

});

describe("attack 'zlib': evaluate", () => {
  const SPLITS = splits({
    forget: [rec('f1', REPETITIVE, 's1'), rec('f2', UNICODE, 's2')],
    holdout: [rec('h1', 'hello world', 's3')],
  });
  const EVIDENCE: LmEvidence = {
    models: [
      { role: 'before', splits: { forget: [lp(-0.5, -0.5), lp(-0.5, -1)], holdout: [lp(-4, -2)] } },
      { role: 'after', splits: { forget: [lp(-1), lp(-2)], holdout: [lp(-1)] } },
    ],
  };
  const run = () =>
    zlib.evaluate(EVIDENCE, { options: zlib.options.parse({}), seed: 1, splits: SPLITS }) as MembershipObservation[];

  it('has no options', () => {
    expect(zlib.options.parse({})).toEqual({});
  });

  it('returns one membership observation per model', () => {
    expect(run().map((o) => [o.family, o.model])).toEqual([
      ['membership', 'before'],
      ['membership', 'after'],
    ]);
  });

  it('scores mean token log-prob / zlib bytes of the UTF-8 text, in record order', () => {
    const [before, after] = run();
    expect(before!.splits).toEqual({
      forget: { ids: ['f1', 'f2'], subjects: ['s1', 's2'], scores: [-0.5 / 23, -0.75 / 47] },
      holdout: { ids: ['h1'], subjects: ['s3'], scores: [-3 / 19] },
    });
    expect(after!.splits.forget!.scores).toEqual([-1 / 23, -2 / 47]);
  });

  it('discounts text that is merely easy: a repetitive record with lower loss can rank below (higher = member)', () => {
    const [before] = run();
    const [repetitive, prose] = before!.splits.forget!.scores as [number, number];
    // LOSS would rank the repetitive record first (−0.5 > −0.75); the zlib ratio ranks the prose first.
    expect(prose).toBeGreaterThan(repetitive);
    expect(Math.min(repetitive, prose)).toBeGreaterThan(before!.splits.holdout!.scores[0]!);
  });
});
