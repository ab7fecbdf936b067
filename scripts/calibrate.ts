/**
 * `npm run calibrate`: does the AUC interval keep its promise, and how often does the default gate
 * decide wrongly? A seeded simulation of audits where records are clustered within people, as they
 * are in real audits (a person's tickets share their name, their writing and their PII).
 *
 * Model: person effect u ~ N(μ_side, ICC), record score = u + e, e ~ N(0, 1 − ICC), so a record's
 * score has variance 1 and intraclass correlation ICC. Members are shifted by Δ = √2·Φ⁻¹(AUC), so
 * the record-level AUC (the estimand: P(member record > non-member record)) is exactly AUC.
 * For each (people per side, AUC) cell: coverage of the 95% interval, and the decisions of the
 * default gate `forget AUC ≤ 0.6` (pass: interval wholly ≤ 0.6; fail: wholly > 0.6; else
 * inconclusive). Also the paired ΔAUC (after − retrained) equivalence test at δ = 0.05.
 *
 * Options: --reps N (default 2000), --seed S (1), --icc R (0.5), --json.
 */
import { parseArgs } from 'node:util';
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { aucInference, aucInterval, clusteredDelong, deltaInterval, MIN_PEOPLE, pairedDelta } from '../src/metrics/delong.ts';
import { normalQuantile } from '../src/metrics/normal.ts';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' }, icc: { type: 'string', default: '0.5' }, json: { type: 'boolean', default: false } },
});
const REPS = Number(values.reps);
const ICC = Number(values.icc);
const rng: RandomGenerator = xoroshiro128plus(Number(values.seed));

const uniform = () => (unsafeUniformIntDistribution(0, 2 ** 30 - 1, rng) + 0.5) / 2 ** 30;
let spare: number | undefined;
function gauss(): number {
  if (spare !== undefined) {
    const s = spare;
    spare = undefined;
    return s;
  }
  const r = Math.sqrt(-2 * Math.log(uniform()));
  const t = 2 * Math.PI * uniform();
  spare = r * Math.sin(t);
  return r * Math.cos(t);
}

interface Side {
  scores: number[];
  people: string[];
}
function side(prefix: string, people: number, perPerson: () => number, shift: number): Side {
  const s: Side = { scores: [], people: [] };
  for (let p = 0; p < people; p++) {
    const u = shift + Math.sqrt(ICC) * gauss();
    const k = perPerson();
    for (let r = 0; r < k; r++) {
      s.scores.push(u + Math.sqrt(1 - ICC) * gauss());
      s.people.push(`${prefix}${p}`);
    }
  }
  return s;
}

const SIZES = [3, 4, 5, 12, 30, 100];
const AUCS = [0.5, 0.75, 0.9];
const THRESHOLD = 0.6;
const records = { fixed4: () => 4, 'varied1-7': () => 1 + unsafeUniformIntDistribution(0, 6, rng) };

interface Cell {
  design: string;
  people: number;
  auc: number;
  coverage: number;
  meanWidth: number;
  pass: number;
  fail: number;
  inconclusive: number;
}
const cells: Cell[] = [];
for (const [design, perPerson] of Object.entries(records)) {
  for (const k of SIZES) {
    for (const auc of AUCS) {
      const shift = Math.SQRT2 * normalQuantile(auc);
      let covered = 0;
      let width = 0;
      let pass = 0;
      let fail = 0;
      for (let i = 0; i < REPS; i++) {
        const pos = side('p', k, perPerson, shift);
        const neg = side('n', k, perPerson, 0);
        const r = clusteredDelong([{ pos: pos.scores, neg: neg.scores }], { pos: pos.people, neg: neg.people });
        const ci = aucInterval(aucInference(r.aucs[0]!, r.cov[0]![0]!, r.people), 0.95)!;
        if (ci.lo <= auc && auc <= ci.hi) covered++;
        width += ci.hi - ci.lo;
        if (ci.hi <= THRESHOLD) pass++;
        else if (ci.lo > THRESHOLD) fail++;
      }
      cells.push({ design, people: k, auc, coverage: covered / REPS, meanWidth: width / REPS, pass: pass / REPS, fail: fail / REPS, inconclusive: 1 - (pass + fail) / REPS });
    }
  }
}

// Equivalence of `after` with `retrained` (paired: the same people scored by both models). Both
// models see the same person effects; `after` adds its own record noise and a shift Δ in AUC.
interface EqCell {
  people: number;
  trueDelta: number;
  coverage90: number;
  pass: number;
  fail: number;
}
const eq: EqCell[] = [];
const DELTA = 0.05;
for (const k of [5, 12, 30, 100]) {
  for (const [base, after] of [[0.55, 0.55], [0.55, 0.75], [0.55, 0.5]] as const) {
    let covered = 0;
    let pass = 0;
    let fail = 0;
    for (let i = 0; i < REPS; i++) {
      const mk = (prefix: string, n: number) => {
        const people: string[] = [];
        const u: number[] = [];
        for (let p = 0; p < n; p++) {
          const pu = Math.sqrt(ICC) * gauss();
          for (let r = 0; r < 4; r++) (people.push(`${prefix}${p}`), u.push(pu));
        }
        return { people, u };
      };
      const P = mk('p', k);
      const N = mk('n', k);
      // a shared record-level component (the text itself) plus model-specific noise
      const shared = (u: number[]) => u.map((x) => x + Math.sqrt((1 - ICC) / 2) * gauss());
      const sp = shared(P.u);
      const sn = shared(N.u);
      const model = (auc: number) => ({
        pos: sp.map((x) => x + Math.SQRT2 * normalQuantile(auc) + Math.sqrt((1 - ICC) / 2) * gauss()),
        neg: sn.map((x) => x + Math.sqrt((1 - ICC) / 2) * gauss()),
      });
      const r = clusteredDelong([model(base), model(after)], { pos: P.people, neg: N.people });
      const d = pairedDelta(r, 'difference');
      const ci = deltaInterval(d, 0.9)!;
      const truth = after - base;
      if (ci.lo <= truth && truth <= ci.hi) covered++;
      if (ci.lo >= -DELTA && ci.hi <= DELTA) pass++;
      else if (ci.lo > DELTA || ci.hi < -DELTA) fail++;
    }
    eq.push({ people: k, trueDelta: after - base, coverage90: covered / REPS, pass: pass / REPS, fail: fail / REPS });
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify({ reps: REPS, icc: ICC, seed: Number(values.seed), minPeople: MIN_PEOPLE, threshold: THRESHOLD, cells, equivalence: eq }, null, 2)}\n`);
} else {
  const f = (x: number) => x.toFixed(3);
  console.log(`AUC intervals: clustered DeLong, logit scale, t quantile (df = people − 1); ${REPS} audits per cell, ICC ${ICC}, seed ${values.seed}`);
  console.log(`gate: forget AUC ≤ ${THRESHOLD} (pass: 95% interval wholly ≤; fail: wholly >; else inconclusive); no interval below ${MIN_PEOPLE} people per side\n`);
  console.log('| records per person | people per side | true AUC | coverage (95%) | mean width | PASS | FAIL | INCONCLUSIVE |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const c of cells) console.log(`| ${c.design} | ${c.people} | ${c.auc} | ${f(c.coverage)} | ${f(c.meanWidth)} | ${f(c.pass)} | ${f(c.fail)} | ${f(c.inconclusive)} |`);
  console.log(`\nEquivalence after vs retrained (paired ΔAUC, 90% interval within ±${DELTA}), 4 records per person:\n`);
  console.log('| people per side | true ΔAUC | coverage (90%) | PASS | FAIL |');
  console.log('|---|---|---|---|---|');
  for (const c of eq) console.log(`| ${c.people} | ${c.trueDelta.toFixed(2)} | ${f(c.coverage90)} | ${f(c.pass)} | ${f(c.fail)} |`);
  const bad = cells.filter((c) => c.auc !== 0.9 && c.coverage < 0.93);
  const nullFail = cells.filter((c) => c.auc === 0.5 && c.fail > 0.05);
  const power = cells.find((c) => c.design === 'fixed4' && c.people === 30 && c.auc === 0.9)!;
  console.log(`\nchecks: coverage ≥ 0.93 under the null and AUC 0.75 at every size: ${bad.length === 0 ? 'yes' : `NO (${bad.map((c) => `${c.design}/${c.people}/${c.auc}: ${f(c.coverage)}`).join(', ')})`}`);
  console.log(`        FAIL rate under the null ≤ 5%: ${nullFail.length === 0 ? 'yes' : 'NO'}; FAIL rate for AUC 0.9 at 30 people: ${f(power.fail)} (${power.fail >= 0.8 ? '≥' : '<'} 0.80)`);
  if (bad.length > 0 || nullFail.length > 0 || power.fail < 0.8) process.exitCode = 1;
}
