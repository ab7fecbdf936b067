import { describe, expect, it } from 'vitest';
import { bootstrapMembership, membershipMetrics } from '../../src/metrics/index.ts';

const pos = Array.from({ length: 60 }, (_, i) => Math.sin(i * 1.7) + 0.4);
const neg = Array.from({ length: 80 }, (_, i) => Math.cos(i * 2.3));

describe('cluster bootstrap', () => {
  it('with one record per cluster it is exactly the record bootstrap', () => {
    const plain = bootstrapMembership(pos, neg, { seed: 5, iterations: 300 });
    const clustered = bootstrapMembership(pos, neg, {
      seed: 5,
      iterations: 300,
      clusters: { pos: pos.map((_, i) => `p${i}`), neg: neg.map((_, i) => `n${i}`) },
    });
    expect(clustered).toEqual(plain);
  });

  it('widens the interval when records come in correlated clusters (4 copies per person)', () => {
    const rep = (xs: number[]) => xs.flatMap((x) => [x, x, x, x]);
    const labels = (xs: number[], p: string) => xs.flatMap((_, i) => [0, 1, 2, 3].map(() => `${p}${i}`));
    const naive = membershipMetrics(rep(pos), rep(neg), { seed: 3, iterations: 500 });
    const cluster = membershipMetrics(rep(pos), rep(neg), { seed: 3, iterations: 500, clusters: { pos: labels(pos, 'p'), neg: labels(neg, 'n') } });
    const person = membershipMetrics(pos, neg, { seed: 3, iterations: 500 });
    expect(cluster.auc.value).toBe(naive.auc.value);
    const width = (m: typeof naive) => m.auc.hi - m.auc.lo;
    expect(width(cluster)).toBeGreaterThan(1.5 * width(naive));
    // Resampling people gives about the interval of one record per person.
    expect(Math.abs(width(cluster) - width(person)) / width(person)).toBeLessThan(0.25);
  });

  it('rejects labels that do not match the scores', () => {
    expect(() => bootstrapMembership(pos, neg, { seed: 1, clusters: { pos: ['a'], neg: [] } })).toThrow(/one label per score/);
  });
});
