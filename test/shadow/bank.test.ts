/** The shadow bank's pure parts: the pool, the paired membership, the content hash, bag-of-tokens vectors. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { bagOfTokens, base64ToF32, f32ToBase64, poolHash, shadowMembership, shadowPool } from '../../src/shadow/bank.ts';
import type { DataRecord } from '../../src/types.ts';

const rec = (id: string, features: number[], label = 0): DataRecord => ({ id, text: '', features, label });

describe('shadowPool', () => {
  it('is population first, then forget, retain, holdout, each id once', () => {
    const f = rec('f', [1, 2]);
    const { pool, dim } = shadowPool({ population: [rec('p', [0, 0])], forget: [f], retain: [rec('r', [3, 4])], holdout: [rec('h', [5, 6]), f] });
    expect(pool.map((r) => r.id)).toEqual(['p', 'f', 'r', 'h']);
    expect(dim).toBe(2);
  });

  it('rejects records without features or label, or of another width, as input errors', () => {
    expect(() => shadowPool({ forget: [{ id: 'x', text: 't', label: 1 }], retain: [], holdout: [] })).toThrow(InputError);
    expect(() => shadowPool({ forget: [{ id: 'x', text: '', features: [1] }], retain: [], holdout: [] })).toThrow(/no label/);
    expect(() => shadowPool({ forget: [rec('a', [1, 2]), rec('b', [1])], retain: [], holdout: [] })).toThrow(/1 features but record "a" has 2/);
  });
});

describe('shadowMembership (paired)', () => {
  const ids = Array.from({ length: 500 }, (_, i) => `id${i}`);
  it('puts every record in exactly one shadow of each pair, about half the records in each', () => {
    for (const pair of [0, 1, 7]) {
      const a = shadowMembership(ids, 2 * pair, 3);
      const b = shadowMembership(ids, 2 * pair + 1, 3);
      a.forEach((x, i) => expect(x + b[i]!).toBe(1));
      const n = a.reduce((s, x) => s + x, 0);
      expect(n).toBeGreaterThan(200);
      expect(n).toBeLessThan(300);
    }
  });

  it('depends on the seed and the record id, not on the pool around it', () => {
    const full = shadowMembership(ids, 4, 3);
    const part = shadowMembership(ids.slice(100, 200), 4, 3);
    expect(Array.from(part)).toEqual(Array.from(full.subarray(100, 200)));
    expect(Array.from(shadowMembership(ids, 4, 4))).not.toEqual(Array.from(full));
    expect(Array.from(shadowMembership(ids, 2, 3))).not.toEqual(Array.from(full));
  });
});

describe('poolHash and base64 round trip', () => {
  it('changes with a feature, a label or an id, and is stable otherwise', () => {
    const pool = [rec('a', [1, 2], 0), rec('b', [3, 4], 1)];
    const h = poolHash(pool, 2);
    expect(poolHash([rec('a', [1, 2], 0), rec('b', [3, 4], 1)], 2)).toBe(h);
    expect(poolHash([rec('a', [1, 2], 0), rec('b', [3, 5], 1)], 2)).not.toBe(h);
    expect(poolHash([rec('a', [1, 2], 0), rec('b', [3, 4], 0)], 2)).not.toBe(h);
    expect(poolHash([rec('a', [1, 2], 0), rec('c', [3, 4], 1)], 2)).not.toBe(h);
  });

  it('float32 arrays survive base64 bit for bit', () => {
    const a = Float32Array.from([0, -0, 1e-45, 3.4e38, Math.PI, NaN]);
    expect(Array.from(base64ToF32(f32ToBase64(a)))).toEqual(Array.from(a));
    expect(Array.from(base64ToF32(f32ToBase64(a.subarray(2, 4))))).toEqual(Array.from(a.subarray(2, 4)));
  });
});

describe('bagOfTokens', () => {
  it('is token frequencies, ids hashed modulo the width', () => {
    expect(bagOfTokens([1, 1, 2, 5], 4)).toEqual([0, 0.75, 0.25, 0]);
    expect(bagOfTokens([], 3)).toEqual([0, 0, 0]);
  });
});

describe('trueClassConfidence', () => {
  it('equals p_y on a normalised vector, and reads 1 − p_y from the other classes when p_y rounds to 1 in float32', async () => {
    const { trueClassConfidence } = await import('../../src/shadow/bank.ts');
    const { logit } = await import('../../src/shadow/scores.ts');
    expect(trueClassConfidence([0.2, 0.5, 0.3], 1)).toBeCloseTo(0.5, 15);
    const memorised = Float32Array.from([1e-9, 1, 2e-9]); // p_y = 1 − 3e-9, stored as 1.0f
    expect(memorised[1]).toBe(1);
    const p = trueClassConfidence(memorised, 1);
    expect(p).toBeLessThan(1);
    expect(logit(p)).toBeCloseTo(Math.log(1 / (Math.fround(1e-9) + Math.fround(2e-9))), 6); // ≈ 19.6, not the 27.6 clip
    expect(trueClassConfidence([0, 0.5, 0.5], 0)).toBe(0);
    // A row of a row-major matrix.
    expect(trueClassConfidence([9, 9, 0.25, 0.75], 1, 2, 2)).toBe(0.75);
  });
});
