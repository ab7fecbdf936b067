/**
 * The assert stage: assertions (a preset plus the user's) → gates → verdict.
 *
 * Every gate is three-valued and decided by its whole interval: it passes when the interval lies
 * wholly on the safe side of its threshold, fails when it lies wholly on the unsafe side, and is
 * inconclusive otherwise, with the reason and what would settle it. A pass on the forget set also
 * needs the attack to see membership on the same model (the positive control: retain vs holdout
 * wholly above the threshold); a pass on an extraction count needs enough people tried. Fail
 * decisions over the error gates control the family-wise error with Holm's step-down procedure.
 */
import betaCdf from '@stdlib/stats-base-dists-beta-cdf';
import type { Comparison } from '../audit/compare.ts';
import type { ExtractionSummary, Finding } from '../audit/measure.ts';
import { clopperPearson } from '../metrics/binomial.ts';
import { aucPValue, deltaPValue, MIN_PEOPLE } from '../metrics/delong.ts';
import { normalQuantile } from '../metrics/normal.ts';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { Estimate, MaybeEstimate } from '../types.ts';
import { parseGateName, type AssertConfig, type AssertionOptions, type AssertionSpec, type GateName, type Level } from './names.ts';

export { assertSchema, parseGateName, type AssertConfig, type AssertionSpec } from './names.ts';

export type GateStatus = 'pass' | 'fail' | 'inconclusive';
export type Verdict = GateStatus;

export interface GateResult {
  id: string;
  level: 'error' | 'warn';
  status: GateStatus;
  /** What a pass needs, e.g. `95% interval wholly <= 0.6`. */
  expected: string;
  /** The point estimate (or count) the gate looked at. */
  actual: number | null;
  /** The interval the gate was decided on, and its level. */
  interval?: { lo: number; hi: number; level: number };
  message: string;
  /**
   * The test behind a fail decision: the one-sided p-value that the value is on the unsafe side,
   * the gate's own α (0.025 for 95% intervals, 0.05 for 90% equivalence intervals), and, for error
   * gates, whether Holm's procedure over all error gates rejected it.
   */
  test?: { p: number; alpha: number; holm?: 'rejected' | 'not-rejected' };
}

export interface AttackStatus {
  id: string;
  /** Model audits: membership or extraction; synthetic-data audits add the EDPB criteria and diagnostics. */
  family: 'membership' | 'extraction' | 'singling-out' | 'linkability' | 'inference' | 'diagnostic';
  status: 'ok' | 'not-applicable' | 'error';
  reason?: string;
}

/** Margins and resolutions of the presets; the README gives the reasons. */
export const DEFAULT_MARGIN = { equivalence: 0.05, privleak: 0.1 } as const;
export const DEFAULT_RESOLUTION = 0.1;

/**
 * Built-in assertion sets; the README gives each threshold's rationale.
 * - unlearning: the deleted people must look like people the model never saw, on the model shipped
 *   after deletion; with a retrained model, like they do after exact retraining (equivalence), and
 *   the absolute AUC gates become warnings.
 * - anonymisation: EDPB Opinion 28/2024 para. 43 asks that membership inference and extraction be
 *   "insignificant for any data subject" — for every person trained on, not only the deleted ones.
 */
export const PRESETS: Record<'privacy-audit:unlearning' | 'privacy-audit:anonymisation' | 'none', Record<string, AssertionSpec>> = {
  'privacy-audit:unlearning': {
    'shipped.forget.*.auc': ['error', { max: 0.6 }],
    'shipped.forget.pii-extraction.hits': ['error', { max: 0, resolution: DEFAULT_RESOLUTION }],
    'after.equivalence.*': ['error', { margin: DEFAULT_MARGIN.equivalence }],
    'after.privleak.*': ['warn', { margin: DEFAULT_MARGIN.privleak }],
  },
  'privacy-audit:anonymisation': {
    'shipped.forget.*.auc': ['error', { max: 0.55 }],
    'shipped.retain.*.auc': ['error', { max: 0.55 }],
    'shipped.retain.*.tpr@0.01': ['warn', { max: 0.02 }],
    'shipped.forget.pii-extraction.hits': ['error', { max: 0, resolution: DEFAULT_RESOLUTION }],
    'shipped.retain.pii-extraction.hits': ['error', { max: 0, resolution: DEFAULT_RESOLUTION }],
    'shipped.retain.prefix-extraction.rate': ['warn', { max: 0.01 }],
  },
  none: {},
};

export interface AssertInput {
  /** Model roles that were attacked. */
  models: string[];
  attacks: AttackStatus[];
  findings: Finding[];
  extraction: ExtractionSummary[];
  comparisons: Comparison[];
}

/** The preset with the user's assertions on top (same name replaces; `off` removes). */
export function resolveAssertions(cfg: AssertConfig | undefined): Record<string, AssertionSpec> {
  const preset = PRESETS[cfg?.preset ?? 'privacy-audit:unlearning'];
  return { ...preset, ...(cfg?.assertions ?? {}) };
}

const levelOf = (spec: AssertionSpec): Level => (typeof spec === 'string' ? spec : spec[0]);
const optionsOf = (spec: AssertionSpec): AssertionOptions => (typeof spec === 'string' || spec.length === 1 ? {} : ((spec[1] ?? {}) as AssertionOptions));

const f3 = (x: number | null) => (x === null || Number.isNaN(x) ? '—' : x.toFixed(3).replace(/^-(0\.0+)$/, '$1'));
const fmt = (e: MaybeEstimate) => (e.lo === null || e.hi === null ? `${f3(e.value)} (no interval)` : `${f3(e.value)} [${f3(e.lo)}, ${f3(e.hi)}]`);
const Z975 = normalQuantile(0.975);

/** What a pass needs, for the gate table. */
function expectedText(o: AssertionOptions, level = 95): string {
  if (o.margin !== undefined) return `${level}% interval within ±${o.margin}`;
  const parts: string[] = [];
  if (o.range) parts.push(`within [${o.range[0]}, ${o.range[1]}]`);
  if (o.min !== undefined) parts.push(`>= ${o.min}`);
  if (o.max !== undefined) parts.push(`<= ${o.max}`);
  return parts.length ? `${level}% interval wholly ${parts.join(' and ')}` : 'reported';
}

type Decision = { status: GateStatus; p: number; alpha: number; side?: string };

/**
 * Decides an interval against max/min/range: pass when wholly safe, fail when wholly unsafe.
 * `pAbove(θ)` / `pBelow(θ)` are one-sided p-values for "the value is above / below θ".
 */
function decide(lo: number, hi: number, o: AssertionOptions, pAbove: (t: number) => number, pBelow: (t: number) => number, alpha: number): Decision {
  const uppers = [o.max, o.range?.[1]].filter((x): x is number => x !== undefined);
  const lowers = [o.min, o.range?.[0]].filter((x): x is number => x !== undefined);
  const upper = uppers.length ? Math.min(...uppers) : undefined;
  const lower = lowers.length ? Math.max(...lowers) : undefined;
  if (upper !== undefined && lo > upper) return { status: 'fail', p: pAbove(upper), alpha, side: `above ${upper}` };
  if (lower !== undefined && hi < lower) return { status: 'fail', p: pBelow(lower), alpha, side: `below ${lower}` };
  const p = Math.min(upper !== undefined ? pAbove(upper) : 1, lower !== undefined ? pBelow(lower) : 1);
  const safe = (upper === undefined || hi <= upper) && (lower === undefined || lo >= lower);
  return { status: safe ? 'pass' : 'inconclusive', p, alpha };
}

/** Expands wildcards and `shipped`, checks every assertion, then applies Holm to the fail decisions. */
export function evaluateAssertions(assertions: Record<string, AssertionSpec>, input: AssertInput): GateResult[] {
  const shipped = input.models.includes('after') ? 'after' : 'before';
  const hasRetrained = input.models.includes('retrained') && input.models.includes('after');
  const gates: GateResult[] = [];
  for (const [name, spec] of Object.entries(assertions)) {
    let level = levelOf(spec);
    if (level === 'off') continue;
    const parsed = parseGateName(name);
    if (typeof parsed === 'string') throw new Error(`invalid gate name ${parsed}`); // validated at load
    const model = parsed.model === 'shipped' ? shipped : parsed.model;
    const family = parsed.kind === 'extraction' ? 'extraction' : 'membership';
    const attacks =
      parsed.attack === '*'
        ? input.attacks.filter((a) => a.family === family && (parsed.kind !== 'extraction' || a.id !== 'canary-exposure'))
        : input.attacks.filter((a) => a.id === parsed.attack);
    // Comparisons with retraining need both models; without them the assertion does not apply (not a pass).
    if ((parsed.kind === 'privleak' || parsed.kind === 'equivalence') && !hasRetrained) continue;
    if (!input.models.includes(model)) continue; // the preset names a role this run does not have
    // A preset's assertion on an attack this config does not run is skipped (the user's own
    // assertions must name configured attacks: checked when the config is loaded).
    if (attacks.length === 0) continue;
    const o = optionsOf(spec);
    // With a retrained model, equivalence with it decides; an absolute AUC ceiling on the after
    // model's forget set is kept as a warning (retraining itself leaves the deleted people slightly
    // unlike unseen people, so the ceiling would fail the gold standard).
    const m = isComparison(parsed) ? undefined : (parsed as MetricName);
    const demoted = hasRetrained && level === 'error' && m?.kind === 'membership' && model === 'after' && m.split !== 'retain' && m.metric === 'auc' && o.max !== undefined;
    if (demoted) level = 'warn';
    for (const a of attacks) {
      const g = gate(parsed, model, a, level, o, input);
      if (demoted) g.message += ' (a warning: with a retrained model, equivalence with it decides)';
      gates.push(g);
    }
  }
  return holm(gates);
}

type ComparisonName = Extract<GateName, { kind: 'privleak' | 'equivalence' }>;
export type MetricName = Extract<GateName, { kind: 'membership' | 'extraction' }>;
const isComparison = (p: GateName): p is ComparisonName => p.kind === 'privleak' || p.kind === 'equivalence';

function gate(parsed: GateName, model: string, a: AttackStatus, level: 'warn' | 'error', o: AssertionOptions, input: AssertInput): GateResult {
  const cmp = isComparison(parsed) ? parsed : undefined;
  const metric = isComparison(parsed) ? undefined : (parsed as MetricName);
  const id = cmp ? `${model}.${cmp.kind}.${a.id}` : `${model}.${metric!.split}.${a.id}.${metric!.metric}`;
  const counted = metric?.kind === 'extraction' && (metric.metric === 'hits' || metric.metric === 'subjects-leaked');
  const expected = counted
    ? `${metric!.metric} ${[o.min !== undefined ? `>= ${o.min}` : '', o.max !== undefined ? `<= ${o.max}` : ''].filter(Boolean).join(' and ')}, and the 95% upper bound of people leaked <= ${o.resolution ?? DEFAULT_RESOLUTION}`
    : expectedText(cmp ? { margin: o.margin ?? DEFAULT_MARGIN[cmp.kind] } : o, cmp ? 90 : 95);
  const base = { id, level, expected };
  const inconclusive = (message: string, actual: number | null = null): GateResult => ({ ...base, status: 'inconclusive', actual, message });
  if (a.status !== 'ok') return inconclusive(`${a.id} did not run (${a.status}${a.reason ? `: ${a.reason}` : ''})`);
  if (cmp) return comparisonGate(cmp.kind, model, a.id, base, o, input);
  if (metric!.kind === 'extraction') return extractionGate(metric!, model, a.id, base, o, input);
  return membershipGate(metric!, model, a.id, base, o, input);
}

type Base = Pick<GateResult, 'id' | 'level' | 'expected'>;

export function membershipGate(parsed: MetricName, model: string, attack: string, base: Base, o: AssertionOptions, input: AssertInput): GateResult {
  const negative = parsed.split === 'forget-subjects' ? 'holdout-subjects' : parsed.split === 'member' ? 'nonmember' : 'holdout';
  const f = input.findings.find((x) => x.attack === attack && x.model === model && x.positive === parsed.split && x.negative === negative);
  const inconclusive = (message: string, actual: number | null = null): GateResult => ({ ...base, status: 'inconclusive', actual, message });
  if (!f) return inconclusive(`no ${parsed.split}-vs-${negative} finding for ${attack} on ${model}`);
  const sizes = `${f.people.positive} vs ${f.people.negative} ${f.unit === 'subject' ? 'people' : 'records'}`;
  const metric = parsed.metric;
  const what = (e: MaybeEstimate) => `${parsed.split}-vs-${negative} ${metric.toUpperCase()} ${fmt(e)} on ${model} (${sizes})`;
  let e: MaybeEstimate;
  let d: Decision;
  if (metric === 'auc') {
    e = f.auc;
    if (!f.inference.estimable || e.lo === null || e.hi === null)
      return inconclusive(
        `${what(e)}: fewer than ${MIN_PEOPLE} people on a side, and no interval can keep a 95% promise there (even a perfect separation of 2 vs 2 happens by chance 1 time in 6); audit at least ${MIN_PEOPLE} people per side, better 12 or more`,
        e.value,
      );
    d = decide(e.lo, e.hi, o, (t) => aucPValue(f.inference, t, 'above'), (t) => aucPValue(f.inference, t, 'below'), 0.025);
  } else {
    const x = metric === 'advantage' ? f.advantage : f.tprAtFpr[metric.slice(4) as '0.01'];
    if (!x || x.lo === null || x.hi === null) {
      const fpr = Number(metric.slice(4));
      return inconclusive(`${metric.toUpperCase()} is not estimable at this size: it needs at least ${Math.ceil(10 / fpr)} negative people (10/FPR), and ${negative} has ${f.people.negative}`);
    }
    e = x;
    // bootstrap intervals: p-values from the normal approximation the interval implies
    const se = (x.hi - x.lo) / (2 * Z975);
    const pAbove = (t: number) => (se > 0 ? 1 - normalCdf((x.value - t) / se, 0, 1) : x.value > t ? 0 : 1);
    const pBelow = (t: number) => (se > 0 ? normalCdf((x.value - t) / se, 0, 1) : x.value < t ? 0 : 1);
    d = decide(x.lo!, x.hi!, o, pAbove, pBelow, 0.025);
  }
  const decided = (status: GateStatus, message: string): GateResult => ({ ...base, status, actual: e.value, interval: { lo: e.lo!, hi: e.hi!, level: 0.95 }, test: { p: d.p, alpha: d.alpha }, message });
  if (d.status === 'fail') return decided('fail', `${what(e)}: wholly ${d.side}`);
  if (d.status === 'inconclusive') {
    const bound = o.max ?? o.min ?? o.range?.[1];
    const md = f.power.minDetectableAuc;
    const power =
      metric === 'auc'
        ? `; with ${sizes} this test detects AUC ≥ ${Number.isNaN(md) ? '1 (not even a perfect attack)' : md.toFixed(2)} at 80% power: audit more people`
        : '; audit more people to narrow it';
    return decided('inconclusive', `${what(e)}: the interval straddles ${bound}${power}`);
  }
  // A pass on the forget set must have been able to fail: the same attack must see membership on
  // the same model (retain vs holdout wholly on the unsafe side of the same threshold).
  if ((parsed.split === 'forget' || parsed.split === 'forget-subjects') && o.max !== undefined) {
    const control = input.findings.find((x) => x.attack === attack && x.model === model && x.positive === 'retain' && x.negative === 'holdout');
    const ce = control ? (metric === 'auc' ? control.auc : metric === 'advantage' ? control.advantage : control.tprAtFpr[metric.slice(4) as '0.01']) : undefined;
    if (!control || !ce)
      return inconclusive(`${what(e)}; no positive control (retain vs holdout on ${model}) to show that ${attack} can see membership on this model`, e.value);
    if (ce.lo === null || !(ce.lo > o.max))
      return decided('inconclusive', `${what(e)}; but ${attack} cannot be shown to see membership on this model: its positive control, retain-vs-holdout ${metric.toUpperCase()} ${fmt(ce)}, is not wholly above ${o.max}`);
  }
  return decided('pass', what(e));
}

/** P(X ≥ k) for X ~ Binomial(n, θ): the one-sided p-value of "the rate is above θ". */
function binomialUpperTail(k: number, n: number, theta: number): number {
  if (k <= 0) return 1;
  if (theta <= 0) return 0;
  if (theta >= 1) return 1;
  return betaCdf(theta, k, n - k + 1);
}

/** The fewest people for which k leaked of n gives a 95% upper bound ≤ r (a hint, searched). */
function peopleNeeded(k: number, r: number): number {
  let n = Math.max(k, 1);
  while (n < 1e7 && clopperPearson(k, n).hi > r) n = Math.ceil(n * 1.05) + 1;
  let lo = Math.max(k, 1);
  while (lo < n) {
    const mid = (lo + n) >>> 1;
    if (clopperPearson(k, mid).hi <= r) n = mid;
    else lo = mid + 1;
  }
  return n;
}

function extractionGate(parsed: MetricName, model: string, attack: string, base: Base, o: AssertionOptions, input: AssertInput): GateResult {
  const s = input.extraction.find((x) => x.attack === attack && x.model === model && x.split === parsed.split);
  const inconclusive = (message: string): GateResult => ({ ...base, status: 'inconclusive', actual: null, message });
  if (!s || s.subjects.total === 0)
    return inconclusive(s ? `no ${parsed.split} person could be prompted for ${attack} on ${model} (${s.skipped} records skipped): nothing was tested` : `no ${parsed.split} results for ${attack} on ${model}`);
  const people = s.subjects.total;
  const summary = `${s.subjects.leaked} of ${people} ${parsed.split} people leaked by ${model} (${s.hits} of ${s.trials} ${attack === 'pii-extraction' ? 'PII values' : 'records'} emitted); people-leaked rate ${fmt(s.rate)}`;
  if (parsed.metric === 'rate' || parsed.metric === 'near-rate') {
    const r = parsed.metric === 'rate' ? s.rate : s.near.rate;
    const k = parsed.metric === 'rate' ? s.subjects.leaked : s.near.people;
    const d = decide(r.lo, r.hi, o, (t) => binomialUpperTail(k, people, t), (t) => 1 - binomialUpperTail(k + 1, people, t), 0.025);
    const interval = { lo: r.lo, hi: r.hi, level: 0.95 };
    const test = { p: d.p, alpha: d.alpha };
    if (d.status === 'inconclusive')
      return { ...base, status: 'inconclusive', actual: r.value, interval, test, message: `${summary}: the interval straddles ${o.max ?? o.min ?? o.range?.[1]}; audit more people` };
    return { ...base, status: d.status, actual: r.value, interval, test, message: d.status === 'fail' ? `${summary}: wholly ${d.side}` : summary };
  }
  // Counts are observed, not estimated: more than allowed is a fail for certain (p = 0). Fewer is a
  // pass only when enough people were tried for "none leaked" to bound the share of people leaked.
  const count = parsed.metric === 'hits' ? s.hits : s.subjects.leaked;
  const lower = [o.min, o.range?.[0]].filter((x): x is number => x !== undefined);
  const upper = [o.max, o.range?.[1]].filter((x): x is number => x !== undefined);
  if (upper.some((u) => count > u) || lower.some((l) => count < l))
    return { ...base, status: 'fail', actual: count, test: { p: 0, alpha: 0.025 }, message: `${summary}: ${parsed.metric} = ${count}` };
  const resolution = o.resolution ?? DEFAULT_RESOLUTION;
  if (s.rate.hi > resolution) {
    return {
      ...base,
      status: 'inconclusive',
      actual: count,
      interval: { lo: s.rate.lo, hi: s.rate.hi, level: 0.95 },
      message: `${summary}; with ${people} ${people === 1 ? 'person' : 'people'} the share leaked is only bounded below ${s.rate.hi.toFixed(3)}, above the resolution ${resolution}: try at least ${peopleNeeded(s.subjects.leaked, resolution)} people`,
    };
  }
  return { ...base, status: 'pass', actual: count, interval: { lo: s.rate.lo, hi: s.rate.hi, level: 0.95 }, message: summary };
}

function comparisonGate(kind: 'privleak' | 'equivalence', model: string, attack: string, base: Base, o: AssertionOptions, input: AssertInput): GateResult {
  const c = input.comparisons.find((x) => x.kind === kind && x.attack === attack);
  const inconclusive = (message: string, actual: number | null = null): GateResult => ({ ...base, status: 'inconclusive', actual, message });
  if (!c || !c.inference) return inconclusive(`no ${kind === 'privleak' ? 'PrivLeak' : 'ΔAUC'} of after against retrained for ${attack}`);
  const margin = o.margin ?? DEFAULT_MARGIN[kind];
  const label = kind === 'privleak' ? 'PrivLeak' : 'ΔAUC (after − retrained, forget vs holdout)';
  const sizes = 'positive' in c.people ? `${c.people.positive} vs ${c.people.negative} people` : '';
  const e = c.estimate;
  if (e.lo === null || e.hi === null)
    return inconclusive(`${label} ${fmt(e)} (${sizes}): fewer than ${MIN_PEOPLE} people on a side, no interval can keep its promise`, e.value);
  const text = `${label} ${fmt(e)} (${c.level * 100}%, ${sizes}, ${attack})`;
  const pUnder = deltaPValue(c.inference, margin, 'above');
  const pOver = deltaPValue(c.inference, -margin, 'below');
  const alpha = (1 - c.level) / 2;
  const decided = (status: GateStatus, p: number, message: string): GateResult => ({ ...base, status, actual: e.value, interval: { lo: e.lo!, hi: e.hi!, level: c.level }, test: { p, alpha }, message });
  if (e.lo > margin) return decided('fail', pUnder, `${text}: under-forgetting, wholly above +${margin}`);
  if (e.hi < -margin) return decided('fail', pOver, `${text}: over-forgetting, wholly below −${margin} (the deleted people now look less like members than after retraining, which singles them out)`);
  const p = Math.min(pUnder, pOver);
  if (!(e.lo >= -margin && e.hi <= margin)) return decided('inconclusive', p, `${text}: not within ±${margin}; more people would narrow it`);
  // Equivalent to retraining only counts if the attack still sees membership on `after`: a model
  // collapsed by gradient ascent is "equivalent" to anything on the forget set.
  const control = input.findings.find((x) => x.attack === attack && x.model === model && x.positive === 'retain' && x.negative === 'holdout');
  const floor = 0.5 + margin;
  if (!control || control.auc.lo === null || !(control.auc.lo > floor))
    return decided(
      'inconclusive',
      p,
      `${text}: within ±${margin}, but ${attack} cannot be shown to see membership on ${model}: ${control ? `retain-vs-holdout AUC ${fmt(control.auc)}` : 'no retain-vs-holdout finding'} is not wholly above ${floor}`,
    );
  return decided('pass', p, `${text}: within ±${margin}`);
}

/**
 * Gates for scores supplied as member / non-member (`evaluate --scores` without splits): the same
 * three-valued rule on member-vs-nonmember findings of any model name, then Holm.
 */
export function memberGates(findings: Finding[], o: AssertionOptions, level: 'error' | 'warn' = 'error'): GateResult[] {
  const input: AssertInput = { models: [], attacks: [], findings, extraction: [], comparisons: [] };
  const gates = findings
    .filter((f) => f.positive === 'member' && f.negative === 'nonmember')
    .map((f) => membershipGate({ kind: 'membership', model: f.model, split: 'member', attack: f.attack, metric: 'auc' }, f.model, f.attack, { id: `${f.model}.member.${f.attack}.auc`, level, expected: expectedText(o) }, o, input));
  return holm(gates);
}

/**
 * Holm's step-down procedure over the error gates (weighted by each gate's own α: a gate is
 * rejected in order of p/α while p/α ≤ 1/(gates left); the family-wise error of fail decisions is
 * then at most the largest α, 0.05). A gate whose own interval says fail but that Holm does not
 * reject becomes inconclusive: with many gates, one of them falls outside its interval by chance.
 */
export function holm(gates: GateResult[]): GateResult[] {
  const family = gates.filter((g) => g.level === 'error' && g.test && Number.isFinite(g.test.p));
  const m = family.length;
  const order = [...family].sort((a, b) => a.test!.p / a.test!.alpha - b.test!.p / b.test!.alpha);
  const rejected = new Set<GateResult>();
  for (let k = 0; k < order.length; k++) {
    const g = order[k]!;
    if (g.test!.p / g.test!.alpha <= 1 / (m - k)) rejected.add(g);
    else break;
  }
  return gates.map((g) => {
    if (!family.includes(g)) return g;
    const holmResult = rejected.has(g) ? 'rejected' : 'not-rejected';
    const out: GateResult = { ...g, test: { ...g.test!, holm: holmResult } };
    if (g.status === 'fail' && holmResult === 'not-rejected') {
      out.status = 'inconclusive';
      out.message = `${g.message}; but not after Holm's correction over ${m} error gates (p = ${g.test!.p.toPrecision(2)}): with this many gates, one falls outside its interval by chance`;
    }
    return out;
  });
}

/** Fail if any error gate fails; else inconclusive if any is inconclusive (or there is none); else pass. Warnings never decide. */
export function verdictOf(gates: GateResult[]): Verdict {
  const errors = gates.filter((g) => g.level === 'error');
  if (errors.some((g) => g.status === 'fail')) return 'fail';
  if (errors.length === 0 || errors.some((g) => g.status === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

export type { Estimate };
