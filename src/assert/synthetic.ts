/**
 * Gates of a synthetic-data audit, three-valued like every gate: a residual risk passes when its
 * whole interval (Anonymeter's R ± dR, clipped) lies at or below the threshold, fails when it lies
 * wholly above, else inconclusive; a membership AUC on the output follows the model audits' rule
 * (clustered DeLong over people); the DCR red flag fails on a one-sided binomial test and otherwise
 * passes only as "no red flag" (it never makes a release private on its own: every other gate must
 * pass too). Fail decisions over the error gates are Holm-corrected together.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { Finding } from '../audit/measure.ts';
import type { SyntheticSummary } from '../result/types.ts';
import { holm, membershipGate, type GateResult, type GateStatus } from './index.ts';
import type { AssertionOptions, AssertionSpec } from './names.ts';
import { parseSyntheticGate, SYNTHETIC_METRICS, type SyntheticAssertConfig } from './synthetic-names.ts';

/**
 * privacy-audit:synthetic — the EDPB's three anonymisation criteria (WP216 §2.2.2; Opinion 28/2024
 * para. 43 "insignificant") as Anonymeter's residual risks with a 5% ceiling on the whole interval,
 * membership on the output (DOMIAS, text overlap) with the anonymisation preset's AUC ceiling 0.55,
 * and no excess of exact copies.
 */
export const SYNTHETIC_PRESETS: Record<'privacy-audit:synthetic' | 'none', Record<string, AssertionSpec>> = {
  'privacy-audit:synthetic': {
    'synthetic.singling-out.risk': ['error', { max: 0.05 }],
    'synthetic.linkability.risk': ['error', { max: 0.05 }],
    'synthetic.attribute-inference.risk': ['error', { max: 0.05 }],
    'synthetic.domias.auc': ['error', { max: 0.55 }],
    'synthetic.text-overlap.auc': ['error', { max: 0.55 }],
    'synthetic.dcr.copies': 'error',
  },
  none: {},
};

const f3 = (x: number) => x.toFixed(3);

export function syntheticGates(summary: SyntheticSummary, findings: Finding[], attacksRun: string[], assert?: SyntheticAssertConfig): GateResult[] {
  const specs = { ...SYNTHETIC_PRESETS[assert?.preset ?? 'privacy-audit:synthetic'], ...(assert?.assertions ?? {}) };
  const gates: GateResult[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const level = typeof spec === 'string' ? spec : spec[0];
    if (level === 'off') continue;
    const o = (typeof spec === 'string' || spec.length === 1 ? {} : (spec[1] ?? {})) as AssertionOptions;
    const parsed = parseSyntheticGate(name);
    if (typeof parsed === 'string') throw new Error(`invalid gate name ${parsed}`); // validated at load
    const attacks = (parsed.attack === '*' ? [...SYNTHETIC_METRICS[parsed.metric]] : [parsed.attack]).filter((a) => attacksRun.includes(a));
    for (const attack of attacks) {
      if (parsed.metric === 'risk') {
        const mine = summary.risks.filter((x) => x.attack === attack);
        for (const r of mine) {
          // one variant: synthetic.<attack>.risk; several: synthetic.<attack>.<variant>.risk (a secret's column name)
          const variant = r.variant.replace(/^secret:/, '').replace(/[^A-Za-z0-9_-]+/g, '_');
          const id = mine.length === 1 ? `synthetic.${attack}.risk` : `synthetic.${attack}.${variant}.risk`;
          const max = o.max ?? 0.05;
          const base = { id, level, expected: `interval of the residual risk wholly <= ${max}` };
          const what = `${attack} (${r.variant}): residual risk ${r.residual ? `${f3(r.residual.value)} [${f3(r.residual.lo)}, ${f3(r.residual.hi)}]` : 'undefined'}; attack ${r.attackRate.k}/${r.attackRate.n} (${f3(r.attackRate.rate)}), control ${r.controlRate.k}/${r.controlRate.n} (${f3(r.controlRate.rate)}), baseline ${f3(r.baselineRate.rate)}`;
          if (r.attacks.made === 0) {
            gates.push({ ...base, status: 'inconclusive', actual: null, message: `${what}: no attack could be made (no predicate singles out a synthetic record, or no target): nothing was tested` });
            continue;
          }
          if (!r.residual) {
            gates.push({ ...base, status: 'inconclusive', actual: null, message: `${what}: control succeeded every time, so the residual risk is undefined` });
            continue;
          }
          const { raw, error, lo, hi, value } = r.residual;
          const pAbove = error > 0 ? 1 - normalCdf((raw - max) / error, 0, 1) : raw > max ? 0 : 1;
          const status: GateStatus = lo > max ? 'fail' : hi <= max ? 'pass' : 'inconclusive';
          const note = r.attacks.made < r.attacks.requested ? `; only ${r.attacks.made} of ${r.attacks.requested} attacks could be made` : '';
          gates.push({
            ...base,
            status,
            actual: value,
            interval: { lo, hi, level: r.residual.level },
            test: { p: pAbove, alpha: (1 - r.residual.level) / 2 },
            message: `${what}${status === 'fail' ? `: wholly above ${max}` : status === 'inconclusive' ? `: the interval straddles ${max}; more targets (nAttacks) and control records narrow it` : ''}${note}`,
          });
        }
      } else if (parsed.metric === 'auc') {
        for (const f of findings.filter((x) => x.model === 'synthetic' && (x.attack === attack || x.attack.startsWith(`${attack}:`)))) {
          const id = `synthetic.${f.attack.replace(':', '.')}.auc`;
          const g = membershipGate({ kind: 'membership', model: 'synthetic', split: 'member', attack: f.attack, metric: 'auc' }, 'synthetic', f.attack, { id, level, expected: `95% interval wholly <= ${o.max ?? 0.55}` }, { max: o.max ?? 0.55 }, { models: ['synthetic'], attacks: [], findings, extraction: [], comparisons: [] });
          gates.push(g);
        }
      } else {
        for (const d of summary.diagnostics.filter((x) => x.attack === attack && x.redFlag)) {
          const rf = d.redFlag!;
          const alpha = 0.025;
          const base = { id: `synthetic.${attack}.copies`, level, expected: `synthetic records no closer to members than to control beyond ½ (one-sided binomial test at ${alpha}); a pass here is no evidence of privacy` };
          const text = `${rf.k} of ${rf.n} synthetic records are closer to a member than to any control record (share ${(rf.k / Math.max(1, rf.n)).toFixed(3)}, ½ expected without copying; p = ${rf.p.toPrecision(3)}); ${d.values.memberCopies} copy a member exactly, ${d.values.controlCopies} a control record`;
          gates.push({
            ...base,
            status: rf.p < alpha ? 'fail' : 'pass',
            actual: rf.n > 0 ? rf.k / rf.n : null,
            test: { p: rf.p, alpha },
            message: rf.p < alpha ? `${text}: the generator copies (or nearly copies) its training records` : `${text}: no red flag (DCR cannot show privacy: see the report)`,
          });
        }
      }
    }
  }
  return holm(gates);
}

/** EDPB criteria → gates (Opinion 05/2014 §2.2.2; Opinion 28/2024 para. 43 and the para. 55-style list of what was tested). */
export function coverage(gates: GateResult[], attacksRun: string[]): SyntheticSummary['coverage'] {
  const rows = [
    { criterion: 'singling out', question: 'Can one person be isolated in the data?', attacks: ['singling-out'] },
    { criterion: 'linkability', question: 'Can records about the same person be linked?', attacks: ['linkability'] },
    { criterion: 'inference', question: 'Can an attribute of a person be deduced?', attacks: ['attribute-inference'] },
    { criterion: 'membership (Opinion 28/2024 para. 43)', question: 'Can anyone tell whether a person was in the training data?', attacks: ['domias', 'text-overlap', 'dcr'] },
  ];
  return rows.map((r) => {
    const ran = r.attacks.filter((a) => attacksRun.includes(a));
    const gs = gates.filter((g) => g.level === 'error' && ran.some((a) => g.id.startsWith(`synthetic.${a}.`)));
    const status = gs.length === 0 ? 'not-tested' : gs.some((g) => g.status === 'fail') ? 'fail' : gs.some((g) => g.status === 'inconclusive') ? 'inconclusive' : 'pass';
    return { ...r, attacks: ran, gates: gs.map((g) => g.id), status } as SyntheticSummary['coverage'][number];
  });
}
