/**
 * Seeded people for the synthetic-data demo and tests, and two generators "trained" on them:
 * - `memorising`: resamples training rows with small noise (what an over-fitted GAN, or a careless
 *   "anonymisation by perturbation", releases): age ±1 year now and then, income ×(1 ± 1%), every
 *   categorical value kept;
 * - `private`: a DP-style histogram sampler: each column's histogram (numeric columns in 10 bins)
 *   with Laplace noise of scale 1/ε_column added to every count (ε split evenly over the columns:
 *   the Laplace mechanism on a count of sensitivity 1; Dwork & Roth 2014 §3.3), clipped at 0, then
 *   every column sampled independently from its noisy histogram (uniform within a numeric bin). It
 *   keeps the marginals and forgets every individual (and every correlation: the price of privacy here).
 * People come from @faker-js/faker (seeded); the quasi-identifiers (age, sex, zip3, education) and
 * the sensitive attribute (diagnosis, which depends on age and sex) are drawn with pure-rand.
 */
import { Faker, en } from '@faker-js/faker';
import { unsafeUniformIntDistribution, type RandomGenerator } from 'pure-rand';
import { seededRng } from '../metrics/bootstrap.ts';

export interface Person {
  id: string;
  subject: string;
  age: number;
  sex: string;
  zip3: string;
  education: string;
  income: number;
  diagnosis: string;
}

export const COLUMNS = ['age', 'sex', 'zip3', 'education', 'income', 'diagnosis'] as const;
const EDUCATION = ['primary', 'secondary', 'bachelor', 'master', 'doctorate'];
const DIAGNOSES = ['none', 'asthma', 'diabetes', 'hypertension', 'depression'];

const uniform = (rng: RandomGenerator) => unsafeUniformIntDistribution(0, 2 ** 30 - 1, rng) / 2 ** 30;
const pick = <T>(xs: readonly T[], rng: RandomGenerator): T => xs[unsafeUniformIntDistribution(0, xs.length - 1, rng)]!;
function normal(rng: RandomGenerator): number {
  const u = Math.max(uniform(rng), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform(rng));
}
function laplace(scale: number, rng: RandomGenerator): number {
  const u = uniform(rng) - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/** The 30 zip3 areas people live in: public knowledge (the private generator's domain), drawn first from the seeded faker. */
function zipAreas(faker: Faker): string[] {
  return Array.from({ length: 30 }, () => faker.location.zipCode('#####').slice(0, 3));
}

/** The zip3 domain of `makePeople(_, seed)`. */
export function zipDomain(seed: number): string[] {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  return [...new Set(zipAreas(faker))].sort();
}

/** n seeded people (one record per person); zip3 from faker's US zip codes (first three digits, 30 areas). */
export function makePeople(n: number, seed: number, prefix = 'p'): Person[] {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  const rng = seededRng(seed);
  const areas = zipAreas(faker);
  return Array.from({ length: n }, (_, i) => {
    const age = Math.min(90, Math.max(18, Math.round(45 + 15 * normal(rng))));
    const sex = uniform(rng) < 0.5 ? 'F' : 'M';
    const education = EDUCATION[Math.min(4, Math.floor(uniform(rng) * 3 + (age > 30 ? uniform(rng) * 2 : 0)))]!;
    const income = Math.round(Math.exp(10 + 0.1 * EDUCATION.indexOf(education) + 0.4 * normal(rng)));
    // the sensitive attribute depends on age and sex, so the population teaches something about it
    const r = uniform(rng);
    const diagnosis = age > 60 && r < 0.5 ? (sex === 'M' ? 'hypertension' : 'diabetes') : r < 0.6 ? 'none' : pick(DIAGNOSES, rng);
    const id = `${prefix}${String(i).padStart(5, '0')}`;
    return { id, subject: `${faker.person.firstName()}-${id}`, age, sex, zip3: pick(areas, rng), education, income, diagnosis };
  });
}

export type SyntheticRow = Omit<Person, 'subject' | 'id'> & { id: string };

/** Resamples training rows with small noise: the synthetic data holds near-copies of real people. */
export function memorisingGenerator(train: readonly Person[], n: number, seed: number): SyntheticRow[] {
  const rng = seededRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const p = train[unsafeUniformIntDistribution(0, train.length - 1, rng)]!;
    const jitter = uniform(rng) < 0.3 ? (uniform(rng) < 0.5 ? -1 : 1) : 0;
    return { id: `syn${i}`, age: p.age + jitter, sex: p.sex, zip3: p.zip3, education: p.education, income: Math.round(p.income * (1 + 0.01 * normal(rng))), diagnosis: p.diagnosis };
  });
}

/** Independent columns sampled from Laplace-noised histograms (ε in total, split over the columns). */
export function privateGenerator(train: readonly Person[], n: number, seed: number, epsilon: number, zipDomain: readonly string[]): SyntheticRow[] {
  const rng = seededRng(seed);
  const scale = COLUMNS.length / epsilon;
  const samplers = COLUMNS.map((c) => {
    const numeric = c === 'age' || c === 'income';
    // Bin edges and category domains are public knowledge, not read from the data (that would leak).
    const lo = c === 'age' ? 18 : 5000;
    const hi = c === 'age' ? 91 : 200000;
    const bins = numeric ? 10 : 0;
    const levels = numeric ? [] : c === 'sex' ? ['F', 'M'] : c === 'education' ? EDUCATION : c === 'diagnosis' ? DIAGNOSES : zipDomain;
    const counts = new Array<number>(numeric ? bins : levels.length).fill(0);
    for (const p of train) {
      const v = p[c];
      const k = numeric ? Math.min(bins - 1, Math.max(0, Math.floor((((v as number) - lo) / (hi - lo)) * bins))) : levels.indexOf(v as string);
      if (k >= 0) counts[k]! += 1; // a value outside the public domain is dropped, never added to it
    }
    const noisy = counts.map((x) => Math.max(0, x + laplace(scale, rng)));
    const total = noisy.reduce((a, b) => a + b, 0) || 1;
    return () => {
      let u = uniform(rng) * total;
      let k = 0;
      while (k < noisy.length - 1 && u >= noisy[k]!) u -= noisy[k++]!;
      if (!numeric) return levels[k]!;
      const x = lo + ((k + uniform(rng)) * (hi - lo)) / bins;
      return c === 'age' ? Math.floor(x) : Math.round(x);
    };
  });
  return Array.from({ length: n }, (_, i) => {
    const v = samplers.map((s) => s());
    return { id: `syn${i}`, age: v[0] as number, sex: v[1] as string, zip3: v[2] as string, education: v[3] as string, income: v[4] as number, diagnosis: v[5] as string };
  });
}

/** CSV text (the values here need no quoting: letters, digits and hyphens). */
export function toCsv(rows: readonly Record<string, string | number>[], columns: readonly string[]): string {
  return `${columns.join(',')}\n${rows.map((r) => columns.map((c) => String(r[c])).join(',')).join('\n')}\n`;
}
