/**
 * `privacy-audit demo --scenario synthetic`: 1000 people trained on, 1000 control people and 1000
 * population people (src/demo/synthetic-data.ts, seeded), synthetic data from a memorising and a
 * private generator, and one config per generator, written to `<out>/demo-inputs/` so the audit
 * can be repeated with `privacy-audit run`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makePeople, memorisingGenerator, privateGenerator, toCsv, zipDomain } from './synthetic-data.ts';

export const SYNTHETIC_DEMO = { members: 1000, holdout: 1000, population: 1000, synthetic: 1000, seed: 7 } as const;

const PEOPLE = ['id', 'subject', 'age', 'sex', 'zip3', 'education', 'income', 'diagnosis'];
const SYNTHETIC = ['id', 'age', 'sex', 'zip3', 'education', 'income', 'diagnosis'];

export function syntheticDemoConfig(synthetic: string): string {
  return `# privacy-audit demo: a released synthetic dataset (see README, "Auditing synthetic data")
version: 1
seed: 1
target:
  synthetic: ./${synthetic}
  columns: { age: numeric, income: numeric, sex: categorical, zip3: categorical, education: categorical, diagnosis: categorical }
data:
  members: ./members.csv        # the generator's training people
  holdout: ./holdout.csv        # control: same distribution, never given to the generator
  population: ./population.csv  # the attacker's reference data (DOMIAS)
attacks:
  singling-out: { nAttacks: 500 }
  linkability: { columns: [[age, sex, zip3], [education, income]], nAttacks: 500 }
  attribute-inference: { secrets: [diagnosis], nAttacks: 500 }
  domias: {}                    # every column (categorical ones one-hot): ~40 dimensions
  dcr: {}
assert: { preset: privacy-audit:synthetic }
`;
}

/** Writes the demo's data and configs; returns [generator name, config path] pairs, the memorising one first. */
export async function syntheticDemo(dir: string, log: (s: string) => void): Promise<[string, string][]> {
  const { members: m, holdout: h, population: p, synthetic: s, seed } = SYNTHETIC_DEMO;
  const people = makePeople(m + h + p, seed);
  const members = people.slice(0, m);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'members.csv'), toCsv(members as never, PEOPLE));
  await writeFile(path.join(dir, 'holdout.csv'), toCsv(people.slice(m, m + h) as never, PEOPLE));
  await writeFile(path.join(dir, 'population.csv'), toCsv(people.slice(m + h) as never, PEOPLE));
  await writeFile(path.join(dir, 'synthetic-memorising.csv'), toCsv(memorisingGenerator(members, s, seed + 1) as never, SYNTHETIC));
  await writeFile(path.join(dir, 'synthetic-private.csv'), toCsv(privateGenerator(members, s, seed + 2, 1, zipDomain(seed)) as never, SYNTHETIC));
  const configs: [string, string][] = [];
  for (const name of ['memorising', 'private']) {
    const file = path.join(dir, `${name}.yml`);
    await writeFile(file, syntheticDemoConfig(`synthetic-${name}.csv`));
    configs.push([name, file]);
  }
  log(`synthetic demo: ${m} members, ${h} holdout, ${p} population people; ${s} synthetic records per generator (memorising: resampled rows with small noise; private: Laplace-noised marginals, ε = 1) in ${dir}`);
  return configs;
}
