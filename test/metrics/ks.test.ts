import { describe, expect, it } from 'vitest';
import { ks2samp, kstwoCdf, kstwoSf } from '../../src/metrics/index.ts';
import { relErr } from './oracle.ts';

/** numpy.linspace(a, b, n): i·step + a, last point exactly b. */
function linspace(a: number, b: number, n: number): number[] {
  const step = (b - a) / (n - 1);
  const y = Array.from({ length: n }, (_, i) => i * step + a);
  y[n - 1] = b;
  return y;
}
const rep = (v: number, k: number): number[] => Array<number>(k).fill(v);

describe('ks2samp against SciPy 1.10.1', () => {
  // Constructions from SciPy's own TestKSTwoSamples; expected values recomputed with SciPy 1.10.1.
  const cases: Array<[string, () => [number[], number[]], number, number]> = [
    ['100 vs 110 (+20.1)', () => [linspace(1, 100, 100), linspace(1, 100, 110).map((v) => v + 20 + 0.1)], 232 / 1100, 0.015739183865607353],
    ['100 vs 110 (+19.9)', () => [linspace(1, 100, 100), linspace(1, 100, 110).map((v) => v + 20 - 0.1)], 229 / 1100, 0.017803803861026313],
    ['100 vs 100', () => [linspace(1, 100, 100), linspace(1, 100, 100).map((v) => v + 2 + 0.1)], 3 / 100, 0.9999999999962055],
    [
      'repeated values, equal n',
      () => {
        const x = [...rep(2, 3), ...rep(3, 4), ...rep(5, 5), ...rep(6, 4)];
        return [x, x.map((v) => v + 1)];
      },
      5 / 16,
      0.4262934613454952,
    ],
    [
      'repeated values, unequal n',
      () => [
        [...rep(2, 3), ...rep(3, 4), ...rep(5, 10), ...rep(6, 4)],
        [...rep(3, 10), ...rep(4, 2), ...rep(6, 10), ...rep(7, 4)],
      ],
      190 / 21 / 26,
      0.0919245790168125,
    ],
    [
      '10000 vs 110: exact, tiny p-value',
      () => {
        const delta = 1 / 10000 / 110 / 2 / 2;
        return [linspace(1, 200, 10000).map((v) => v - delta), linspace(2, 100, 110)];
      },
      55275 / 110000,
      6.263465662260858e-26,
    ],
    [
      '10000 vs 11000: auto falls back to kstwo (Pelz–Good branch)',
      () => {
        const delta = 1 / 10000 / 11000 / 2 / 2;
        return [linspace(1, 200, 10000).map((v) => v - delta), linspace(2, 200, 11000)];
      },
      563 / 110000,
      0.9990660108966576,
    ],
    ['12000 vs 7: kstwo with small n (Pomeranz branch)', () => [linspace(0, 1, 12000), linspace(0.3, 1.1, 7)], 0.3, 0.46626387699002947],
    ['10001 vs 60: kstwo (Durbin matrix branch)', () => [linspace(0, 1, 10001), linspace(0.1, 1.05, 60)], 0.0999900009999, 0.5523232111047077],
    ['10001 vs 15000: kstwo', () => [linspace(0, 1, 10001), linspace(0.02, 1.01, 15000)], 0.02006464686864647, 0.015739769423610113],
  ];

  it.each(cases)('%s', (_name, make, statistic, pvalue) => {
    const [a, b] = make();
    const r = ks2samp(a, b);
    expect(Math.abs(r.statistic - statistic)).toBeLessThanOrEqual(1e-9);
    expect(relErr(r.pvalue, pvalue)).toBeLessThanOrEqual(1e-6);
  });

  it('10000 vs 11000 with method "exact" uses the lattice-path count', () => {
    const delta = 1 / 10000 / 11000 / 2 / 2;
    const r = ks2samp(linspace(1, 200, 10000).map((v) => v - delta), linspace(2, 200, 11000), { method: 'exact' });
    expect(relErr(r.pvalue, 0.9990456491488628)).toBeLessThanOrEqual(1e-6);
  });

  it('is symmetric in its arguments and handles tiny samples', () => {
    const a = [0.1, 0.5, 0.9, 1.3];
    const b = [0.4, 0.8, 2, 3, 4];
    expect(ks2samp(a, b)).toEqual(ks2samp(b, a));
    expect(ks2samp([0], [1])).toEqual({ statistic: 1, pvalue: 1 });
    expect(ks2samp([1, 2], [1, 2])).toEqual({ statistic: 0, pvalue: 1 });
  });

  it('rejects empty samples and NaN', () => {
    expect(() => ks2samp([], [1])).toThrow(Error);
    expect(() => ks2samp([1], [NaN])).toThrow(Error);
  });
});

describe('kstwo (Kolmogorov distribution of D_n) against SciPy 1.10.1', () => {
  const sf: Array<[number, number, number]> = [
    [5, 0.3, 0.664],
    [10, 0.05, 1.0],
    [10, 0.2, 0.7487190399999999],
    [10, 0.45, 0.022891810311718164],
    [10, 0.7, 1.9544800000000034e-5],
    [50, 0.1, 0.6623112704658186],
    [100, 0.25, 5.408871776434847e-6],
    [141, 0.05, 0.8548456930096628],
    [1000, 0.02, 0.8108971656895577],
    [1000, 0.06, 0.001428597887952891],
    [5000, 0.106, 2.251687770779136e-49],
    [20000, 0.004, 0.9048968240702959],
    [150000, 0.003, 0.1341018124495077],
    [2000000, 0.0005, 0.6991771101944894],
  ];
  it.each(sf)('sf(n=%i, x=%f)', (n, x, want) => {
    expect(relErr(kstwoSf(x, n), want)).toBeLessThanOrEqual(1e-9);
  });

  it('reproduces Simard & L’Ecuyer (2011) Table 1 as SciPy tests it (rtol 1e-5)', () => {
    const ns = [10, 50, 100, 200, 500, 1000];
    const ratios = [1 / 4, 1 / 3, 1 / 2, 1, 2, 3];
    const expected = [
      [1.92155292e-8, 5.72933228e-5, 2.15233226e-2, 6.31566589e-1, 9.97685592e-1, 9.99999942e-1],
      [2.28096224e-9, 1.99142563e-5, 1.42617934e-2, 5.95345542e-1, 9.96177701e-1, 9.99998662e-1],
      [1.00201886e-9, 1.32673079e-5, 1.24608594e-2, 5.8616322e-1, 9.95866877e-1, 9.9999824e-1],
      [4.93313022e-10, 9.52658029e-6, 1.12123138e-2, 5.79486872e-1, 9.95661824e-1, 9.99997964e-1],
      [2.37049293e-10, 6.85002458e-6, 1.01309221e-2, 5.73427224e-1, 9.95491207e-1, 9.9999775e-1],
      [1.56990874e-10, 5.71738276e-6, 9.5972543e-3, 5.70322692e-1, 9.95409545e-1, 9.99997657e-1],
    ];
    ns.forEach((n, i) =>
      ratios.forEach((r, j) => {
        const x = r * Math.log(2) * Math.sqrt(Math.PI / 2 / n);
        expect(relErr(kstwoCdf(x, n), expected[i]![j]!), `n=${n} ratio=${r}`).toBeLessThanOrEqual(1e-5);
      }),
    );
  });

  it('has the closed forms at the ends of the support', () => {
    for (const n of [1, 2, 3, 10, 100, 1000]) {
      expect(kstwoSf(0.5 / n, n)).toBe(1);
      expect(kstwoSf(1, n)).toBe(0);
      // Pr(D_n >= 1 − 1/n) = 2/n^n
      expect(relErr(kstwoSf(1 - 1 / n, n), Math.min(2 * (1 / n) ** n, 1))).toBeLessThanOrEqual(1e-9);
    }
  });
});
