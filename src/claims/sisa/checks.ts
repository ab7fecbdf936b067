/**
 * Structural verification of a SISA deletion (issue #16; ../shared/research/sisa-lora.md A.3 items
 * 1–6). Pure functions of the two manifests, the digests of the audited model files and the
 * audit's records: no model is queried. Each check becomes the gate `claims.sisa.<id>`.
 *
 * What they prove: that the training log is internally consistent, describes a SISA deletion of
 * exactly the forget records, and matches the audited artefacts. Not that the training hardware did
 * what the log says (that needs a replay or trusted execution; A.3 item 7).
 */
import type { GateResult } from '../../assert/index.ts';
import type { DataRecord } from '../../types.ts';
import { configDigest, merkleRoot, recordDigest } from './digest.ts';
import type { SisaManifest, SisaShard } from './manifest.ts';
import { SISA_PROBLEMS_LISTED, type SisaCheck, type SisaCheckId, type SisaClaimSummary, type SisaManifestSummary } from './types.ts';

export interface SisaRoleInput {
  manifest: SisaManifest;
  /** The manifest as the report names it (relative to the config file). */
  file: string;
  /** SHA-256 of the manifest file. */
  sha256: string;
  /** Per shard, the digest (digest.ts artefactDigest) of the model files loaded as its constituent. */
  audited: { shard: number; model: string; digest: string }[];
}

export interface SisaCheckInput {
  before?: SisaRoleInput;
  after?: SisaRoleInput;
  /** The audit's forget records (the deletion being verified) and members (what before was trained on). */
  forget: readonly DataRecord[];
  members: readonly DataRecord[];
  /** A subject's pseudonym (identity with --reveal). */
  alias: (subject: string) => string;
  /** A record id's pseudonym (identity with --reveal). */
  record: (id: string) => string;
}

const short = (h: string | null) => (h === null ? 'none' : `${h.slice(0, 12)}…`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function check(id: SisaCheckId, level: 'error' | 'warn', expected: string, problems: string[], pass: string, failHead: string): SisaCheck {
  const status = problems.length === 0 ? 'pass' : 'fail';
  const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
  return {
    id,
    level,
    status,
    expected,
    message: status === 'pass' ? pass : `${failHead}: ${problems.slice(0, 3).join('; ')}${more}`,
    problems: problems.slice(0, SISA_PROBLEMS_LISTED),
    problemCount: problems.length,
  };
}

const inconclusive = (id: SisaCheckId, level: 'error' | 'warn', expected: string, message: string): SisaCheck => ({ id, level, status: 'inconclusive', expected, message, problems: [], problemCount: 0 });

/** Where each record id sits in a manifest. */
function locate(m: SisaManifest): Map<string, { shard: number; slice: number; pos: number }> {
  const at = new Map<string, { shard: number; slice: number; pos: number }>();
  for (const s of m.shards) for (const sl of s.slices) sl.records.forEach((id, pos) => at.set(id, { shard: s.shard, slice: sl.slice, pos }));
  return at;
}

/** Hashes of one manifest against each other: config, slice roots, data roots, parent chains. */
function internalProblems(role: string, m: SisaManifest, exemptParent: (shard: number, slice: number) => boolean, name: (id: string) => string): string[] {
  const out: string[] = [];
  const digestOf = new Map(m.records.map((r) => [r.id, r.sha256]));
  const configSha = configDigest(m.training.config);
  if (configSha !== m.training.configSha256) out.push(`${role}: training.configSha256 ${short(m.training.configSha256)} is not the SHA-256 of the canonical training config (${short(configSha)})`);
  for (const s of m.shards) {
    const roots: string[] = [];
    for (const sl of s.slices) {
      const root = merkleRoot(sl.records.map((id) => digestOf.get(id)!));
      if (root !== sl.root) {
        const first = sl.records[0];
        out.push(`${role}: shard ${s.shard} slice ${sl.slice}: its root ${short(sl.root)} is not the Merkle root of its ${plural(sl.records.length, 'record')}' digests (${short(root)})${first ? `, from record ${name(first)} on` : ''}`);
      }
      roots.push(sl.root);
    }
    for (const c of s.checkpoints) {
      const dataRoot = merkleRoot(roots.slice(0, c.slice + 1));
      if (dataRoot !== c.dataRoot) out.push(`${role}: shard ${s.shard}: the checkpoint after slice ${c.slice} records data root ${short(c.dataRoot)}, but slices 0–${c.slice} have root ${short(dataRoot)}`);
      if (c.configSha256 !== m.training.configSha256) out.push(`${role}: shard ${s.shard}: the checkpoint after slice ${c.slice} was trained with another config (${short(c.configSha256)}) than the manifest's (${short(m.training.configSha256)})`);
      // Slice 0 starts from a fresh initialisation (null) or a pre-trained model's digest: either is fine.
      if (c.slice === 0 || exemptParent(s.shard, c.slice)) continue;
      const want = s.checkpoints[c.slice - 1]!.sha256;
      if (c.parent !== want) out.push(`${role}: shard ${s.shard}: the checkpoint after slice ${c.slice} resumed from ${short(c.parent)}, not from the checkpoint after slice ${c.slice - 1} (${short(want)})`);
    }
  }
  return out;
}

/** The manifests' summaries for the report. */
function summarise(role: 'before' | 'after', r: SisaRoleInput): SisaManifestSummary {
  const m = r.manifest;
  const audited = new Map(r.audited.map((a) => [a.shard, a]));
  return {
    role,
    file: r.file,
    sha256: r.sha256,
    aggregation: m.aggregation,
    shards: m.shards.length,
    slices: m.shards.map((s) => s.slices.length),
    records: m.records.length,
    constituents: m.shards.map((s) => ({ shard: s.shard, model: s.model, finalCheckpoint: s.checkpoints.at(-1)!.sha256, audited: audited.get(s.shard)?.digest ?? '' })),
    ...(m.deletion
      ? {
          deletion: {
            ...(m.deletion.request !== undefined ? { request: m.deletion.request } : {}),
            records: m.deletion.records.length,
            superseded: m.deletion.superseded?.length ?? 0,
            ...(m.deletion.destroyedAt !== undefined ? { destroyedAt: m.deletion.destroyedAt } : {}),
          },
        }
      : {}),
  };
}

/** The checks of A.3, as far as the manifests given allow (a deletion's checks need before and after). */
export function checkSisa(input: SisaCheckInput): SisaClaimSummary {
  const { before, after, forget, members, alias } = input;
  const forgetIds = new Map(forget.map((r) => [r.id, r]));
  const who = (id: string): string => {
    const r = forgetIds.get(id);
    return r ? `the record of ${alias(r.subject ?? r.id)}` : `record ${input.record(id)}`;
  };
  const checks: SisaCheck[] = [];
  const affected: SisaClaimSummary['affected'] = [];

  // Where before held the forget records: per shard, the first slice and the record there.
  const beforeAt = before ? locate(before.manifest) : undefined;
  const firstBy = new Map<number, { slice: number; pos: number; id: string; records: Set<string>; subjects: Set<string> }>();
  if (beforeAt) {
    for (const r of forget) {
      const at = beforeAt.get(r.id);
      if (!at) continue;
      // The first deleted record in training order names the shard's failures.
      const f = firstBy.get(at.shard) ?? { slice: at.slice, pos: at.pos, id: r.id, records: new Set<string>(), subjects: new Set<string>() };
      if (at.slice < f.slice || (at.slice === f.slice && at.pos < f.pos)) Object.assign(f, { slice: at.slice, pos: at.pos, id: r.id });
      f.records.add(r.id);
      f.subjects.add(r.subject ?? r.id);
      firstBy.set(at.shard, f);
    }
  }
  const beforeShard = (k: number): SisaShard | undefined => before?.manifest.shards[k];
  const afterShard = (k: number): SisaShard | undefined => after?.manifest.shards[k];
  // The first retrained checkpoint of an affected shard resumes from a before checkpoint: its
  // parent is retrained-from-checkpoint's question, not a break in the after manifest's chain.
  const exempt = (k: number, r: number) => firstBy.get(k)?.slice === r;

  // 1. Each manifest agrees with itself, with the audited data and (after) with before's algorithm.
  {
    const problems: string[] = [];
    const data = new Map([...members, ...forget].map((r) => [r.id, r]));
    for (const [role, r] of [['before', before], ['after', after]] as const) {
      if (!r) continue;
      problems.push(...internalProblems(role, r.manifest, role === 'after' ? exempt : () => false, who));
      for (const e of r.manifest.records) {
        const d = data.get(e.id);
        if (d && recordDigest(d) !== e.sha256) problems.push(`${role}: ${who(e.id)} has digest ${short(e.sha256)} in the manifest, but the audited data's content hashes to ${short(recordDigest(d))}`);
      }
    }
    if (before && beforeAt) {
      for (const r of forget) if (!beforeAt.has(r.id)) problems.push(`before: ${who(r.id)} is a forget record but in no slice of before's manifest, so its deletion cannot be located`);
      const missing = members.filter((r) => !beforeAt.has(r.id));
      if (missing.length > 0) problems.push(`before: ${plural(missing.length, 'member record')} of the audit ${missing.length === 1 ? 'is' : 'are'} in no slice of before's manifest (e.g. ${who(missing[0]!.id)})`);
    }
    if (before && after) {
      const b = before.manifest;
      const a = after.manifest;
      if (a.aggregation !== b.aggregation) problems.push(`after aggregates by ${a.aggregation}, before by ${b.aggregation}`);
      if (a.training.configSha256 !== b.training.configSha256) problems.push(`after was trained with another config (${short(a.training.configSha256)}) than before (${short(b.training.configSha256)})`);
      if (a.shards.length !== b.shards.length) problems.push(`after has ${plural(a.shards.length, 'shard')}, before ${b.shards.length}`);
      for (const s of b.shards) {
        const t = afterShard(s.shard);
        if (t && t.slices.length !== s.slices.length) problems.push(`shard ${s.shard} has ${plural(t.slices.length, 'slice')} after, ${s.slices.length} before`);
      }
    }
    const roles = [before && 'before', after && 'after'].filter(Boolean).join(' and ');
    checks.push(
      check(
        'manifest-consistent',
        'error',
        'each manifest’s slice roots, data roots, config digests and checkpoint chains agree, and its record digests match the audited data',
        problems,
        `The ${roles} manifest${before && after ? 's are' : ' is'} consistent: every slice root is the Merkle root of its records’ content digests, every checkpoint’s data root covers the slices it was trained on, one training config throughout, each checkpoint after the first resumes from the one before it, and every record digest matches the audited data${before && after ? '; same shards, slices, config and aggregation before and after' : ''}.`,
        'The training log does not agree with itself or with the audited data',
      ),
    );
  }

  // 5. The audited constituents are the manifest's final checkpoints.
  for (const [role, r] of [['before', before], ['after', after]] as const) {
    if (!r) continue;
    const problems: string[] = [];
    const audited = new Map(r.audited.map((a) => [a.shard, a]));
    for (const s of r.manifest.shards) {
      const a = audited.get(s.shard);
      const final = s.checkpoints.at(-1)!.sha256;
      if (!a) problems.push(`shard ${s.shard}: no constituent model was loaded`);
      else if (a.digest !== final) problems.push(`shard ${s.shard}: the audited model ${a.model} has digest ${short(a.digest)}, not the final checkpoint’s ${short(final)}`);
    }
    checks.push(
      check(
        role === 'before' ? 'ensemble-before' : 'ensemble-after',
        'error',
        `every constituent of ${role} is its shard’s final checkpoint in the manifest`,
        problems,
        `The ${r.manifest.shards.length} constituent models audited as ${role} (${r.manifest.aggregation}) are, digest for digest, the final checkpoints of the manifest’s ${plural(r.manifest.shards.length, 'shard')}.`,
        `The models audited as ${role} are not the ones the manifest describes`,
      ),
    );
  }

  if (after) {
    // 1 (A.3). No forget record in after, by id or by content.
    const problems: string[] = [];
    const afterAt = locate(after.manifest);
    const digestOf = new Map(after.manifest.records.map((e) => [e.id, e.sha256]));
    const byDigest = new Map<string, string>();
    for (const [id, at] of afterAt) if (!byDigest.has(digestOf.get(id)!)) byDigest.set(digestOf.get(id)!, `${id}\u0000${at.shard}\u0000${at.slice}`);
    for (const r of [...forget].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const at = afterAt.get(r.id);
      if (at) {
        problems.push(`shard ${at.shard} slice ${at.slice} still holds ${who(r.id)}`);
        continue;
      }
      const same = byDigest.get(recordDigest(r));
      if (same) {
        const [id, k, sl] = same.split('\u0000');
        problems.push(`shard ${k} slice ${sl} holds the content of ${who(r.id)} under another id (record ${input.record(id!)})`);
      }
    }
    const people = new Set(forget.map((r) => r.subject ?? r.id)).size;
    checks.push(
      check(
        'forget-absent',
        'error',
        'no forget record in any slice of after’s manifest, by id or by content digest',
        problems,
        `None of the ${plural(forget.length, 'record')} of the ${plural(people, 'deleted person', 'deleted people')} is in any slice of after’s manifest, by id or by content digest.`,
        'Deleted data is still in the training log of after',
      ),
    );
  }

  if (before && after) {
    const b = before.manifest;
    const a = after.manifest;
    // 2. After = before minus exactly the forget records, slice for slice.
    {
      const problems: string[] = [];
      const bDigest = new Map(b.records.map((e) => [e.id, e.sha256]));
      const aDigest = new Map(a.records.map((e) => [e.id, e.sha256]));
      const afterAt = locate(a);
      const beforeIds = new Set(bDigest.keys());
      for (const s of b.shards) {
        for (const sl of s.slices) {
          const kept = sl.records.filter((id) => !forgetIds.has(id));
          const now = afterShard(s.shard)?.slices[sl.slice]?.records.filter((id) => !forgetIds.has(id)) ?? [];
          const nowSet = new Set(now);
          for (const id of kept) {
            if (nowSet.has(id)) {
              if (aDigest.get(id) !== bDigest.get(id)) problems.push(`shard ${s.shard} slice ${sl.slice}: ${who(id)} changed content (digest ${short(bDigest.get(id)!)} → ${short(aDigest.get(id)!)})`);
              continue;
            }
            const moved = afterAt.get(id);
            problems.push(moved ? `${who(id)} moved from shard ${s.shard} slice ${sl.slice} to shard ${moved.shard} slice ${moved.slice}` : `shard ${s.shard} slice ${sl.slice}: ${who(id)} was removed although it is not a forget record`);
          }
        }
      }
      // Records that before never had, wherever they are (a shard of its own included).
      for (const [id, at] of afterAt) if (!beforeIds.has(id) && !forgetIds.has(id)) problems.push(`shard ${at.shard} slice ${at.slice}: ${who(id)} was added`);
      checks.push(
        check(
          'retained-unchanged',
          'error',
          'after’s slices = before’s slices minus the forget records: nothing else removed, added, moved or changed',
          problems,
          `Apart from the deleted records, every slice of after holds exactly the records it held before, with the same content digests: nothing else was removed, added or moved.`,
          'The deletion changed more than the forget records',
        ),
      );
    }

    // 3. Each affected shard was retrained from the checkpoint before its first deleted record.
    {
      const problems: string[] = [];
      for (const [k, f] of [...firstBy].sort((x, y) => x[0] - y[0])) {
        const bs = beforeShard(k)!;
        const as = afterShard(k);
        if (!as) {
          problems.push(`shard ${k}: missing from after’s manifest`);
          continue;
        }
        const whose = who(f.id);
        const r = f.slice;
        let from = 'not retrained';
        for (const c of bs.checkpoints) {
          const now = as.checkpoints[c.slice];
          if (!now) continue;
          if (c.slice < r && now.sha256 !== c.sha256) problems.push(`shard ${k}: the checkpoint after slice ${c.slice} changed, although it precedes slice ${r}, the first to hold a deleted record (${whose}): it should have been kept`);
          if (c.slice >= r && now.sha256 === c.sha256) problems.push(`shard ${k}: the checkpoint after slice ${c.slice} is unchanged, so it is still the one trained on slice ${r} with ${whose}: not retrained`);
        }
        const first = as.checkpoints[r];
        if (first && first.sha256 !== bs.checkpoints[r]!.sha256) {
          // What retraining must resume from: the checkpoint after slice r − 1, or for r = 0 whatever
          // slice 0 started from before (a fresh initialisation, or a pre-trained model).
          const start = r === 0 ? bs.checkpoints[0]!.parent : bs.checkpoints[r - 1]!.sha256;
          const startName = r === 0 ? (start === null ? 'a fresh initialisation' : `the initial model slice 0 started from before (${short(start)})`) : `the checkpoint after slice ${r - 1} (${short(start)})`;
          const wrong = bs.checkpoints.find((c) => c.sha256 === first.parent);
          if (first.parent === start) from = startName;
          else if (wrong && wrong.slice >= r) {
            from = `the checkpoint after slice ${wrong.slice} (wrong)`;
            problems.push(`shard ${k} was retrained from the checkpoint after slice ${wrong.slice}, which was trained on slice ${r} holding ${whose}; it had to ${r === 0 ? 'restart from' : 'resume from'} ${r === 0 ? startName : `the checkpoint after slice ${r - 1}`}`);
          } else if (wrong) {
            from = `the checkpoint after slice ${wrong.slice} (earlier than SISA retrains from)`;
            problems.push(`shard ${k} was retrained from the checkpoint after slice ${wrong.slice}, not from the one after slice ${r - 1}, the last before slice ${r} (first deleted record: ${whose})`);
          } else {
            from = first.parent === null ? 'a fresh initialisation' : `a checkpoint not in before’s manifest (${short(first.parent)})`;
            problems.push(`shard ${k} was retrained from ${from}, not from ${startName} (first deleted record: slice ${r}, ${whose})`);
          }
          // The retrained checkpoints then follow each other.
          for (const c of as.checkpoints.slice(r + 1)) {
            const prev = as.checkpoints[c.slice - 1]!.sha256;
            if (c.parent !== prev) problems.push(`shard ${k}: the retrained checkpoint after slice ${c.slice} resumed from ${short(c.parent)}, not from the retrained checkpoint after slice ${c.slice - 1}`);
          }
        }
        affected.push({ shard: k, firstSlice: r, records: f.records.size, subjects: f.subjects.size, retrainedFrom: from });
      }
      const list = affected.map((x) => `shard ${x.shard} (${plural(x.records, 'deleted record')}, first in slice ${x.firstSlice}) from ${x.retrainedFrom}`).join('; ');
      checks.push(
        firstBy.size === 0
          ? inconclusive('retrained-from-checkpoint', 'error', 'every shard that held a forget record was retrained from the checkpoint before its first such slice', 'No forget record is in before’s manifest: there is no deletion to check.')
          : check(
              'retrained-from-checkpoint',
              'error',
              'every shard that held a forget record was retrained from the checkpoint before its first such slice',
              problems,
              `Every shard that held deleted records was retrained from the last checkpoint that never saw them: ${list}; its later checkpoints were all retrained.`,
              'A shard was not retrained from the right checkpoint',
            ),
      );
    }

    // 4. Shards without a forget record are untouched, checkpoint for checkpoint.
    {
      const problems: string[] = [];
      const untouched = b.shards.filter((s) => !firstBy.has(s.shard));
      for (const s of untouched) {
        const t = afterShard(s.shard);
        if (!t) {
          problems.push(`shard ${s.shard}: missing from after’s manifest`);
          continue;
        }
        for (const c of s.checkpoints) {
          const now = t.checkpoints[c.slice];
          if (now && now.sha256 !== c.sha256) problems.push(`shard ${s.shard} held no deleted record, but its checkpoint after slice ${c.slice} changed (${short(c.sha256)} → ${short(now.sha256)})`);
        }
        for (const sl of s.slices) {
          const now = t.slices[sl.slice];
          if (now && now.root !== sl.root) problems.push(`shard ${s.shard} held no deleted record, but slice ${sl.slice}’s data changed (root ${short(sl.root)} → ${short(now.root)})`);
        }
      }
      checks.push(
        check(
          'other-shards-untouched',
          'error',
          'every shard without a forget record has byte-identical slices and checkpoints before and after',
          problems,
          untouched.length === 0
            ? 'Every shard held a deleted record: there is no other shard to compare.'
            : `The ${plural(untouched.length, 'shard')} that held no deleted record (${untouched.map((s) => s.shard).join(', ')}) ${untouched.length === 1 ? 'has' : 'have'} the same slices and byte-identical checkpoints before and after.`,
          'A shard that held no deleted record changed',
        ),
      );
    }

    // 6. The checkpoints that saw the deleted records are recorded as destroyed.
    {
      const expected = 'every checkpoint of before trained on a deleted record is listed in after’s deletion.superseded';
      const obsolete = [...firstBy].flatMap(([k, f]) => beforeShard(k)!.checkpoints.filter((c) => c.slice >= f.slice).map((c) => ({ k, c })));
      const listed = a.deletion?.superseded;
      if (!listed) {
        checks.push(inconclusive('superseded-destroyed', 'warn', expected, `After’s manifest records no destroyed checkpoints (deletion.superseded): the ${plural(obsolete.length, 'old checkpoint')} trained on the deleted records may still exist, and they are copies of those records’ influence.`));
      } else {
        const set = new Set(listed);
        const problems = obsolete.filter(({ c }) => !set.has(c.sha256)).map(({ k, c }) => `shard ${k}: the old checkpoint after slice ${c.slice} (${short(c.sha256)}), trained on ${who(firstBy.get(k)!.id)}, is not listed as destroyed`);
        const when = a.deletion?.destroyedAt ? ` on ${a.deletion.destroyedAt}` : '';
        checks.push(
          check('superseded-destroyed', 'warn', expected, problems, `The ${plural(obsolete.length, 'old checkpoint')} trained on the deleted records ${obsolete.length === 1 ? 'is' : 'are'} recorded as destroyed${when} (the tool reads the record; it cannot see the disks).`, 'Old checkpoints that hold the deleted records’ influence are not recorded as destroyed'),
        );
      }
    }
  }

  return {
    manifests: [...(before ? [summarise('before', before)] : []), ...(after ? [summarise('after', after)] : [])],
    affected,
    checks,
  };
}

/** The gates of a SISA claim, from its summary alone (so `verify` re-derives them from result.json). */
export function sisaGates(s: SisaClaimSummary): GateResult[] {
  return s.checks.map((c) => ({ id: `claims.sisa.${c.id}`, level: c.level, status: c.status, expected: c.expected, actual: c.problemCount, message: c.message }));
}
