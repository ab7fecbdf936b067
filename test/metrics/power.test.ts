import { describe, expect, it } from 'vitest';
import { aucHalfWidth, hanleyMcNeilSE, minDetectableAuc, normalQuantile } from '../../src/metrics/index.ts';

describe('normalQuantile', () => {
  it('gives the usual z values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 14);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 14);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalQuantile(0.5)).toBe(0);
  });
});

describe('Hanley–McNeil', () => {
  it('SE at AUC 0.5 is sqrt((1/4 + (n⁺+n⁻−2)/12)/(n⁺n⁻))', () => {
    expect(hanleyMcNeilSE(0.5, 100, 100)).toBeCloseTo(Math.sqrt((0.25 + 198 / 12) / 10000), 15);
    expect(hanleyMcNeilSE(1, 10, 10)).toBe(0);
  });

  it('95% half-width near AUC 0.5 matches DESIGN.md: ~0.08 (100v100), ~0.057 (200v200), ~0.1 (48v120)', () => {
    expect(aucHalfWidth(100, 100)).toBeCloseTo(0.08, 2);
    expect(aucHalfWidth(200, 200)).toBeCloseTo(0.057, 3);
    expect(aucHalfWidth(48, 120)).toBeCloseTo(0.1, 2);
    expect(aucHalfWidth(100, 100, 0.99)).toBeGreaterThan(aucHalfWidth(100, 100));
  });

  it('minDetectableAuc solves z_α·SE(0.5) + z_power·SE(A) = A − 0.5', () => {
    for (const [np, nn] of [
      [100, 100],
      [200, 200],
      [48, 120],
      [1000, 50],
    ] as const) {
      const a = minDetectableAuc(np, nn);
      expect(a).toBeGreaterThan(0.5);
      expect(a).toBeLessThan(1);
      const lhs = normalQuantile(0.95) * hanleyMcNeilSE(0.5, np, nn) + normalQuantile(0.8) * hanleyMcNeilSE(a, np, nn);
      expect(Math.abs(lhs - (a - 0.5))).toBeLessThan(1e-9);
    }
  });

  it('more data detects smaller effects; stricter tests need larger ones', () => {
    expect(minDetectableAuc(200, 200)).toBeLessThan(minDetectableAuc(100, 100));
    expect(minDetectableAuc(100, 100, { alpha: 0.01 })).toBeGreaterThan(minDetectableAuc(100, 100));
    expect(minDetectableAuc(100, 100, { power: 0.9 })).toBeGreaterThan(minDetectableAuc(100, 100));
  });

  it('returns NaN when no AUC <= 1 is detectable', () => {
    expect(minDetectableAuc(1, 1)).toBeNaN();
  });
});
