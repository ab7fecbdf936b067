import { describe, expect, it } from 'vitest';
import { unsafeUniformIntDistribution } from 'pure-rand';
import { DRAW_MEMO_BYTES, DrawMemo, seededRng } from '../../src/metrics/bootstrap.ts';
import { auc, bootstrapMembership, membershipMetrics } from '../../src/metrics/index.ts';
import { quantile } from '../../src/metrics/quantile.ts';

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

  // Uneven clusters (1–4 records a person), some people with tied scores.
  const labelsOf = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${Math.floor(i / (1 + (i % 4)))}`);
  const posLabels = labelsOf(pos.length, 'p');
  const negLabels = labelsOf(neg.length, 'n');

  it('is literally resampling people: k of the k clusters drawn with pure-rand, positives then negatives, each replicate', () => {
    const iterations = 200;
    const people = (labels: string[]) => [...new Set(labels)];
    const rng = seededRng(11);
    const aucs = new Float64Array(iterations);
    for (let it = 0; it < iterations; it++) {
      const draw = (scores: number[], labels: string[]) => {
        const ps = people(labels);
        const out: number[] = [];
        for (let i = 0; i < ps.length; i++) {
          const who = ps[unsafeUniformIntDistribution(0, ps.length - 1, rng)];
          scores.forEach((x, j) => labels[j] === who && out.push(x));
        }
        return out;
      };
      const p = draw(pos, posLabels);
      aucs[it] = auc(p, draw(neg, negLabels));
    }
    aucs.sort();
    const got = bootstrapMembership(pos, neg, { seed: 11, iterations, clusters: { pos: posLabels, neg: negLabels } });
    expect(got.auc).toEqual({ lo: quantile(aucs, 0.025), hi: quantile(aucs, 0.975) });
  });

  it('shares one set of draws between findings on the same people (a DrawMemo): the same intervals as drawing anew', () => {
    const memo = new DrawMemo();
    const clusters = { pos: posLabels, neg: negLabels };
    const other = pos.map((x, i) => x * x - (i % 3)); // another attack's scores, same people
    for (const scores of [pos, other]) {
      expect(bootstrapMembership(scores, neg, { seed: 9, iterations: 300, clusters, draws: memo })).toEqual(bootstrapMembership(scores, neg, { seed: 9, iterations: 300, clusters }));
    }
    expect(memo.size).toBe(1);
    // Another seed (other people) or another replicate count draws anew.
    bootstrapMembership(pos, neg, { seed: 10, iterations: 300, clusters, draws: memo });
    bootstrapMembership(pos, neg, { seed: 9, iterations: 100, clusters, draws: memo });
    expect(memo.size).toBe(3);
  });

  it('keeps draws within its budget and draws again past it, with the same result', () => {
    const clusters = { pos: posLabels, neg: negLabels };
    // One set of draws here is 300 × (people on both sides) bytes: a budget of one set keeps one.
    const people = new Set(posLabels).size + new Set(negLabels).size;
    const memo = new DrawMemo(300 * people);
    const fresh = (seed: number) => bootstrapMembership(pos, neg, { seed, iterations: 300, clusters });
    expect(bootstrapMembership(pos, neg, { seed: 1, iterations: 300, clusters, draws: memo })).toEqual(fresh(1));
    expect(bootstrapMembership(pos, neg, { seed: 2, iterations: 300, clusters, draws: memo })).toEqual(fresh(2));
    expect(memo.size).toBe(1);
    expect(DRAW_MEMO_BYTES).toBe(24 * 2 ** 20); // 1,000 replicates of ~25,000 people
  });

  it('rejects labels that do not match the scores', () => {
    expect(() => bootstrapMembership(pos, neg, { seed: 1, clusters: { pos: ['a'], neg: [] } })).toThrow(/one label per score/);
  });
});
