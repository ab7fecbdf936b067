/**
 * Sidecars: the per-record and per-person tables of a run, kept out of result.json (which holds
 * aggregates) and out of report.html, written beside them with the other outputs and bound to the
 * result by their SHA-256 (result.json `sidecars`, checked by `privacy-audit verify`).
 *
 * - `scores.jsonl.gz`: one line per (membership attack, model, split, record), in the `evaluate
 *   --scores` split format plus `attack`: `{"attack","model","split","id","subject","score"}`.
 *   Record ids and subjects are keyed pseudonyms unless the run used --reveal. gzip with a fixed
 *   header (mtime 0, OS 255 "unknown"), so the same scores give the same bytes on any machine.
 * - `subjects.csv`: every deleted subject's row of the report's per-subject table (the report lists
 *   only the people who leaked or were flagged), pseudonymised and masked exactly as the report is;
 *   every cell made visible and CSV-injection-safe.
 *
 * Both are pure functions of what the run computed, so shards merged, any worker count and a cold or
 * cached run give the same bytes.
 */
import { Deflate } from 'pako';
import { visibleLine } from '../reports/format.ts';
import { sha256 } from './cache.ts';
import type { MembershipObservation } from '../attacks/types.ts';
import type { Sidecar, SubjectVerdict } from './result/types.ts';

export const SCORES_SIDECAR = 'scores.jsonl.gz';
export const SUBJECTS_SIDECAR = 'subjects.csv';
/** The only names a result may give its sidecars (nothing else is read or written for it). */
export const SIDECAR_FILES: readonly string[] = [SCORES_SIDECAR, SUBJECTS_SIDECAR];

export interface SidecarFile {
  ref: Sidecar;
  bytes: Buffer;
}

const SPLIT_ORDER = ['forget', 'retain', 'holdout'];
const LINES_PER_CHUNK = 4096;
const splitRank = (s: string) => (SPLIT_ORDER.includes(s) ? SPLIT_ORDER.indexOf(s) : SPLIT_ORDER.length);
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * scores.jsonl.gz from each membership attack's observations (in the order given: the config's), its
 * models and splits. Lines within a split are sorted by (pseudonymised) record id, so the file's order
 * says nothing of the input's. Compressed as it is built: one split's lines in memory at a time.
 */
export function scoresSidecar(
  observations: ReadonlyMap<string, readonly MembershipObservation[]>,
  names: { record: (id: string) => string; subject: (subject: string) => string },
): SidecarFile {
  const gz = new Deflate({ gzip: true, level: 6, header: { time: 0, os: 255 } });
  const enc = new TextEncoder();
  let rows = 0;
  let pending: Uint8Array | undefined;
  const push = (chunk: Uint8Array) => {
    // pako needs to know which chunk is the last: hold one back.
    if (pending) gz.push(pending, false);
    pending = chunk;
  };
  for (const [attack, list] of observations) {
    for (const o of list) {
      for (const split of Object.keys(o.splits).sort((a, b) => splitRank(a) - splitRank(b) || byString(a, b))) {
        const s = o.splits[split as keyof typeof o.splits]!;
        const rids = s.ids.map(names.record);
        const order = rids.map((_, i) => i).sort((a, b) => byString(rids[a]!, rids[b]!));
        rows += order.length;
        // Written a few thousand lines at a time: a split's lines all at once were ~15 MB of strings
        // that outlived V8's young generation, and at 100k records (twelve splits) the heap grew by
        // 170 MB before a full collection. The gzip stream's bytes do not depend on the chunking.
        for (let from = 0; from < order.length; from += LINES_PER_CHUNK) {
          let text = '';
          for (const i of order.slice(from, from + LINES_PER_CHUNK)) {
            const subject = s.subjects[i];
            const line = { attack, model: o.model, split, id: rids[i]!, ...(subject !== undefined ? { subject: names.subject(subject) } : {}), score: s.scores[i]! };
            text += `${JSON.stringify(line)}\n`;
          }
          push(enc.encode(text));
        }
      }
    }
  }
  gz.push(pending ?? new Uint8Array(0), true);
  if (gz.err) throw new Error(`cannot compress ${SCORES_SIDECAR}: ${gz.msg}`);
  const bytes = Buffer.from(gz.result as Uint8Array);
  return { ref: { file: SCORES_SIDECAR, sha256: sha256(bytes), bytes: bytes.length, rows }, bytes };
}

/**
 * One CSV cell: visible characters only (a bidi override or a line break in a value is named, not
 * obeyed), a leading `= + - @` (a formula to a spreadsheet) or tab/CR defused with `'`, quoted when
 * it holds a separator, a quote or leading/trailing space (RFC 4180 quoting).
 */
export function csvCell(value: string | number): string {
  let s = typeof value === 'number' ? String(value) : visibleLine(value);
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** subjects.csv: every deleted subject (sorted by pseudonym), one column group per model role. */
export function subjectsSidecar(subjects: readonly SubjectVerdict[], roles: readonly string[]): SidecarFile {
  const header = ['subject', 'records', ...roles.flatMap((r) => [`${r} leaked by`, `${r} flagged by`, `${r} emitted`])];
  const lines = [header.map(csvCell).join(',')];
  for (const s of subjects) {
    const cells: (string | number)[] = [s.subject, s.records];
    for (const r of roles) {
      cells.push((s.leakedBy[r] ?? []).join(' '), (s.flaggedBy[r] ?? []).join(' '), (s.emitted?.[r] ?? []).map((e) => `${e.type} ${e.value}`).join('; '));
    }
    lines.push(cells.map(csvCell).join(','));
  }
  // LF line ends: a raw CR is one of the hidden characters no output may hold (RFC 4180 readers take LF too).
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return { ref: { file: SUBJECTS_SIDECAR, sha256: sha256(bytes), bytes: bytes.length, rows: subjects.length }, bytes };
}

/** A subject the report lists: leaked or flagged on some model. The others are counted, and are in subjects.csv. */
export const mattersInReport = (s: SubjectVerdict): boolean =>
  Object.values(s.leakedBy).some((a) => a.length > 0) || Object.values(s.flaggedBy).some((a) => a.length > 0);
