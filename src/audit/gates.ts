/**
 * The gates of a run: the configured assertions (`assert:` in the config; the
 * `privacy-audit:unlearning` preset by default), plus, when there is an `after` model and no
 * retrained one, a warning per membership attack that the after model's forget-vs-holdout interval
 * should contain 0.5 (see src/assert for the rules and why a gate is inconclusive).
 */
import { evaluateAssertions, resolveAssertions, type AssertConfig, type AttackStatus, type GateResult } from '../assert/index.ts';
import type { Comparison } from './compare.ts';
import type { ExtractionSummary, Finding } from './measure.ts';

export { verdictOf, type AttackStatus, type GateResult, type GateStatus, type Verdict } from '../assert/index.ts';

/** The default gate's AUC ceiling (privacy-audit:unlearning), also used by `evaluate --scores`. */
export const DEFAULT_MAX_AUC = 0.6;

export function defaultGates(
  input: {
    gateModel: string;
    attacks: AttackStatus[];
    findings: Finding[];
    extraction: ExtractionSummary[];
    comparisons?: Comparison[];
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
  // Without a retrained model, the deleted people should look exactly like people never seen: the
  // interval should contain 0.5 (below it is over-forgetting, itself a signal). A warning, not an
  // error: with several attacks, one interval in twenty misses 0.5 by chance.
  if (input.gateModel === 'after' && !models.has('retrained')) {
    for (const f of input.findings) {
      if (f.model !== 'after' || f.positive !== 'forget' || f.negative !== 'holdout') continue;
      const contains = f.auc.lo <= 0.5 && f.auc.hi >= 0.5;
      gates.push({
        id: `after.forget.${f.attack}.auc-contains-0.5`,
        level: 'warn',
        status: contains ? 'pass' : 'fail',
        expected: 'auc.lo <= 0.5 <= auc.hi',
        actual: f.auc.value,
        message: `forget-vs-holdout AUC ${f.auc.value.toFixed(3)} [${f.auc.lo.toFixed(3)}, ${f.auc.hi.toFixed(3)}] on after; two-sample KS D = ${f.ks.statistic.toFixed(3)}, p = ${f.ks.pvalue.toPrecision(3)}${contains ? '' : f.auc.hi < 0.5 ? ' (below chance: over-forgetting)' : ''}`,
      });
    }
  }
  return gates;
}
