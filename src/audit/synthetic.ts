/**
 * The audit of a released synthetic dataset (target: { synthetic }): load and encode the tables →
 * run the synthetic-data attacks (pure, seeded) → findings (membership on the output, through the
 * same clustered-DeLong machinery as model audits), Anonymeter's residual risks, diagnostics → gates
 * (src/assert/synthetic.ts) → an AuditResult rendered by the same reports. No model, no pool, no
 * cache: the work is nearest-neighbour searches and densities over Float64Arrays.
 */
import path from 'node:path';
import { getSyntheticAttack, SYNTHETIC_ATTACKS } from '../../attacks/index.ts';
import type { RiskObservation, ScoresObservation, SyntheticContext, SyntheticObservation } from '../../attacks/synthetic-types.ts';
import type { LoadedSyntheticConfig } from '../config/synthetic.ts';
import { encodeTables, readTable, tableSchema, type EncodedTable, type RawTable } from '../data/table.ts';
import { InputError } from '../errors.ts';
import { pseudonym } from '../pseudonym.ts';
import { coverage, syntheticGates } from '../assert/synthetic.ts';
import { verdictOf, type AttackStatus } from './gates.ts';
import { membershipFinding, type Finding } from './measure.ts';
import { SCHEMA_VERSION, type AuditResult, type InputFile, type RunInfo, type SyntheticSummary } from '../result/types.ts';
import { TOOL } from '../version.ts';

export interface SyntheticRunOptions {
  /** Secret key of the subject pseudonyms; required unless `reveal`. */
  pseudonymKey?: Uint8Array;
  reveal?: boolean;
  bootstrap?: number;
  argv?: string[];
  log?: (line: string) => void;
}

/** The attacks a config without `attacks:` runs: every one that needs no column names. */
export function defaultSyntheticAttacks(kind: 'tabular' | 'text'): Record<string, unknown> {
  return kind === 'text' ? { 'text-overlap': {} } : { 'singling-out': {}, domias: {}, dcr: {} };
}

/** Subjects with records in both members and control would make every risk meaningless: refused, naming both lines. */
function checkDisjoint(members: EncodedTable, control: EncodedTable): void {
  if (!members.subjects || !control.subjects) return;
  const at = new Map<string, number>();
  members.subjects.forEach((s, i) => s !== undefined && !at.has(s) && at.set(s, members.lines[i]!));
  control.subjects.forEach((s, i) => {
    if (s !== undefined && at.has(s))
      throw new InputError(`a person has records in both the members (line ${at.get(s)} of ${members.file}) and the control set: the holdout must hold people the generator never saw`, { file: control.file, line: control.lines[i]! });
  });
}

export async function runSyntheticAudit(cfg: LoadedSyntheticConfig, opts: SyntheticRunOptions): Promise<{ result: AuditResult; run: RunInfo }> {
  if (!opts.reveal && !opts.pseudonymKey) throw new Error('runSyntheticAudit: a pseudonym key is required unless reveal is set');
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const raws: RawTable[] = [await readTable(cfg.target.synthetic, 'synthetic', cfg.limits), await readTable(cfg.data.members, 'members', cfg.limits), await readTable(cfg.data.holdout, 'holdout', cfg.limits)];
  if (cfg.data.population) raws.push(await readTable(cfg.data.population, 'population', cfg.limits));
  const kind = cfg.target.kind;
  const subjectColumn = raws[1]!.header.includes(cfg.data.subject) ? cfg.data.subject : undefined;
  const exclude = [cfg.data.id, cfg.data.subject];
  let text: SyntheticContext['text'];
  let columns: SyntheticSummary['target']['columns'];
  let enc: ReturnType<typeof encodeTables>;
  if (kind === 'text') {
    const textOf = (t: RawTable) => {
      const j = t.header.indexOf(cfg.target.text);
      if (j < 0) throw new InputError(`no text column "${cfg.target.text}" (target.text); columns: ${t.header.join(', ')}`, { file: t.file, line: t.lines[0], field: cfg.target.text });
      return t.cells.map((row, i) => {
        const c = row[j];
        if (typeof c !== 'string' || c.trim() === '') throw new InputError('expected a non-empty text', { file: t.file, line: t.lines[i], field: cfg.target.text });
        return c;
      });
    };
    const [s, m, h, p] = raws.map(textOf);
    text = { synthetic: s!, members: m!, control: h!, ...(p ? { population: p } : {}) };
    columns = [{ name: cfg.target.text, kind: 'text', declared: cfg.target.text !== 'text' }];
    enc = encodeTables(raws, [], cfg.data.id, subjectColumn);
  } else {
    const schema = tableSchema(raws, cfg.target.columns, exclude, (c) => cfg.where(['target', 'columns', c]));
    columns = schema;
    enc = encodeTables(raws, schema, cfg.data.id, subjectColumn);
  }
  const [synthetic, members, control, population] = enc.tables as [EncodedTable, EncodedTable, EncodedTable, EncodedTable | undefined];
  checkDisjoint(members, control);
  timings.load = Date.now() - t0;

  const columnIndex = new Map(enc.encoding.columns.map((c, k) => [c.name, k]));
  const statuses: (AttackStatus & { title: string; options: unknown; reference: string; warnings?: string[] })[] = [];
  const observations: { id: string; obs: SyntheticObservation[] }[] = [];
  for (const [id, options] of Object.entries(cfg.attacks)) {
    const attack = getSyntheticAttack(id)!;
    const family: AttackStatus['family'] = attack.meta.family;
    const base = { id, family, title: attack.meta.title, options, reference: attack.meta.reference };
    let reason: string | undefined;
    if (attack.meta.target !== kind) reason = `a ${attack.meta.target} attack; this target is ${kind}`;
    else if (attack.meta.needsPopulation && !population) reason = 'needs data.population (the attacker\'s reference data)';
    if (reason) {
      statuses.push({ ...base, status: 'not-applicable', reason });
      continue;
    }
    // A column named in the attack's options must exist: exit 2 pointing at the option.
    const column = (name: string): number => {
      const k = columnIndex.get(name);
      if (k === undefined) throw new InputError(`no column "${name}" in the audited columns (${enc.encoding.columns.map((c) => c.name).join(', ')})`, cfg.where(['attacks', id]));
      return k;
    };
    const ctx: SyntheticContext = { synthetic, members, control, ...(population ? { population } : {}), encoding: enc.encoding, column, seed: cfg.seed, ...(text ? { text } : {}) };
    const t = Date.now();
    try {
      const obs = attack.run(ctx, options);
      observations.push({ id, obs });
      const warnings = obs.flatMap((o) => o.warnings.map((w) => (obs.length > 1 ? `${o.variant}: ${w}` : w)));
      statuses.push({ ...base, status: 'ok', ...(warnings.length ? { warnings } : {}) });
    } catch (e) {
      if (e instanceof InputError) throw e;
      // e.g. a singular covariance for DOMIAS: the attack cannot say anything, and says why
      statuses.push({ ...base, status: 'not-applicable', reason: (e as Error).message });
    }
    timings[id] = Date.now() - t;
    log(`${id}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }

  // Per-person view: which attacks got which member right (people, or rows without a subject column).
  const personOf = (row: number) => (members.subjects?.[row] !== undefined ? `s:${members.subjects[row]}` : `r:${members.ids[row]}`);
  const recordsOf = new Map<string, number>();
  for (let i = 0; i < members.n; i++) recordsOf.set(personOf(i), (recordsOf.get(personOf(i)) ?? 0) + 1);
  const hitBy = new Map<string, Record<string, number>>();
  const addHits = (label: string, rows: number[]) => {
    for (const r of rows) {
      const p = personOf(r);
      const h = hitBy.get(p) ?? {};
      h[label] = (h[label] ?? 0) + 1;
      hitBy.set(p, h);
    }
  };

  const findings: Finding[] = [];
  const risks: SyntheticSummary['risks'] = [];
  const diagnostics: SyntheticSummary['diagnostics'] = [];
  const iterations = opts.bootstrap ?? 1000;
  for (const { id, obs } of observations) {
    const family = getSyntheticAttack(id)!.meta.family;
    for (const o of obs) {
      if (o.kind === 'risk') {
        const r = o as RiskObservation;
        const label = obs.length > 1 ? `${id}:${r.variant}` : id;
        addHits(label, r.memberHits);
        risks.push({
          attack: id,
          family: family as 'singling-out' | 'linkability' | 'inference',
          variant: r.variant,
          attacks: r.attacks,
          attackRate: r.attack,
          controlRate: r.control,
          baselineRate: r.baseline,
          residual: r.residual,
          columns: r.columns,
          scoredOn: r.scoredOn,
          hits: { people: new Set(r.memberHits.map(personOf)).size, records: r.memberHits.length },
          warnings: r.warnings,
        });
      } else if (o.kind === 'scores') {
        const s = o as ScoresObservation;
        const name = obs.length > 1 ? `${id}:${s.variant}` : id;
        const split = (t: EncodedTable, part: ScoresObservation['members'], nm: string) => ({
          name: nm,
          scores: part.scores,
          ids: part.rows.map((i) => t.ids[i]!),
          ...(t.subjects ? { subjects: part.rows.map((i) => t.subjects![i]) } : {}),
        });
        const f = membershipFinding(name, 'synthetic', split(members, s.members, 'member'), split(control, s.control, 'nonmember'), { seed: cfg.seed, iterations });
        findings.push(f);
        // flagged: a member scored above the 95th percentile of control records
        const sorted = [...s.control.scores].sort((a, b) => a - b);
        const p95 = sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))]!;
        addHits(name, s.members.rows.filter((_, i) => s.members.scores[i]! > p95));
      } else {
        diagnostics.push({ attack: id, variant: o.variant, values: o.values, ...(o.redFlag ? { redFlag: o.redFlag } : {}), warnings: o.warnings });
        addHits(`${id}:copy`, o.memberHits);
      }
    }
  }

  const ran = statuses.filter((s) => s.status === 'ok').map((s) => s.id);
  const unit: 'subject' | 'record' = members.subjects && control.subjects && [...members.subjects, ...control.subjects].every((s) => s !== undefined) ? 'subject' : 'record';
  const summary: SyntheticSummary = {
    target: {
      kind,
      columns,
      records: { synthetic: synthetic.n, members: members.n, holdout: control.n, ...(population ? { population: population.n } : {}) },
      unit,
    },
    risks,
    diagnostics,
    subjects: [],
    coverage: [],
  };
  const gates = syntheticGates(summary, findings, ran, cfg.assert);
  summary.coverage = coverage(gates, ran);
  const name = (p: string) => (opts.reveal ? p.slice(2) : pseudonym(opts.pseudonymKey!, p.slice(2)));
  summary.subjects = [...hitBy.entries()]
    .map(([p, h]) => ({ subject: p.startsWith('s:') || opts.reveal ? name(p) : `record ${pseudonym(opts.pseudonymKey!, p)}`, records: recordsOf.get(p) ?? 1, hitBy: h }))
    .sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0));

  const baseDir = path.dirname(cfg.configPath);
  const inputs: InputFile[] = cfg.inputs.map((i) => ({ role: i.role, path: path.relative(baseDir, i.path).split(path.sep).join('/'), sha256: i.sha256 }));
  const count = (t: EncodedTable) => ({ records: t.n, subjects: t.subjects ? new Set(t.subjects.map((s, i) => s ?? `r:${t.ids[i]}`)).size : t.n });
  const result: AuditResult = {
    schemaVersion: SCHEMA_VERSION,
    tool: { ...TOOL },
    kind: 'run',
    ...(opts.reveal ? { revealed: true } : {}),
    verdict: verdictOf(gates),
    seed: cfg.seed,
    gateModel: 'synthetic',
    inputs,
    data: { synthetic: count(synthetic), members: count(members), holdout: count(control), ...(population ? { population: count(population) } : {}) },
    models: [{ role: 'synthetic', ref: `synthetic:${inputs.find((i) => i.role === 'data:synthetic')!.path}` }],
    attacks: statuses,
    findings,
    extraction: [],
    comparisons: [],
    exposure: [],
    subjects: [],
    gates,
    config: cfg.raw,
    synthetic: summary,
  };
  const run: RunInfo = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    workers: 0,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: '',
    argv: opts.argv ?? [],
    cache: { hits: 0, misses: 0 },
    tokensScored: 0,
    timings,
  };
  return { result, run };
}

/** Ids of every synthetic-data attack (for messages). */
export const syntheticAttackIds = (): string[] => SYNTHETIC_ATTACKS.map((a) => a.meta.id);
