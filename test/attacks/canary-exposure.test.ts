import { describe, expect, it } from 'vitest';
import { canaryExposure, exposureOf } from '../../attacks/canary-exposure/index.ts';
import { bits, candidateSecrets } from '../../attacks/canary-exposure/tasks.ts';
import type { ExposureObservation } from '../../attacks/types.ts';
import { exposureSummaries, nullExposure } from '../../src/audit/measure.ts';
import { splits } from './helpers.ts';

describe("attack 'canary-exposure'", () => {
  it('exposure by interpolation: log2 m − log2 rank, ties count against the canary', () => {
    const cands = [10, 20, 30, 40, 50, 60, 70, 80];
    expect(exposureOf(5, cands)).toEqual({ exposure: 3, rank: 1 }); // best of all: log2 8
    expect(exposureOf(100, cands)).toEqual({ exposure: 3 - Math.log2(9), rank: 9 });
    expect(exposureOf(30, cands).rank).toBe(4); // 10, 20 and the tie at 30 rank ahead
  });

  it('the null expectation is 1.4349 bits for m = 1000 and tends to 1/ln 2', () => {
    expect(nullExposure(1000)).toBeCloseTo(1.4349, 4);
    expect(nullExposure(1e5)).toBeCloseTo(1 / Math.LN2, 3);
  });

  it('a canary ranked uniformly at random has the null mean exposure (exhaustive over ranks)', () => {
    const m = 99;
    const cands = Array.from({ length: m }, (_, i) => i + 0.5);
    let total = 0;
    for (let r = 0; r <= m; r++) total += exposureOf(r, cands).exposure;
    expect(total / (m + 1)).toBeCloseTo(nullExposure(m), 12);
  });

  it('candidate secrets: distinct, same shape, seeded, never the secret, capped by the space', () => {
    const a = candidateSecrets('045318', '0123456789', 500, 7);
    expect(new Set(a).size).toBe(500);
    expect(a.every((s) => /^\d{6}$/.test(s) && s !== '045318')).toBe(true);
    expect(candidateSecrets('045318', '0123456789', 500, 7)).toEqual(a);
    expect(candidateSecrets('045318', '0123456789', 500, 8)).not.toEqual(a);
    expect(candidateSecrets('ab', 'ab', 100, 1).sort()).toEqual(['aa', 'ba', 'bb']);
  });

  it('bits = −Σ log2 p over the scored tokens', () => {
    expect(bits(Float32Array.of(Math.log(0.5), Math.log(0.25)))).toBeCloseTo(3, 6);
  });

  it('evaluate and summaries: per canary exposure, p-value, controls against the null', () => {
    const options = canaryExposure.options.parse({
      canaries: [
        { format: 'code {secret}', secret: '1', insertions: 0 },
        { format: 'pin {secret}', secret: '2', insertions: 0 },
        { format: 'key {secret}', secret: '3', insertions: 8 },
      ],
      candidates: 10,
    });
    const cands = Array.from({ length: 9 }, (_, i) => 10 + i);
    const evidence = { models: [{ role: 'before' as const, canaries: [{ px: 14.5, candidates: cands }, { px: 30, candidates: cands }, { px: 1, candidates: cands }] }] };
    const obs = canaryExposure.evaluate(evidence, { options, seed: 1, splits: splits({}) }) as ExposureObservation[];
    expect(obs[0]!.canaries.map((c) => c.rank)).toEqual([6, 10, 1]);
    expect(obs[0]!.canaries[2]).toMatchObject({ insertions: 8, exposure: Math.log2(9), pvalue: 0.1, maxExposure: Math.log2(9) });
    const [summary] = exposureSummaries('canary-exposure', obs);
    expect(summary!.controls!.n).toBe(2);
    expect(summary!.controls!.meanExposure.value).toBeCloseTo((Math.log2(9) - Math.log2(6) + Math.log2(9) - Math.log2(10)) / 2, 12);
    expect(summary!.controls!.expected).toBeCloseTo(nullExposure(9), 12);
  });

  it('options: a format needs exactly one {secret}; at least one canary', () => {
    expect(() => canaryExposure.options.parse({ canaries: [{ format: 'no slot', secret: '1' }] })).toThrow(/secret/);
    expect(() => canaryExposure.options.parse({ canaries: [] })).toThrow();
    expect(canaryExposure.options.parse({ canaries: [{ format: 'a {secret}', secret: '1' }] })).toMatchObject({ candidates: 1000, alphabet: '0123456789' });
  });
});
