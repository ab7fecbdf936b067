/**
 * The gates of a run: the configured assertions (`assert:` in the config; the
 * `privacy-audit:unlearning` preset by default), plus, when there is an `after` model and no
 * retrained one, a warning per membership attack when the after model's forget-vs-holdout interval
 * lies wholly below chance (over-forgetting; see src/assert for the rules).
 */
import { evaluateAssertions, resolveAssertions, type AssertConfig, type AttackStatus, type GateResult } from '../assert/index.ts';
import type { Comparison } from './compare.ts';
import type { ExtractionSummary, Finding } from './measure.ts';

export { verdictOf, type AttackStatus, type GateResult, type GateStatus, type Verdict } from '../assert/index.ts';

/** The default gate's AUC ceiling (privacy-audit:unlearning), also used by `evaluate --scores`. */
export const DEFAULT_MAX_AUC = 0.6;

/** How far below chance the deleted people may look, without a retrained model, before a warning. */
export const OVER_FORGETTING_MARGIN = 0.05;

/** An `after` that is, file for file, the frozen base of a LoRA `before`: the adapter was dropped (src/claims/lora). */
export interface AdapterDropped {
  /** The base as written in the config. */
  base: string;
  /** Files compared (relative to the model folder), all with equal SHA-256. */
  files: number;
}

export function defaultGates(
  input: {
    gateModel: string;
    attacks: AttackStatus[];
    findings: Finding[];
    extraction: ExtractionSummary[];
    comparisons?: Comparison[];
    /** The models of the result (only `adapterDropped` is read). */
    models?: { role: string; adapterDropped?: AdapterDropped }[];
  },
  assert?: AssertConfig,
): GateResult[] {
  const comparisons = input.comparisons ?? [];
  const models = new Set<string>([input.gateModel, ...input.findings.map((f) => f.model), ...input.extraction.map((e) => e.model)]);
  if (comparisons.some((c) => c.kind === 'privleak')) models.add('after').add('retrained');
  const gates = evaluateAssertions(resolveAssertions(assert), {
    models: [...models],
    attacks: input.attacks,
    findings: input.findings,
    extraction: input.extraction,
    comparisons,
  });
  // Without a retrained model, nothing says how the deleted people *should* look; the one thing that
  // is wrong for sure is looking less like members than people never seen (over-forgetting singles
  // them out). A warning per membership attack, decided by the whole interval like every gate.
  if (input.gateModel === 'after' && !models.has('retrained')) {
    for (const f of input.findings) {
      if (f.model !== 'after' || f.positive !== 'forget' || f.negative !== 'holdout') continue;
      const { lo, hi, value } = f.auc;
      const ks = `two-sample KS D = ${f.ks.statistic.toFixed(3)}, p = ${f.ks.pvalue.toPrecision(3)}`;
      const base = { id: `after.forget.${f.attack}.over-forgetting`, level: 'warn' as const, expected: `95% interval not wholly below 0.5 - ${OVER_FORGETTING_MARGIN}`, actual: value };
      if (lo === null || hi === null) {
        gates.push({ ...base, status: 'inconclusive', message: `forget-vs-holdout AUC ${value.toFixed(3)} on after: too few people for an interval; ${ks}` });
        continue;
      }
      const text = `forget-vs-holdout AUC ${value.toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}] on after; ${ks}`;
      const floor = 0.5 - OVER_FORGETTING_MARGIN;
      const status = hi < floor ? 'fail' : lo >= floor ? 'pass' : 'inconclusive';
      gates.push({ ...base, status, interval: { lo, hi, level: 0.95 }, message: status === 'fail' ? `${text}: wholly below ${floor}, over-forgetting` : text });
    }
  }
  // Deletion by dropping a LoRA adapter: `after` is the frozen base itself. That is exact deletion of
  // everything the adapter learnt, shown by the files' hashes, provided the base never saw the data
  // (a public base model). No attack can show a positive control on a model trained on none of the
  // audited records, so its membership gates could only ever be inconclusive: they are kept as
  // warnings, and the structural claim is the error gate (as a retrained model's equivalence
  // replaces the AUC ceilings). Extraction gates keep their level.
  const dropped = input.models?.find((m) => m.role === 'after')?.adapterDropped;
  if (dropped && input.gateModel === 'after') {
    const membership = new Set(input.attacks.filter((a) => a.family === 'membership').map((a) => a.id));
    for (const g of gates) {
      const [model, split, attack] = g.id.split('.');
      if (model === 'after' && split === 'forget' && attack !== undefined && membership.has(attack) && g.level === 'error') {
        g.level = 'warn';
        g.message += '; a warning only: after is the frozen base (adapter dropped), trained on none of the audited records, so no positive control can exist on it; the structural gate after.lora.adapter-dropped decides';
      }
    }
    gates.push({
      id: 'after.lora.adapter-dropped',
      level: 'error',
      status: 'pass',
      expected: 'after = the frozen base of before’s LoRA adapter, file for file',
      actual: dropped.files,
      message: `after is byte-for-byte the base model ${dropped.base} (SHA-256 of all ${dropped.files} model files equal): the adapter, the only part trained on the fine-tuning data, was dropped. This is exact deletion provided the base itself never saw these people (a public base model)`,
    });
  }
  return gates;
}
