/**
 * `npm run bench` (synthetic data, issue #15): the full synthetic-data audit — singling out (uni- and
 * multivariate), linkability, attribute inference, DOMIAS and DCR — on 10,000 synthetic × 10,000
 * member records (and 10,000 control, 10,000 population) with 20 columns (8 numeric, 12
 * categorical), timed from reading the CSV files to the result. Target: under a minute on the CI
 * machine (2 cores). Never run by the tests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unsafeUniformIntDistribution } from 'pure-rand';
import { getSyntheticAttack, SYNTHETIC_ATTACKS } from '../../attacks/index.ts';
import { loadSyntheticConfig } from '../../src/config/synthetic.ts';
import { defaultSyntheticAttacks, runSyntheticAudit } from '../../src/audit/synthetic.ts';
import { seededRng } from '../../src/metrics/bootstrap.ts';

const N = 10_000;
const NUMERIC = 8;
const CATEGORICAL = 12;
const rng = seededRng(13);
const u = () => unsafeUniformIntDistribution(0, 2 ** 30 - 1, rng) / 2 ** 30;
const header = ['id', 'subject', ...Array.from({ length: NUMERIC }, (_, k) => `x${k}`), ...Array.from({ length: CATEGORICAL }, (_, k) => `c${k}`)];
// correlated columns: a latent per person drives some of each kind
const person = () => {
  const z = u();
  return [...Array.from({ length: NUMERIC }, (_, k) => (k % 2 ? z * 50 + u() * 10 : u() * 100).toFixed(2)), ...Array.from({ length: CATEGORICAL }, (_, k) => `v${Math.floor((k % 3 ? u() : z) * (3 + (k % 4)))}`)];
};
const people = Array.from({ length: 3 * N }, person);
const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-synthetic-'));
const write = (name: string, rows: string[][], offset: number, withSubject: boolean) =>
  writeFileSync(path.join(dir, name), `${(withSubject ? header : header.filter((h) => h !== 'subject')).join(',')}\n${rows.map((r, i) => [`r${offset + i}`, ...(withSubject ? [`p${offset + i}`] : []), ...r].join(',')).join('\n')}\n`);
const members = people.slice(0, N);
write('members.csv', members, 0, true);
write('holdout.csv', people.slice(N, 2 * N), N, true);
write('population.csv', people.slice(2 * N), 2 * N, true);
// a memorising generator: resampled members with small noise on the numeric columns
write('synthetic.csv', Array.from({ length: N }, () => members[unsafeUniformIntDistribution(0, N - 1, rng)]!.map((v, k) => (k < NUMERIC ? (Number(v) + (u() - 0.5) * 0.2).toFixed(2) : v))), 3 * N, false);
writeFileSync(
  path.join(dir, 'audit.yml'),
  `target: { synthetic: synthetic.csv }
data: { members: members.csv, holdout: holdout.csv, population: population.csv }
attacks:
  singling-out: {}
  linkability: { columns: [[x0, x1, c0, c1], [x2, x3, c2, c3]] }
  attribute-inference: { secrets: [c11] }
  domias: { columns: [x0, x1, x2, x3, x4, x5, x6, x7] }
  dcr: {}
`,
);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const cfg = await loadSyntheticConfig(path.join(dir, 'audit.yml'), { attackOptions: (id) => getSyntheticAttack(id)?.options, knownAttacks: SYNTHETIC_ATTACKS.map((a) => a.meta.id), defaults: defaultSyntheticAttacks });
const { result, run } = await runSyntheticAudit(cfg, { reveal: true });
const total = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(`synthetic-data audit, ${N} synthetic x ${N} members (+${N} control, +${N} population), ${NUMERIC + CATEGORICAL} columns:`);
for (const [k, v] of Object.entries(run.timings)) console.log(`  ${k.padEnd(20)} ${(v / 1000).toFixed(1)} s`);
console.log(`  total                ${total.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (one thread; target < 60 s wall on an idle 2-core machine); verdict ${result.verdict}`);
