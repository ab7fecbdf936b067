/** `privacy-audit evaluate --scores`: our statistics and outputs on scores computed elsewhere. */
import path from 'node:path';
import { DEFAULT_MAX_AUC, verdictOf, type GateResult } from '../audit/gates.ts';
import { membershipFinding } from '../audit/measure.ts';
import { sha256 } from '../cache.ts';
import { InputError } from '../errors.ts';
import { SCHEMA_VERSION, type AuditResult } from '../result/types.ts';
import { TOOL } from '../version.ts';
import { readScores } from './scores.ts';
import { readFile } from 'node:fs/promises';

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
  const gates: GateResult[] = findings.map((f) => ({
    id: `${f.model}.member.scores.auc`,
    level: 'error',
    status: f.auc.hi <= DEFAULT_MAX_AUC ? 'pass' : 'fail',
    expected: `auc.hi <= ${DEFAULT_MAX_AUC}`,
    actual: f.auc.hi,
    message: `member-vs-nonmember AUC ${f.auc.value.toFixed(3)} [${f.auc.lo.toFixed(3)}, ${f.auc.hi.toFixed(3)}]`,
  }));
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { ...TOOL },
    kind: 'evaluate',
    verdict: verdictOf(gates),
    seed: opts.seed,
    gateModel: models.length === 1 ? models[0]! : models.join(','),
    inputs: [{ role: 'scores', path: path.basename(file), sha256: sha256(await readFile(file)) }],
    data: Object.fromEntries(
      models.map((m) => {
        const mine = rows.filter((r) => r.model === m);
        return [m, { records: mine.length, subjects: new Set(mine.map((r) => r.subject ?? r.id)).size }];
      }),
    ),
    models: models.map((m) => ({ role: m, ref: 'scores' })),
    attacks: [{ id: 'scores', family: 'membership', status: 'ok', title: 'Scores supplied by the user', options: {}, reference: 'user-supplied scores' }],
    findings,
    extraction: [],
    comparisons: [],
    exposure: [],
    subjects: [],
    gates,
    config: { scores: path.basename(file), seed: opts.seed },
  };
}
