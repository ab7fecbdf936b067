import { describe, expect, it } from 'vitest';
import { auc, bootstrapMembership, pairedAucStatistic, pairedBootstrap } from '../../src/metrics/index.ts';

const pos = Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.3) + 0.5);
const neg = Array.from({ length: 70 }, (_, i) => Math.cos(i * 0.7));
const pos2 = pos.map((x, i) => x * 0.3 + Math.sin(i * 5.1));

describe('paired AUC bootstrap', () => {
  it('one model: the same interval as the stratified bootstrap (same draws)', () => {
    const a = pairedAucStatistic([{ pos, neg }], ([x]) => x!, { seed: 9, iterations: 400 });
    const b = bootstrapMembership(pos, neg, { seed: 9, iterations: 400 });
    expect(a.value).toBe(auc(pos, neg));
    expect(a.lo).toBe(b.auc.lo);
    expect(a.hi).toBe(b.auc.hi);
  });

  it('identical models: the difference is exactly 0 in every replicate', () => {
    const d = pairedAucStatistic([{ pos, neg }, { pos, neg }], ([a, b]) => a! - b!, { seed: 1, iterations: 200 });
    expect(d).toEqual({ value: 0, lo: 0, hi: 0 });
  });

  it('a difference is narrower when paired than the two separate intervals suggest', () => {
    const d = pairedAucStatistic([{ pos, neg }, { pos: pos2, neg }], ([a, b]) => a! - b!, { seed: 2, iterations: 500 });
    expect(d.value).toBeCloseTo(auc(pos, neg) - auc(pos2, neg), 12);
    expect(d.lo).toBeLessThanOrEqual(d.value);
    expect(d.hi).toBeGreaterThanOrEqual(d.value);
    const a = bootstrapMembership(pos, neg, { seed: 2, iterations: 500 }).auc;
    const b = bootstrapMembership(pos2, neg, { seed: 3, iterations: 500 }).auc;
    expect(d.hi - d.lo).toBeLessThan(a.hi - a.lo + (b.hi - b.lo));
  });

  it('rejects models scored on different records', () => {
    expect(() => pairedAucStatistic([{ pos, neg }, { pos: pos.slice(1), neg }], ([a]) => a!, { seed: 1 })).toThrow(/same records/);
  });
});

describe('pairedBootstrap (weights form)', () => {
  it('a paired difference of rates: full-data value, interval around it, 0 for identical columns', () => {
    const a = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const b = Array.from({ length: 60 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const rate = (xs: number[], w: Int32Array) => xs.reduce((s, x, i) => s + x * w[i]!, 0) / w.reduce((s, x) => s + x, 0);
    const d = pairedBootstrap(60, (w) => rate(a, w) - rate(b, w), { seed: 4, iterations: 300 });
    expect(d.value).toBeCloseTo(20 / 60 - 12 / 60, 12);
    expect(d.lo).toBeLessThan(d.value);
    expect(d.hi).toBeGreaterThan(d.value);
    expect(pairedBootstrap(60, (w) => rate(a, w) - rate(a, w), { seed: 4, iterations: 50 })).toEqual({ value: 0, lo: 0, hi: 0 });
    const clustered = pairedBootstrap(60, (w) => rate(a, w) - rate(b, w), { seed: 4, iterations: 300, clusters: a.map((_, i) => Math.floor(i / 6)) });
    expect(clustered.value).toBe(d.value);
  });
});
