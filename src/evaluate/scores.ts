/**
 * Bring your own scores: `{ id, score, member, model?, subject? }` per line (JSONL) or row (CSV),
 * higher score = more likely member. Bad rows are InputErrors naming file, line and field.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError } from '../errors.ts';

export interface ScoreRow {
  id: string;
  score: number;
  member: boolean;
  model: string;
  subject?: string;
  /** forget, retain or holdout: with splits, evaluate runs the same comparisons and gates as `run`. */
  split?: 'forget' | 'retain' | 'holdout';
  line: number;
}

const SPLITS = ['forget', 'retain', 'holdout'] as const;

export async function readScores(file: string): Promise<ScoreRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError('cannot read the scores file (does it exist?)', { file });
  }
  const rows: { line: number; obj: Record<string, unknown> }[] = [];
  if (path.extname(file).toLowerCase() === '.csv') {
    let records: { record: Record<string, string>; info: { lines: number } }[];
    try {
      records = parse(text, { columns: true, skip_empty_lines: true, info: true, trim: true });
    } catch (e) {
      const line = (e as { lines?: number }).lines;
      throw new InputError(`malformed CSV: ${(e as Error).message}`, { file, ...(line ? { line } : {}) });
    }
    for (const r of records) rows.push({ line: r.info.lines, obj: r.record });
  } else {
    text.split(/\r?\n/).forEach((raw, i) => {
      if (raw.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(raw);
      } catch (e) {
        throw new InputError(`not valid JSON (${(e as Error).message})`, { file, line: i + 1 });
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
        throw new InputError('expected a JSON object like {"id": "r1", "score": 0.7, "member": true}', { file, line: i + 1 });
      rows.push({ line: i + 1, obj: obj as Record<string, unknown> });
    });
  }
  if (rows.length === 0) throw new InputError('no scores found (empty file)', { file });

  const seen = new Map<string, number>();
  return rows.map(({ line, obj }) => {
    const at = (field: string) => ({ file, line, field });
    const id = obj.id;
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') throw new InputError('expected a non-empty string id', at('id'));
    const score = typeof obj.score === 'string' && obj.score.trim() !== '' ? Number(obj.score) : obj.score;
    if (typeof score !== 'number' || !Number.isFinite(score)) throw new InputError(`expected a finite number, got ${JSON.stringify(obj.score)}`, at('score'));
    const rawSplit = obj.split === undefined || obj.split === '' ? undefined : obj.split;
    if (rawSplit !== undefined && !SPLITS.includes(rawSplit as (typeof SPLITS)[number]))
      throw new InputError(`expected one of ${SPLITS.join(', ')}, got ${JSON.stringify(rawSplit)}`, at('split'));
    const split = rawSplit as ScoreRow['split'];
    const m = obj.member;
    let member = m === true || m === 'true' || m === 1 || m === '1' ? true : m === false || m === 'false' || m === 0 || m === '0' ? false : undefined;
    if (member === undefined && split !== undefined && (m === undefined || m === '')) member = split !== 'holdout';
    if (member === undefined) throw new InputError(`expected true or false, got ${JSON.stringify(m)}`, at('member'));
    if (split !== undefined && member !== (split !== 'holdout'))
      throw new InputError(`member is ${String(member)} but split is ${split} (forget and retain records are members, holdout records are not)`, at('member'));
    const model = obj.model === undefined || obj.model === '' ? (split !== undefined ? 'before' : 'scores') : String(obj.model);
    const key = `${model}\u0000${id}`;
    const prev = seen.get(key);
    if (prev !== undefined) throw new InputError(`duplicate id "${id}" for model "${model}" (first on line ${prev})`, at('id'));
    seen.set(key, line);
    const subject = obj.subject === undefined || obj.subject === '' ? undefined : String(obj.subject);
    return { id: String(id), score, member, model, line, ...(subject ? { subject } : {}), ...(split ? { split } : {}) };
  });
}
