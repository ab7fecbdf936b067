/** `privacy-audit evaluate --scores`: our statistics and outputs on scores computed elsewhere. */
import path from 'node:path';
import type { MembershipObservation, SplitName } from '../../attacks/types.ts';
import { memberGates, type AssertConfig } from '../assert/index.ts';
import { membershipComparisons } from '../audit/compare.ts';
import { DEFAULT_MAX_AUC, defaultGates, verdictOf, type GateResult } from '../audit/gates.ts';
import { membershipFinding, membershipFindings, subjectFindings, type Finding } from '../audit/measure.ts';
import type { ModelRole } from '../types.ts';
import { sha256 } from '../cache.ts';
import { DrawMemo } from '../metrics/bootstrap.ts';
import { InputError } from '../errors.ts';
import { SCHEMA_VERSION, type AuditResult } from '../result/types.ts';
import { TOOL } from '../version.ts';
import { readScores, type ScoreRow } from './scores.ts';
import { readObservations } from '../shadow/observations.ts';
import { liraScores, rmiaScores, shadowCalibration } from '../shadow/scores.ts';
import { readFile } from 'node:fs/promises';

/**
 * The default gate for supplied member / non-member scores: members must not be separable
 * (the 95% interval of the AUC wholly ≤ 0.6), three-valued like every gate.
 */
const memberGate = (findings: Finding[]): GateResult[] => memberGates(findings, { max: DEFAULT_MAX_AUC });

/** The parts of an `evaluate` result that do not depend on what was supplied: no extraction, no subjects. */
async function evaluateResult(
  role: string,
  file: string,
  seed: number,
  gates: GateResult[],
  rest: Pick<AuditResult, 'gateModel' | 'data' | 'models' | 'attacks' | 'findings' | 'config'>,
): Promise<AuditResult> {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { ...TOOL },
    kind: 'evaluate',
    verdict: verdictOf(gates),
    seed,
    gateModel: rest.gateModel,
    inputs: [{ role, path: path.basename(file), sha256: sha256(await readFile(file)) }],
    data: rest.data,
    models: rest.models,
    attacks: rest.attacks,
    findings: rest.findings,
    extraction: [],
    comparisons: [],
    exposure: [],
    subjects: [],
    gates,
    config: rest.config,
  };
}

export async function evaluateScores(file: string, opts: { seed: number; bootstrap?: number; assert?: AssertConfig }): Promise<AuditResult> {
  const rows = await readScores(file);
  const iterations = opts.bootstrap ?? 1000;
  if (rows.some((r) => r.split !== undefined)) return evaluateSplitScores(file, rows, { seed: opts.seed, iterations, assert: opts.assert });
  const models = [...new Set(rows.map((r) => r.model))];
  const findings = models.map((model) => {
    const mine = rows.filter((r) => r.model === model);
    const members = mine.filter((r) => r.member);
    const nonmembers = mine.filter((r) => !r.member);
    if (members.length === 0 || nonmembers.length === 0)
      throw new InputError(`model "${model}" needs both members and non-members (has ${members.length} members, ${nonmembers.length} non-members)`, { file, field: 'member' });
    const side = (name: string, xs: ScoreRow[]) => ({ name, scores: xs.map((r) => r.score), ids: xs.map((r) => r.id), subjects: xs.map((r) => r.subject) });
    return membershipFinding('scores', model, side('member', members), side('nonmember', nonmembers), { seed: opts.seed, iterations });
  });
  const gates = memberGate(findings);
  return evaluateResult('scores', file, opts.seed, gates, {
    gateModel: models.length === 1 ? models[0]! : models.join(','),
    data: dataOf(rows, models),
    models: models.map((m) => ({ role: m, ref: 'scores' })),
    attacks: [SCORES_ATTACK],
    findings,
    config: { scores: path.basename(file), seed: opts.seed },
  });
}

const SCORES_ATTACK = { id: 'scores', family: 'membership' as const, status: 'ok' as const, title: 'Scores supplied by the user', options: {}, reference: 'user-supplied scores' };

function dataOf(rows: ScoreRow[], models: string[]): AuditResult['data'] {
  return Object.fromEntries(
    models.map((m) => {
      const mine = rows.filter((r) => r.model === m);
      return [m, { records: mine.length, subjects: new Set(mine.map((r) => r.subject ?? r.id)).size }];
    }),
  );
}

const ROLES: ModelRole[] = ['before', 'after', 'retrained'];

/**
 * Scores with a `split` (forget, retain, holdout) per row: the same findings, positive controls,
 * comparisons (equivalence with `retrained`, PrivLeak, before → after), gates and verdict as `run`,
 * for teams that score their models in their own pipelines. Models are roles: before, after, retrained.
 */
async function evaluateSplitScores(file: string, rows: ScoreRow[], opts: { seed: number; iterations: number; assert?: AssertConfig }): Promise<AuditResult> {
  const bad = rows.find((r) => r.split === undefined);
  if (bad) throw new InputError('every row needs a split (forget, retain or holdout) when any row has one', { file, line: bad.line, field: 'split' });
  const models = [...new Set(rows.map((r) => r.model))];
  const wrong = rows.find((r) => !ROLES.includes(r.model as ModelRole));
  if (wrong) throw new InputError(`with splits, "model" is a model role (${ROLES.join(', ')}; default before), got "${wrong.model}"`, { file, line: wrong.line, field: 'model' });
  // Paired comparisons need every model to score the same records: the same ids per split, in one order.
  const idsOf = (m: string, split: SplitName) => rows.filter((r) => r.model === m && r.split === split).map((r) => r.id).sort();
  for (const split of ['forget', 'retain', 'holdout'] as const) {
    const first = idsOf(models[0]!, split).join('\u0000');
    for (const m of models.slice(1))
      if (idsOf(m, split).join('\u0000') !== first)
        throw new InputError(`model "${m}" scored other ${split} records than model "${models[0]}": every model must score the same records (paired comparisons)`, { file, field: 'id' });
  }
  if (idsOf(models[0]!, 'holdout').length === 0) throw new InputError('no holdout rows: membership is measured against records no model trained on', { file, field: 'split' });
  const observations: MembershipObservation[] = models.map((m) => {
    const splits: MembershipObservation['splits'] = {};
    for (const split of ['forget', 'retain', 'holdout'] as const) {
      const mine = rows.filter((r) => r.model === m && r.split === split).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (mine.length > 0) splits[split] = { ids: mine.map((r) => r.id), subjects: mine.map((r) => r.subject), scores: mine.map((r) => r.score) };
    }
    return { family: 'membership', model: m as ModelRole, splits };
  });
  // Every model's findings on the same people share the bootstrap's cluster draws.
  const stats = { seed: opts.seed, iterations: opts.iterations, draws: new DrawMemo() };
  const findings = [...membershipFindings('scores', observations, stats), ...subjectFindings('scores', observations, stats)];
  const comparisons = membershipComparisons('scores', observations);
  const gateModel = models.includes('after') ? 'after' : 'before';
  const gates = defaultGates({ gateModel, attacks: [SCORES_ATTACK], findings, extraction: [], comparisons }, opts.assert);
  return {
    ...(await evaluateResult('scores', file, opts.seed, gates, {
      gateModel,
      data: dataOf(rows, models),
      models: models.map((m) => ({ role: m, ref: 'scores' })),
      attacks: [SCORES_ATTACK],
      findings,
      config: { scores: path.basename(file), seed: opts.seed, ...(opts.assert ? { assert: opts.assert } : {}) },
    })),
    comparisons,
  };
}

export interface ObservationOptions {
  attack: 'lira' | 'rmia';
  offline?: boolean;
  fixedVariance?: boolean;
  gamma?: number;
  a?: number;
  perRecord?: boolean;
  seed: number;
  bootstrap?: number;
}

/** `evaluate --observations`: LiRA or RMIA on shadow outputs computed elsewhere (e.g. in PyTorch). */
export async function evaluateObservations(file: string, opts: ObservationOptions): Promise<AuditResult> {
  const obs = await readObservations(file);
  let scores: number[];
  try {
    scores =
      opts.attack === 'lira'
        ? liraScores(obs.records, { offline: opts.offline, fixedVariance: opts.fixedVariance })
        : rmiaScores(obs.records, obs.population, { offline: opts.offline, a: opts.a, gamma: opts.gamma });
  } catch (e) {
    throw new InputError((e as Error).message, { file });
  }
  const members = obs.records.map((r, i) => ({ r, s: scores[i]! })).filter((x) => x.r.member);
  const nonmembers = obs.records.map((r, i) => ({ r, s: scores[i]! })).filter((x) => !x.r.member);
  if (members.length === 0 || nonmembers.length === 0)
    throw new InputError(`target rows need both members and non-members (has ${members.length} and ${nonmembers.length})`, { file, field: 'member' });
  const finding = membershipFinding(
    opts.attack,
    'target',
    { name: 'member', scores: members.map((x) => x.s) },
    { name: 'nonmember', scores: nonmembers.map((x) => x.s) },
    { seed: opts.seed, iterations: opts.bootstrap ?? 1000 },
  );
  const options = {
    ...(opts.offline ? { offline: true } : {}),
    ...(opts.attack === 'lira' && opts.fixedVariance ? { fixedVariance: true } : {}),
    ...(opts.attack === 'rmia' ? { gamma: opts.gamma ?? 2, ...(opts.offline ? { a: opts.a ?? 0.3 } : {}) } : {}),
  };
  const withRecords = opts.perRecord ? { ...finding, records: obs.records.map((r, i) => ({ id: r.id, score: scores[i]! })) } : finding;
  // As in `run`: the target's confidences on non-members should look like the OUT shadows' on them.
  const outsiders = obs.records.filter((r) => !r.member && r.outside.length > 0);
  const ks = opts.attack === 'lira' && outsiders.length > 0 ? shadowCalibration(outsiders) : undefined;
  const warnings =
    ks && ks.pvalue < 0.01
      ? [`the shadows are not calibrated to the target: its confidences on the ${ks.targets} non-members do not look like the OUT shadows' confidences on them (KS D = ${ks.statistic.toFixed(3)}, p = ${ks.pvalue.toPrecision(2)} < 0.01); LiRA's result is a lower bound`]
      : undefined;
  const gates = memberGate([finding]);
  return evaluateResult('observations', file, opts.seed, gates, {
    gateModel: 'target',
    data: {
      target: { records: obs.records.length, subjects: obs.records.length },
      population: { records: obs.population.length, subjects: obs.population.length },
    },
    models: [{ role: 'target', ref: 'observations' }],
    attacks: [
      {
        id: opts.attack,
        family: 'membership',
        status: 'ok',
        title: opts.attack === 'lira' ? 'LiRA on supplied shadow outputs' : 'RMIA on supplied reference outputs',
        options,
        ...(warnings ? { warnings } : {}),
        reference:
          opts.attack === 'lira'
            ? 'Carlini et al. Membership Inference Attacks From First Principles. IEEE S&P 2022, §4 (online/offline LiRA, fixed variance).'
            : 'Zarifzadeh, Liu, Shokri. Low-Cost High-Power Membership Inference Attacks. ICML 2024, §3 (RMIA).',
      },
    ],
    findings: [withRecords],
    config: { observations: path.basename(file), attack: opts.attack, ...options, seed: opts.seed },
  });
}
