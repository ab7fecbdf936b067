/**
 * Checking a DP claim about `before` (issue #14; ../shared/research/dp-claims.md):
 * 1. arithmetic: recompute ε from σ, q, T at the claimed δ (RDP and PRV) → gate `claims.dp.parameters`;
 * 2. one-run audit on canaries randomly included by the auditor → gate `claims.dp.refuted`
 *    ("refuted" or "consistent with the claim, not proven": an audit can refute a DP claim, never prove it);
 * 3. the membership attacks' Jagielski-style bounds, reported as empirical leakage (members were not
 *    randomly included, so they are not a DP audit) → warning gate `claims.dp.empirical-leakage`.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors.ts';
import type { GateResult } from '../../assert/index.ts';
import { oneRunAudit } from './one-run.ts';
import { prvEpsilon } from './prv.ts';
import { rdpEpsilon, type HistoryEntry } from './rdp.ts';
import type { DpClaimSummary } from './types.ts';

export interface ResolvedDpClaim {
  epsilon: number;
  delta: number;
  accountant: 'rdp' | 'prv';
  library: 'opacus' | 'dp-accounting';
  unit: 'example' | 'user';
  history: HistoryEntry[];
  parametersFrom: string;
  stepsRule?: string;
  canaries?: { manifestDigest: string; included: boolean[]; candidates: number };
}

/** The config's parameters as a history (q = B/N, T = ceil(epochs/q) as TF Privacy counts them). */
export function historyFromParameters(c: { noiseMultiplier: number; sampleRate?: number | undefined; steps?: number | undefined; epochs?: number | undefined; datasetSize?: number | undefined; batchSize?: number | undefined }): { history: HistoryEntry[]; stepsRule?: string } {
  const q = c.sampleRate ?? c.batchSize! / c.datasetSize!;
  if (c.steps !== undefined) return { history: [{ noiseMultiplier: c.noiseMultiplier, sampleRate: q, steps: c.steps }] };
  const steps = Math.ceil(c.epochs! / q - 1e-9);
  return { history: [{ noiseMultiplier: c.noiseMultiplier, sampleRate: q, steps }], stepsRule: `T = ceil(epochs / q) = ceil(${c.epochs} / ${q}) = ${steps} (TF Privacy's count; Opacus takes the optimizer steps actually made)` };
}

/**
 * The training run's own record. Accepted: an Opacus accountant `state_dict()` written as JSON,
 * `{ "history": [[noise_multiplier, sample_rate, steps], ...], "mechanism": "prv" | "rdp" | "gdp" }`
 * (`json.dump(engine.accountant.state_dict(), f)`), or the same history as objects
 * `{ "noiseMultiplier", "sampleRate", "steps" }`.
 */
export async function readTrainingRecord(file: string): Promise<{ history: HistoryEntry[]; mechanism?: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code ? `cannot read the training record: ${err.code}` : `not JSON: ${err.message}; expected an Opacus accountant state_dict as JSON`, { file });
  }
  const o = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || !Array.isArray(o.history) || o.history.length === 0)
    throw new InputError('expected { "history": [[noise_multiplier, sample_rate, steps], ...] } (an Opacus accountant state_dict as JSON) with at least one entry', { file, field: 'history' });
  const history = o.history.map((h: unknown, i: number): HistoryEntry => {
    const at = { file, record: i + 1, field: `history[${i}]` };
    const [s, q, t] = Array.isArray(h) ? h : [(h as Record<string, unknown>)?.noiseMultiplier, (h as Record<string, unknown>)?.sampleRate, (h as Record<string, unknown>)?.steps];
    if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) throw new InputError(`expected a noise multiplier > 0, got ${JSON.stringify(s)}`, at);
    if (typeof q !== 'number' || !(q > 0 && q <= 1)) throw new InputError(`expected a sample rate in (0, 1], got ${JSON.stringify(q)}`, at);
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1) throw new InputError(`expected a positive integer step count, got ${JSON.stringify(t)}`, at);
    return { noiseMultiplier: s, sampleRate: q, steps: t };
  });
  if (o.mechanism !== undefined && !['prv', 'rdp', 'gdp'].includes(o.mechanism as string))
    throw new InputError(`expected "prv", "rdp" or "gdp", got ${JSON.stringify(o.mechanism)}`, { file, field: 'mechanism' });
  return { history, ...(typeof o.mechanism === 'string' ? { mechanism: o.mechanism } : {}) };
}

/** Half a unit in the last decimal the number is written with (2.39 → 0.005): the claim's own rounding. */
export function roundingOf(x: number): number {
  const s = String(x);
  const m = /\.(\d+)(?:e([+-]\d+))?$/i.exec(s) ?? /()e([+-]\d+)$/i.exec(s);
  if (!m) return 0.5;
  return 0.5 * 10 ** (-(m[1]?.length ?? 0) + Number(m[2] ?? 0));
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

export interface CheckInput {
  /** Per canary (manifest order), the one-run score on the claimed model (higher = more likely included). */
  canaryScores?: { model: string; scores: number[]; scoring: string };
  findings: { attack: string; model: string; positive: string; negative: string; unit: 'subject' | 'record'; epsilon?: { lowerBound: number; cap: number; delta: number } }[];
  seed: number;
  /** The model the claim is about. */
  model: string;
}

export function checkDpClaim(claim: ResolvedDpClaim, input: CheckInput): { summary: DpClaimSummary; gates: GateResult[] } {
  const gates: GateResult[] = [];
  const rdp = rdpEpsilon(claim.history, claim.delta, { library: claim.library });
  const basic = rdpEpsilon(claim.history, claim.delta, { library: claim.library, conversion: 'basic' });
  let prv: DpClaimSummary['recomputed']['prv'];
  let prvError: string | undefined;
  try {
    const p = prvEpsilon(claim.history, claim.delta);
    prv = { epsilon: p.epsilon, estimate: p.estimate, lower: p.lower, epsError: p.epsError };
  } catch (e) {
    prvError = (e as Error).message;
  }
  // The claim as written is read as rounded to its last decimal, but never by more than 1% of it
  // (YAML's 2.0 arrives as 2, and "2" must not cover 2.49).
  const rounding = Math.min(roundingOf(claim.epsilon), 0.01 * claim.epsilon);
  const eps = claim.epsilon;
  // A claim follows when some valid upper bound (RDP, or PRV's upper end) is at most the claim;
  // it does not when it is below even PRV's lower end (the tightest accounting of the mechanism).
  const best = Math.min(rdp.epsilon, prv?.epsilon ?? Infinity);
  // Without PRV nothing bounds the mechanism's ε from below (RDP is only an upper bound): never "does not follow".
  const floor = prv ? prv.lower : -Infinity;
  const parameters: DpClaimSummary['parameters'] = eps + rounding >= best ? 'follows' : eps + rounding < floor ? 'does-not-follow' : 'undecided';
  const params = claim.history.map((h) => `σ = ${h.noiseMultiplier}, q = ${h.sampleRate.toPrecision(4)}, T = ${h.steps}`).join('; ');
  const numbers = `RDP (${claim.library} orders, improved conversion) ε = ${f3(rdp.epsilon)} at α = ${rdp.alpha}; PRV (Opacus, ε_err ${prv?.epsError ?? 0.01}) ε ≤ ${prv ? f3(prv.epsilon) : `not computed: ${prvError}`}${prv ? ` (estimate ${f3(prv.estimate)})` : ''}`;
  gates.push({
    id: 'claims.dp.parameters',
    level: 'error',
    status: parameters === 'follows' ? 'pass' : parameters === 'does-not-follow' ? 'fail' : 'inconclusive',
    expected: `claimed ε ≥ the ε recomputed from the training parameters at δ = ${claim.delta}`,
    actual: best,
    message:
      parameters === 'does-not-follow'
        ? `the claim does not follow from the training parameters: claimed ε = ${eps}, recomputed ε = ${f3(prv?.lower ?? rdp.epsilon)} at the least (${numbers}; ${params})`
        : parameters === 'follows'
          ? `the claimed ε = ${eps} follows from the training parameters (${numbers}; ${params})`
          : `claimed ε = ${eps} lies within the PRV accountant's error band: ${numbers}; ${params}`,
  });

  let oneRun: DpClaimSummary['oneRun'];
  let oneRunMissing: string | undefined;
  if (!claim.canaries) oneRunMissing = 'no canaries: the auditor did not randomise any record into training (claims.dp.canaries), so no DP audit was possible';
  else if (!input.canaryScores) oneRunMissing = 'the canaries could not be scored on the claimed model (see the canary-exposure attack)';
  else {
    const a = oneRunAudit(input.canaryScores.scores, claim.canaries.included.map((b) => (b ? 1 : 0)), { seed: input.seed, delta: claim.delta, claimedEpsilon: eps });
    oneRun = {
      model: input.canaryScores.model,
      manifestDigest: claim.canaries.manifestDigest,
      canaries: claim.canaries.included.length,
      scoring: input.canaryScores.scoring,
      lowerBound: a.lowerBound,
      ceiling: a.ceiling,
      pValueAtClaim: a.pValueAtClaim!,
      significance: a.significance,
      m: a.m,
      guesses: a.guesses,
      correct: a.correct,
      included: a.included,
      thresholdCanaries: a.thresholdCanaries,
      threshold: Number.isFinite(a.threshold) ? a.threshold : null,
    };
  }
  const verdict: DpClaimSummary['verdict'] = !oneRun ? 'not-audited' : oneRun.lowerBound > eps ? 'refuted' : 'consistent-not-proven';
  const counts = oneRun ? `${oneRun.correct} of ${oneRun.guesses} guesses correct on ${oneRun.m} audit canaries (${oneRun.included} included)` : '';
  gates.push({
    id: 'claims.dp.refuted',
    level: oneRun ? 'error' : 'warn',
    status: verdict === 'refuted' ? 'fail' : verdict === 'consistent-not-proven' ? 'pass' : 'inconclusive',
    expected: `one-run ε lower bound (95%) ≤ claimed ε = ${eps}`,
    actual: oneRun ? oneRun.lowerBound : null,
    ...(oneRun ? { test: { p: oneRun.pValueAtClaim, alpha: oneRun.significance } } : {}),
    message: !oneRun
      ? `not audited as DP: ${oneRunMissing}`
      : verdict === 'refuted'
        ? `claim refuted (95% confidence): ε ≥ ${f3(oneRun.lowerBound)} > claimed ${eps}; ${counts}; p = ${oneRun.pValueAtClaim.toPrecision(3)} at the claim; largest ε this audit could have shown ${f3(oneRun.ceiling)}`
        : `consistent with the claim, not proven: ε lower bound ${f3(oneRun.lowerBound)} ≤ claimed ${eps}; ${counts}; largest ε this audit could have shown ${f3(oneRun.ceiling)}${oneRun.ceiling <= eps ? ' — below the claim: at this size the audit could not have refuted it' : ''}`,
  });

  const empirical = input.findings
    .filter((f) => f.model === input.model && f.epsilon && f.negative.startsWith('holdout'))
    .map((f) => ({ attack: f.attack, model: f.model, positive: f.positive, negative: f.negative, lowerBound: f.epsilon!.lowerBound, cap: f.epsilon!.cap, delta: f.epsilon!.delta, unit: f.unit }));
  if (empirical.length > 0) {
    const top = empirical.reduce((a, b) => (b.lowerBound > a.lowerBound ? b : a));
    const what = `${top.attack}, ${top.positive} vs ${top.negative} on ${top.model}: ε ≥ ${f3(top.lowerBound)} (largest this sample could show ${f3(top.cap)})`;
    gates.push({
      id: 'claims.dp.empirical-leakage',
      level: 'warn',
      status: top.lowerBound > eps ? 'fail' : 'pass',
      expected: `empirical leakage ε lower bound ≤ claimed ε = ${eps} (not a DP audit: members were not randomly included)`,
      actual: top.lowerBound,
      message:
        top.lowerBound > eps
          ? `empirical leakage above the claim (not a DP audit: members were not randomly included, so a distribution shift can also explain it): ${what}`
          : `empirical leakage within the claim (not a DP audit): ${what}`,
    });
  }

  return {
    summary: {
      claim: {
        epsilon: eps,
        delta: claim.delta,
        accountant: claim.accountant,
        library: claim.library,
        unit: claim.unit,
        history: claim.history,
        parametersFrom: claim.parametersFrom,
        ...(claim.stepsRule ? { stepsRule: claim.stepsRule } : {}),
      },
      recomputed: {
        rdp: { epsilon: rdp.epsilon, alpha: rdp.alpha, atEdge: rdp.atEdge, library: rdp.library },
        rdpBasic: { epsilon: basic.epsilon, alpha: basic.alpha },
        ...(prv ? { prv } : {}),
        ...(prvError ? { prvError } : {}),
      },
      parameters,
      rounding,
      ...(oneRun ? { oneRun } : {}),
      ...(oneRunMissing ? { oneRunMissing } : {}),
      empirical,
      verdict,
    },
    gates,
  };
}

/**
 * The claim gates' levels and statuses as they follow from a recorded `claims.dp` section, so
 * `privacy-audit verify` can check them like the gates that follow from findings.
 */
export function dpGateStatuses(s: DpClaimSummary): Pick<GateResult, 'id' | 'level' | 'status'>[] {
  const out: Pick<GateResult, 'id' | 'level' | 'status'>[] = [
    { id: 'claims.dp.parameters', level: 'error', status: s.parameters === 'follows' ? 'pass' : s.parameters === 'does-not-follow' ? 'fail' : 'inconclusive' },
    { id: 'claims.dp.refuted', level: s.oneRun ? 'error' : 'warn', status: s.verdict === 'refuted' ? 'fail' : s.verdict === 'consistent-not-proven' ? 'pass' : 'inconclusive' },
  ];
  if (s.empirical.length > 0) {
    const top = Math.max(...s.empirical.map((e) => e.lowerBound));
    out.push({ id: 'claims.dp.empirical-leakage', level: 'warn', status: top > s.claim.epsilon ? 'fail' : 'pass' });
  }
  return out;
}
