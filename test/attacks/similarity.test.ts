import { describe, expect, it } from 'vitest';
import { tokenSimilarity } from '../../attacks/similarity.ts';

describe('tokenSimilarity (1 − levenshtein / max length, over token ids)', () => {
  it('is 1 for identical sequences, including two empty ones', () => {
    expect(tokenSimilarity([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(tokenSimilarity([], [])).toBe(1);
  });

  it('is 0 for disjoint sequences of equal length, and against an empty sequence', () => {
    expect(tokenSimilarity([1, 2, 3], [4, 5, 6])).toBe(0);
    expect(tokenSimilarity([1, 2, 3], [])).toBe(0);
    expect(tokenSimilarity([], [7])).toBe(0);
  });

  it('counts one substitution as one edit', () => {
    expect(tokenSimilarity([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 99, 6, 7, 8, 9, 10])).toBe(0.9);
    expect(tokenSimilarity([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.75);
  });

  it('divides by the longer length (insertions and deletions)', () => {
    expect(tokenSimilarity([1, 2, 3, 4], [1, 2, 3])).toBe(0.75); // one deletion
    expect(tokenSimilarity([1, 2, 3], [1, 2, 3, 4, 5, 6])).toBe(0.5); // three insertions
    expect(tokenSimilarity([2, 3, 4], [1, 2, 3, 4])).toBe(0.75); // shifted by one: one insertion, not four substitutions
  });

  it('is symmetric', () => {
    const a = [5, 1, 4, 1, 5, 9, 2, 6];
    const b = [3, 1, 4, 1, 5, 2, 6, 5, 3];
    expect(tokenSimilarity(a, b)).toBe(tokenSimilarity(b, a));
  });

  it('works for token ids beyond 16 bits and the private-use area (real vocabularies: 50k–250k)', () => {
    expect(tokenSimilarity([200_000, 0xe000, 65_536], [200_000, 0xe000, 65_536])).toBe(1);
    // 0 and 65536 (and 0xE000) are different tokens, even though they agree modulo 2^16.
    expect(tokenSimilarity([0, 65_536, 131_072], [65_536, 0, 0xe000])).toBe(0);
    expect(tokenSimilarity([151_643, 128_000, 50_256, 7], [151_643, 128_000, 50_256, 8])).toBe(0.75);
  });

  it('maps ids to characters per call, so earlier calls do not change later results', () => {
    const many = Array.from({ length: 5000 }, (_, i) => i * 37);
    expect(tokenSimilarity(many, many)).toBe(1);
    expect(tokenSimilarity([1, 2], [1, 3])).toBe(0.5);
  });
});
