/**
 * Data splits (DESIGN.md vocabulary): members, forget (a subset of members, from a file or from subject
 * ids), retain (a seeded sample of members minus forget), holdout (never trained on), population.
 *
 * Records keep their source location (see `recordSource` in records.ts). Forget records read from a
 * forget file point at the forget file's line; forget records chosen by subject are the member
 * records themselves and point at the members file.
 */
import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import { InputError, type Where } from '../errors.ts';
import type { DataRecord } from '../types.ts';
import type { LoadedData } from '../config/load.ts';
import { describeSource, readRecords, recordSource, setRecordSource, whereOf } from './records.ts';

export interface Splits {
  members: DataRecord[];
  forget: DataRecord[];
  /** Seeded sample of members minus forget (and minus other records of forget subjects), sorted by id. */
  retain: DataRecord[];
  holdout: DataRecord[];
  population?: DataRecord[];
  /** Subjects whose deletion is verified: as configured, or the subjects of the forget file's records. */
  forgetSubjects: string[];
}

/**
 * Reads the data files and builds the splits. Throws `InputError` when a forget record is not a
 * member (by id, or has other text), a holdout record is a member (by id or identical text), a forget
 * subject has no member records, or forget / holdout / retain would be empty.
 */
export async function buildSplits(cfg: LoadedData, seed: number): Promise<Splits> {
  const f = cfg.fields;
  // Sequential reads, so that with several bad files the error reported is always the same one.
  const members = await readRecords(cfg.members, f, cfg.limits);
  const holdout = await readRecords(cfg.holdout, f, cfg.limits);
  const population = cfg.population !== undefined ? await readRecords(cfg.population, f, cfg.limits) : undefined;

  const memberById = new Map(members.map((m) => [m.id, m]));

  let forget: DataRecord[];
  let forgetSubjects: string[];
  if (cfg.forget !== undefined) {
    const fromFile = await readRecords(cfg.forget, f, cfg.limits);
    forget = fromFile.map((fr) => {
      const m = memberById.get(fr.id);
      if (!m) {
        throw new InputError(
          `forget record "${fr.id}" is not a member: ${cfg.members} has no record with this id (the forget set must be a subset of members)`,
          whereOf(fr, f.id),
        );
      }
      if (m.text !== fr.text || (fr.features !== undefined && !sameNumbers(fr.features, m.features))) {
        throw new InputError(
          `forget record "${fr.id}" has different ${m.text !== fr.text ? 'text' : 'features'} than the member record with the same id (${describeSource(m)})`,
          whereOf(fr, f.text),
        );
      }
      if (fr.label !== undefined && m.label !== undefined && fr.label !== m.label) {
        throw new InputError(
          `forget record "${fr.id}" has label ${fr.label} but the member record (${describeSource(m)}) has label ${m.label}`,
          whereOf(fr, f.label),
        );
      }
      if (fr.subject !== undefined && m.subject !== undefined && fr.subject !== m.subject) {
        throw new InputError(
          `forget record "${fr.id}" has subject "${fr.subject}" but the member record (${describeSource(m)}) has subject "${m.subject}"`,
          whereOf(fr, f.subject),
        );
      }
      // The member record, completed with what the forget file adds (e.g. declared PII).
      const rec: DataRecord = { id: m.id, text: m.text };
      const subject = fr.subject ?? m.subject;
      if (subject !== undefined) rec.subject = subject;
      const pii = fr.pii ?? m.pii;
      if (pii !== undefined) rec.pii = pii;
      if (m.features !== undefined) rec.features = m.features;
      const label = fr.label ?? m.label;
      if (label !== undefined) rec.label = label;
      const src = recordSource(fr);
      if (src) setRecordSource(rec, src);
      return rec;
    });
    forgetSubjects = unique(forget.flatMap((r) => (r.subject !== undefined ? [r.subject] : [])));
  } else {
    const wanted = cfg.forgetSubjects ?? [];
    forgetSubjects = unique(wanted);
    const present = new Set(members.flatMap((m) => (m.subject !== undefined ? [m.subject] : [])));
    wanted.forEach((s, i) => {
      if (present.has(s)) return;
      const hint =
        present.size === 0
          ? ` (no member record has a "${f.subject}" field)`
          : ` (members has ${present.size} subject${present.size > 1 ? 's' : ''}, e.g. ${[...present].slice(0, 3).map((x) => `"${x}"`).join(', ')})`;
      throw new InputError(`unknown forget subject "${s}": no record in ${cfg.members} has this subject${hint}`, configWhere(cfg, `data.forgetSubjects[${i}]`));
    });
    const set = new Set(forgetSubjects);
    forget = members.filter((m) => m.subject !== undefined && set.has(m.subject));
  }
  if (forget.length === 0) {
    throw new InputError('the forget set is empty', configWhere(cfg, cfg.forget !== undefined ? 'data.forget' : 'data.forgetSubjects'));
  }

  // Holdout: never trained on — not a member by id, nor by identical text.
  const memberByText = new Map<string, DataRecord>();
  // ('' is a tabular record without text: identical feature vectors can occur legitimately.)
  for (const m of members) if (m.text !== '' && !memberByText.has(m.text)) memberByText.set(m.text, m);
  for (const h of holdout) {
    const byId = memberById.get(h.id);
    if (byId) {
      throw new InputError(
        `holdout record "${h.id}" is also a member (${describeSource(byId)}); holdout must be records no model was trained on, with ids distinct from members`,
        whereOf(h, f.id),
      );
    }
    const byText = memberByText.get(h.text);
    if (byText) {
      throw new InputError(
        `holdout record "${h.id}" has the same text as member "${byText.id}" (${describeSource(byText)}); holdout must be records no model was trained on`,
        whereOf(h, f.text),
      );
    }
  }
  if (holdout.length === 0) throw new InputError('the holdout set is empty', configWhere(cfg, 'data.holdout'));

  // Holdout people are never seen: a person with a member record (trained on) and a holdout record
  // would make the "never seen" baseline partly seen. The message names the two lines, not the id
  // (error output ends up in CI logs; the subject id is personal data).
  const memberBySubject = new Map<string, DataRecord>();
  for (const m of members) if (m.subject !== undefined && !memberBySubject.has(m.subject)) memberBySubject.set(m.subject, m);
  for (const h of holdout) {
    const m = h.subject !== undefined ? memberBySubject.get(h.subject) : undefined;
    if (m) {
      throw new InputError(
        `the subject of this holdout record also has a member record (${describeSource(m)}); holdout must be people no model was trained on, so a person's records are all members or all holdout`,
        whereOf(h, f.subject),
      );
    }
  }

  // Retain: members minus forget, also leaving out other records of the forget subjects.
  const forgetIds = new Set(forget.map((r) => r.id));
  const subjects = new Set(forgetSubjects);
  const candidates = members.filter((m) => !forgetIds.has(m.id) && !(m.subject !== undefined && subjects.has(m.subject)));
  if (candidates.length === 0) {
    throw new InputError(
      'members has no records outside the forget set, so there is no retain set (needed to show the attack can detect membership at all)',
      { file: cfg.members },
    );
  }
  const size = cfg.retainSample === 'all' ? candidates.length : Math.min(cfg.retainSample ?? forget.length, candidates.length);
  const retain = seededSample(candidates, size, seed);

  // Population: attacker-side data (shadow training, RMIA's z). A record that is also a member or
  // holdout record would be trained on by shadows as "population" and scored as a target at once.
  if (population) {
    const holdoutIds = new Set(holdout.map((h) => h.id));
    for (const p of population) {
      const clash = memberById.get(p.id) ?? (holdoutIds.has(p.id) ? holdout.find((h) => h.id === p.id) : undefined);
      if (clash) {
        throw new InputError(
          `population record "${p.id}" has the same id as ${memberById.has(p.id) ? 'member' : 'holdout'} record ${describeSource(clash)}; population records must be distinct from members and holdout`,
          whereOf(p, f.id),
        );
      }
    }
  }

  const splits: Splits = { members, forget, retain, holdout, forgetSubjects };
  if (population) splits.population = population;
  return splits;
}

/**
 * `n` records drawn without replacement with a seeded xoroshiro128+ partial Fisher–Yates shuffle,
 * returned sorted by id. The input is sorted by id first, so the sample depends only on the set of
 * records and the seed — not on the order of lines in the file.
 */
export function seededSample(records: readonly DataRecord[], n: number, seed: number): DataRecord[] {
  const pool = [...records].sort(byId);
  const k = Math.max(0, Math.min(n, pool.length));
  const rng = xoroshiro128plus(seed);
  for (let i = 0; i < k; i++) {
    const j = unsafeUniformIntDistribution(i, pool.length - 1, rng);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, k).sort(byId);
}

/** Code-unit order: deterministic across machines and locales. */
export function byId(a: DataRecord, b: DataRecord): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

function configWhere(cfg: LoadedData, field: string): Where {
  const where: Where = { field };
  if (cfg.origin.file !== undefined) where.file = cfg.origin.file;
  const line = cfg.origin.lines[field];
  if (line !== undefined) where.line = line;
  return where;
}

function sameNumbers(a: number[], b: number[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
