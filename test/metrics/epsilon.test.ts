import { describe, expect, it } from 'vitest';
import { epsilonFromCounts, epsilonLowerBound } from '../../src/metrics/index.ts';

describe('empirical ε lower bound', () => {
  it('golden values: 500 vs 500 perfectly separated gives 4.906 at 95% and 4.54 at 99% (research anchors §3.11)', () => {
    expect(epsilonFromCounts(0, 500, 0, 500, { level: 0.95 })).toBeCloseTo(4.906, 3);
    expect(epsilonFromCounts(0, 500, 0, 500, { level: 0.99 })).toBeCloseTo(4.54, 2);
    expect(epsilonFromCounts(0, 1000, 0, 1000, { level: 0.95 })).toBeCloseTo(5.6, 1);
  });

  it('no separation gives 0; δ lowers the bound', () => {
    expect(epsilonFromCounts(250, 500, 250, 500)).toBe(0);
    expect(epsilonFromCounts(10, 500, 50, 500, { delta: 0.1 })).toBeLessThan(epsilonFromCounts(10, 500, 50, 500));
  });

  it('split threshold: a perfect attack reaches the cap of its held-out n; noise stays near 0; seeded', () => {
    const pos = Array.from({ length: 400 }, (_, i) => 10 + i);
    const neg = Array.from({ length: 400 }, (_, i) => -i);
    const perfect = epsilonLowerBound(pos, neg, { seed: 1 });
    expect(perfect.lowerBound).toBe(perfect.cap);
    expect(perfect.n).toEqual({ positive: 200, negative: 200 });
    const same = Array.from({ length: 400 }, (_, i) => Math.sin(i * 7.1));
    const noise = epsilonLowerBound(same, same.map((x) => -x), { seed: 1 });
    expect(noise.lowerBound).toBeLessThan(0.5);
    expect(epsilonLowerBound(pos, neg, { seed: 1 })).toEqual(perfect);
  });
});

describe('empirical ε lower bound: tiny samples', () => {
  it('a side with one score has nothing to hold out: bound and cap 0', () => {
    expect(epsilonLowerBound([1], [0, 0.5, 0.2], { seed: 1 })).toMatchObject({ lowerBound: 0, cap: 0 });
  });
});
