/**
 * Reading data records (JSONL / NDJSON / CSV) into `DataRecord`s, with every mistake reported as an
 * `InputError` naming the file, the line and the field.
 *
 * Source locations: every record returned by `readRecords` is registered in a module-level
 * `WeakMap<DataRecord, RecordSource>`; `recordSource(rec)` gives `{ file, line, record }` back and
 * `whereOf(rec, field)` turns it into an `InputError` location. The map is keyed by object identity,
 * so a copy (`{ ...rec }`) has no source unless it is registered with `setRecordSource`. Records stay
 * plain `DataRecord`s (no extra properties), so they serialise and cross worker threads unchanged.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { InputError, type Where } from '../errors.ts';
import type { DataRecord, PiiItem } from '../types.ts';
import { DEFAULT_DATA_LIMITS, formatBytes, type DataLimits } from '../config/limits.ts';
import { assertUtf8 } from './utf8.ts';

/** Names of the record fields in the data files (config `data.fields`); unset ones take the default. */
export interface FieldMap {
  id?: string;
  subject?: string;
  text?: string;
  pii?: string;
  features?: string;
  label?: string;
}
export type ResolvedFieldMap = Required<FieldMap>;
export const DEFAULT_FIELDS: Readonly<ResolvedFieldMap> = { id: 'id', subject: 'subject', text: 'text', pii: 'pii', features: 'features', label: 'label' };

export function resolveFields(fields?: FieldMap): ResolvedFieldMap {
  return { ...DEFAULT_FIELDS, ...Object.fromEntries(Object.entries(fields ?? {}).filter(([, v]) => v !== undefined)) };
}

/** Where a record came from: absolute file, 1-based line of the record's start, 1-based record number. */
export interface RecordSource {
  file: string;
  line: number;
  record: number;
}

const sources = new WeakMap<DataRecord, RecordSource>();

export function recordSource(rec: DataRecord): RecordSource | undefined {
  return sources.get(rec);
}

export function setRecordSource(rec: DataRecord, src: RecordSource): void {
  sources.set(rec, src);
}

/** An `InputError` location for a record (empty when the record has no registered source). */
export function whereOf(rec: DataRecord, field?: string): Where {
  const src = sources.get(rec);
  const where: Where = src ? { file: src.file, line: src.line, record: src.record } : {};
  if (field !== undefined) where.field = field;
  return where;
}

/** `file:line`, for messages that point at a second record. */
export function describeSource(rec: DataRecord): string {
  const src = sources.get(rec);
  return src ? `${src.file}:${src.line}` : `record "${rec.id}"`;
}

export const RECORD_EXTENSIONS = ['.jsonl', '.ndjson', '.csv'] as const;

/**
 * Reads a JSONL/NDJSON (one JSON object per line; blank lines skipped) or CSV (header row; a `pii`
 * column holds a JSON array or is empty) file. Ids that are numbers become strings. Throws
 * `InputError` for: a missing or empty file, malformed JSON, a line that is not an object, a missing
 * or empty id, an id that is not a string/number, missing/empty/non-string text, a bad `pii` list,
 * duplicate ids (naming both lines), bytes that are not UTF-8 (never silently replaced by U+FFFD), and a
 * file or record larger than `limits` (config `limits`; defaults in config/limits.ts).
 */
/**
 * A data file's bytes, checked: a known extension, within `limits`, readable, UTF-8 (no byte order
 * mark). Shared by the record reader and the synthetic-data table reader.
 */
export async function readDataBytes(file: string, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<{ abs: string; ext: string; buf: Buffer }> {
  const abs = path.resolve(file);
  const ext = path.extname(abs).toLowerCase();
  if (!(RECORD_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new InputError(
      `unsupported data file type "${ext || '(no extension)'}"; expected ${RECORD_EXTENSIONS.join(', ')}`,
      { file: abs },
    );
  }
  let buf: Buffer;
  try {
    const st = await stat(abs);
    if (st.isFile() && st.size > limits.maxFileBytes) {
      throw new InputError(
        `data file is ${formatBytes(st.size)}, larger than the limit of ${formatBytes(limits.maxFileBytes)} (raise limits.maxDataFileMiB in the config, or split the file)`,
        { file: abs },
      );
    }
    buf = await readFile(abs);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw fileError(e, abs);
  }
  assertUtf8(buf, abs, 'data file');
  // A UTF-8 byte order mark would otherwise end up in the first key / column name.
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
  return { abs, ext, buf };
}

export async function readRecords(file: string, fields?: FieldMap, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<DataRecord[]> {
  const { abs, ext, buf } = await readDataBytes(file, limits);
  const f = resolveFields(fields);
  const rows = ext === '.csv' ? csvRows(buf, abs, f, limits) : jsonlRows(buf.toString('utf8'), abs, limits);

  const out: DataRecord[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const rec = toRecord(row.obj, f, abs, row.line, row.fromCsv);
    const first = seen.get(rec.id);
    if (first !== undefined) {
      throw new InputError(`duplicate id "${rec.id}": already used on line ${first} (ids must be unique in a file)`, {
        file: abs,
        line: row.line,
        field: f.id,
      });
    }
    seen.set(rec.id, row.line);
    out.push(rec);
    sources.set(rec, { file: abs, line: row.line, record: out.length });
  }
  if (out.length === 0) {
    throw new InputError(
      ext === '.csv' ? 'no records: the CSV file has no rows after the header' : 'no records: the file is empty',
      { file: abs },
    );
  }
  return out;
}

export function fileError(e: unknown, file: string): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError('data file not found', { file });
  if (code === 'EISDIR') return new InputError('expected a data file, found a folder', { file });
  if (code === 'EACCES') return new InputError('data file is not readable (permission denied)', { file });
  return new InputError(`cannot read data file: ${(e as Error).message}`, { file });
}

export interface Row {
  obj: Record<string, unknown>;
  line: number;
  fromCsv: boolean;
}

export function* jsonlRows(text: string, file: string, limits: DataLimits): Generator<Row> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const src = lines[i]!.replace(/\r$/, '');
    if (src.trim() === '') continue;
    const line = i + 1;
    // Bytes, not UTF-16 code units: the limit reads as a size.
    const size = src.length > limits.maxRecordBytes / 3 ? Buffer.byteLength(src, 'utf8') : 0;
    if (size > limits.maxRecordBytes) throw recordTooLarge(size, limits, file, line);
    let value: unknown;
    try {
      value = JSON.parse(src);
    } catch (e) {
      throw new InputError(`malformed JSON: ${(e as Error).message} (each line must be one JSON object)`, {
        file,
        line,
      });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InputError(`expected a JSON object on each line, got ${typeName(value)}`, { file, line });
    }
    yield { obj: value as Record<string, unknown>, line, fromCsv: false };
  }
}

/** `required`: the columns the header must have (default: id, and text unless there is a features column). */
export function* csvRows(buf: Buffer, file: string, f: ResolvedFieldMap, limits: DataLimits, required?: readonly string[]): Generator<Row> {
  // Line numbers come from byte offsets: csv-parse's own `info.lines` miscounts CRLF inside quotes.
  const newlines: number[] = [];
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) newlines.push(i);
  const lineAt = (offset: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };

  let parsed: { record: string[]; info: { bytes: number } }[];
  try {
    parsed = parseCsv(buf, { info: true, skip_empty_lines: true }) as unknown as typeof parsed;
  } catch (e) {
    const err = e as Error & { bytes?: number; lines?: number };
    const line = typeof err.bytes === 'number' ? lineAt(Math.max(0, err.bytes - 1)) : err.lines;
    const msg = err.message.replace(/ (on|at) line \d+/g, '');
    throw new InputError(`malformed CSV: ${msg}`, line !== undefined ? { file, line } : { file });
  }
  if (parsed.length === 0) return;

  const header = parsed[0]!.record;
  const headerLine = lineAt(firstContent(buf, 0));
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) {
    throw new InputError(`CSV header has the column "${dup}" twice`, { file, line: headerLine, field: dup });
  }
  // A CSV of classifier records may have a features column instead of text.
  const roles = header.includes(f.features) ? (['id'] as const) : (['id', 'text'] as const);
  for (const role of required ? [] : roles) {
    const name = f[role];
    if (!header.includes(name)) {
      throw new InputError(
        `CSV header has no "${name}" column${name !== role ? ` (the ${role} field, per data.fields.${role})` : ''}; columns: ${header.join(', ')}`,
        { file, line: headerLine, field: name },
      );
    }
  }
  for (const name of required ?? []) {
    if (!header.includes(name)) throw new InputError(`CSV header has no "${name}" column; columns: ${header.join(', ')}`, { file, line: headerLine, field: name });
  }

  let prevEnd = parsed[0]!.info.bytes;
  for (let r = 1; r < parsed.length; r++) {
    const { record, info } = parsed[r]!;
    const line = lineAt(firstContent(buf, prevEnd));
    if (info.bytes - prevEnd > limits.maxRecordBytes) throw recordTooLarge(info.bytes - prevEnd, limits, file, line);
    prevEnd = info.bytes;
    const obj: Record<string, unknown> = {};
    header.forEach((h, i) => {
      obj[h] = record[i];
    });
    yield { obj, line, fromCsv: true };
  }
}

function recordTooLarge(size: number, limits: DataLimits, file: string, line: number): InputError {
  return new InputError(
    `record is ${formatBytes(size)}, larger than the limit of ${formatBytes(limits.maxRecordBytes)} per record (raise limits.maxRecordKiB in the config if this is intended)`,
    { file, line },
  );
}

/** First offset at or after `from` that is not a line break (csv-parse skips empty lines). */
function firstContent(buf: Buffer, from: number): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  return i;
}

function toRecord(
  obj: Record<string, unknown>,
  f: ResolvedFieldMap,
  file: string,
  line: number,
  fromCsv: boolean,
): DataRecord {
  const at = (field: string): Where => ({ file, line, field });
  const named = (role: keyof ResolvedFieldMap) =>
    f[role] === role ? `"${role}"` : `"${f[role]}" (the ${role} field, per data.fields.${role})`;
  // In CSV an empty cell means "absent".
  const get = (name: string): unknown => {
    const v = obj[name];
    return fromCsv && v === '' ? undefined : v;
  };

  // id
  const rawId = get(f.id);
  let id: string;
  if (rawId === undefined || rawId === null) {
    throw new InputError(`record has no id: field ${named('id')} is missing`, at(f.id));
  } else if (typeof rawId === 'string') {
    if (rawId.trim() === '') throw new InputError(`record has an empty id (field ${named('id')})`, at(f.id));
    id = rawId;
  } else if (typeof rawId === 'number' && Number.isFinite(rawId)) {
    id = String(rawId);
  } else {
    throw new InputError(`id must be a string or a number, got ${typeName(rawId)} (field ${named('id')})`, at(f.id));
  }

  // features and label (classifier records); a record with features needs no text
  const rawFeatures = get(f.features);
  let features: number[] | undefined;
  if (rawFeatures !== undefined && rawFeatures !== null) features = parseFeatures(rawFeatures, id, named('features'), at(f.features), fromCsv);
  const rawLabel = get(f.label);
  let label: number | undefined;
  if (rawLabel !== undefined && rawLabel !== null) {
    const v = fromCsv && typeof rawLabel === 'string' && /^\s*\d+\s*$/.test(rawLabel) ? Number(rawLabel) : rawLabel;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new InputError(`record "${id}": label must be a class index (an integer >= 0), got ${typeName(v)}${typeof v === 'string' || typeof v === 'number' ? ` "${String(v)}"` : ''} (field ${named('label')})`, at(f.label));
    }
    label = v;
  }

  // text
  const text = features !== undefined && get(f.text) === undefined ? '' : get(f.text);
  if (text === undefined || text === null) {
    throw new InputError(`record "${id}" has no text: field ${named('text')} is missing`, at(f.text));
  }
  if (typeof text !== 'string') {
    throw new InputError(`record "${id}": text must be a string, got ${typeName(text)} (field ${named('text')})`, at(f.text));
  }
  if (text.trim() === '' && features === undefined) {
    throw new InputError(`record "${id}" has empty text (field ${named('text')})`, at(f.text));
  }

  const rec: DataRecord = { id, text };
  if (features !== undefined) rec.features = features;
  if (label !== undefined) rec.label = label;

  // subject (optional)
  const subject = get(f.subject);
  if (subject !== undefined && subject !== null) {
    if (typeof subject === 'string' && subject.trim() !== '') rec.subject = subject;
    else if (typeof subject === 'number' && Number.isFinite(subject)) rec.subject = String(subject);
    else if (!(typeof subject === 'string')) {
      throw new InputError(
        `record "${id}": subject must be a string or a number, got ${typeName(subject)} (field ${named('subject')})`,
        at(f.subject),
      );
    }
  }

  // pii (optional)
  let pii = get(f.pii);
  if (fromCsv && typeof pii === 'string') {
    try {
      pii = JSON.parse(pii);
    } catch (e) {
      throw new InputError(
        `record "${id}": the ${named('pii')} column must be a JSON array of {"type","value"} objects: ${(e as Error).message}`,
        at(f.pii),
      );
    }
  }
  if (pii !== undefined && pii !== null) {
    rec.pii = parsePii(pii, id, f.pii, at);
  }
  return rec;
}

function parseFeatures(raw: unknown, id: string, name: string, where: Where, fromCsv: boolean): number[] {
  let v = raw;
  if (fromCsv && typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new InputError(`record "${id}": the ${name} column must be a JSON array of numbers: ${(e as Error).message}`, where);
    }
  }
  if (!Array.isArray(v) || v.length === 0) {
    throw new InputError(`record "${id}": features must be a non-empty list of numbers, got ${typeName(v)} (field ${name})`, where);
  }
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new InputError(`record "${id}": features[${i}] must be a finite number, got ${typeName(x)} (field ${name})`, where);
    }
  });
  return v as number[];
}

function parsePii(pii: unknown, id: string, name: string, at: (field: string) => Where): PiiItem[] {
  if (!Array.isArray(pii)) {
    throw new InputError(`record "${id}": pii must be a list of {type, value} objects, got ${typeName(pii)}`, at(name));
  }
  return pii.map((item: unknown, i): PiiItem => {
    const field = `${name}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new InputError(`record "${id}": pii item must be an object {type, value}, got ${typeName(item)}`, at(field));
    }
    const { type, value } = item as Record<string, unknown>;
    if (typeof type !== 'string' || type.trim() === '') {
      throw new InputError(
        `record "${id}": pii item needs "type", a non-empty string (e.g. "email"), got ${typeName(type)}`,
        at(`${field}.type`),
      );
    }
    if (typeof value !== 'string' || value === '') {
      throw new InputError(
        `record "${id}": pii item needs "value", a non-empty string, got ${typeName(value)}`,
        at(`${field}.value`),
      );
    }
    return { type, value };
  });
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  if (typeof v === 'number') {
    // YAML's .nan / .inf (JSON has neither): named, not "a number".
    if (Number.isNaN(v)) return '.nan (not a number)';
    if (!Number.isFinite(v)) return `${v < 0 ? '-' : ''}.inf (infinity)`;
    return Number.isInteger(v) ? 'an integer' : 'a number';
  }
  if (typeof v === 'boolean') return `${v}`;
  if (typeof v === 'object') return 'an object';
  return typeof v;
}
