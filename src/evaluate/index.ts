/** `privacy-audit evaluate --scores`: our statistics and outputs on scores computed elsewhere. */
import path from 'node:path';
import { DEFAULT_MAX_AUC, verdictOf, type GateResult } from '../audit/gates.ts';
import { membershipFinding, type Finding } from '../audit/measure.ts';
import { sha256 } from '../cache.ts';
import { InputError } from '../errors.ts';
import { SCHEMA_VERSION, type AuditResult } from '../result/types.ts';
import { TOOL } from '../version.ts';
import { readScores } from './scores.ts';
import { readObservations } from '../shadow/observations.ts';
import { liraScores, rmiaScores } from '../shadow/scores.ts';
import { readFile } from 'node:fs/promises';

/** The default gate for supplied scores: members must not be separable (AUC upper bound ≤ 0.6). */
function memberGate(f: Finding): GateResult {
  return {
    id: `${f.model}.member.${f.attack}.auc`,
    level: 'error',
    status: f.auc.hi <= DEFAULT_MAX_AUC ? 'pass' : 'fail',
    expected: `auc.hi <= ${DEFAULT_MAX_AUC}`,
    actual: f.auc.hi,
    message: `member-vs-nonmember AUC ${f.auc.value.toFixed(3)} [${f.auc.lo.toFixed(3)}, ${f.auc.hi.toFixed(3)}]`,
  };
}

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

export async function evaluateScores(file: string, opts: { seed: number; bootstrap?: number }): Promise<AuditResult> {
  const rows = await readScores(file);
  const models = [...new Set(rows.map((r) => r.model))];
  const findings = models.map((model) => {
    const mine = rows.filter((r) => r.model === model);
    const members = mine.filter((r) => r.member);
    const nonmembers = mine.filter((r) => !r.member);
    const pos = members.map((r) => r.score);
    const neg = nonmembers.map((r) => r.score);
    if (pos.length === 0 || neg.length === 0)
      throw new InputError(`model "${model}" needs both members and non-members (has ${pos.length} members, ${neg.length} non-members)`, { file, field: 'member' });
    return membershipFinding(
      'scores',
      model,
      { name: 'member', scores: pos, subjects: members.map((r) => r.subject) },
      { name: 'nonmember', scores: neg, subjects: nonmembers.map((r) => r.subject) },
      { seed: opts.seed, iterations: opts.bootstrap ?? 1000 },
    );
  });
  const gates = findings.map(memberGate);
  return evaluateResult('scores', file, opts.seed, gates, {
    gateModel: models.length === 1 ? models[0]! : models.join(','),
    data: Object.fromEntries(
      models.map((m) => {
        const mine = rows.filter((r) => r.model === m);
        return [m, { records: mine.length, subjects: new Set(mine.map((r) => r.subject ?? r.id)).size }];
      }),
    ),
    models: models.map((m) => ({ role: m, ref: 'scores' })),
    attacks: [{ id: 'scores', family: 'membership', status: 'ok', title: 'Scores supplied by the user', options: {}, reference: 'user-supplied scores' }],
    findings,
    config: { scores: path.basename(file), seed: opts.seed },
  });
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
  const gates = [memberGate(finding)];
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
