/**
 * Tables for synthetic-data audits: the released synthetic file, the generator's training records
 * (members), the control set (holdout) and the attacker's population, read as rows of named cells
 * (CSV with a header, or JSONL objects), with each column numeric or categorical — declared in the
 * config or inferred — and encoded once into Float64Arrays that the nearest-neighbour search and the
 * density estimates read without per-cell objects.
 *
 * Every mistake is an `InputError` naming the file, the line, the column and what was expected.
 */
import { InputError } from '../errors.ts';
import { DEFAULT_DATA_LIMITS, type DataLimits } from '../config/limits.ts';
import { csvRows, DEFAULT_FIELDS, jsonlRows, readDataBytes, typeName } from './records.ts';

export type ColumnKind = 'numeric' | 'categorical';

/** A cell as read: a number, a string, or missing (an empty CSV cell, a JSON null or absent key). */
export type Cell = number | string | null;

export interface RawTable {
  role: string;
  file: string;
  header: string[];
  /** Row-major cells, one array per row in `header` order. */
  cells: Cell[][];
  /** 1-based line of each row in its file. */
  lines: number[];
  /** Whether the cell came from CSV (strings that may spell numbers) or JSON (typed). */
  csv: boolean;
}

/**
 * Reads a CSV (header row) or JSONL file into cells. JSON values must be numbers, strings, booleans
 * or null; a nested object or array is refused (name the column, the line, and what was expected).
 */
export async function readTable(file: string, role: string, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<RawTable> {
  const { abs, ext, buf } = await readDataBytes(file, limits);
  const csv = ext === '.csv';
  const header: string[] = [];
  const index = new Map<string, number>();
  const cells: Cell[][] = [];
  const lines: number[] = [];
  const rows = csv ? csvRows(buf, abs, DEFAULT_FIELDS, limits, []) : jsonlRows(buf.toString('utf8'), abs, limits);
  for (const row of rows) {
    if (cells.length === 0) for (const k of Object.keys(row.obj)) index.set(k, header.push(k) - 1);
    const out: Cell[] = new Array<Cell>(header.length).fill(null);
    for (const [k, v] of Object.entries(row.obj)) {
      let j = index.get(k);
      if (j === undefined) {
        // JSONL rows may name a column the first row did not: earlier rows miss it.
        j = header.push(k) - 1;
        index.set(k, j);
        for (const c of cells) c.push(null);
        out.push(null);
      }
      out[j] = cellOf(v, csv, abs, row.line, k);
    }
    cells.push(out);
    lines.push(row.line);
  }
  if (cells.length === 0) throw new InputError(csv ? 'no records: the CSV file has no rows after the header' : 'no records: the file is empty', { file: abs });
  return { role, file: abs, header, cells, lines, csv };
}

function cellOf(v: unknown, csv: boolean, file: string, line: number, field: string): Cell {
  if (v === undefined || v === null) return null;
  if (csv) return v === '' ? null : String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InputError(`expected a finite number, a string or null, got ${v}`, { file, line, field });
    return v;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  throw new InputError(`expected a number, a string, a boolean or null in a table column, got ${typeName(v)}`, { file, line, field });
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** The number a cell spells, or undefined when it is not one. */
export function numberOf(c: Cell): number | undefined {
  if (typeof c === 'number') return c;
  if (c === null || !NUMBER.test(c)) return undefined;
  const x = Number(c);
  return Number.isFinite(x) ? x : undefined;
}

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** Whether the kind was declared in the config (true) or inferred from the values (false). */
  declared: boolean;
}

/**
 * The attributes audited: every column of the synthetic table except the id, subject and text
 * columns, in the synthetic file's order. A declared kind is checked on every cell of every table
 * (a non-number in a numeric column names its file, line and column); an undeclared column is
 * numeric when every non-missing cell of every table is a number, else categorical.
 */
export function tableSchema(tables: RawTable[], declared: Record<string, ColumnKind>, exclude: readonly string[], declaredAt?: (column: string) => { file?: string; line?: number }): ColumnSpec[] {
  const syn = tables[0]!;
  for (const name of Object.keys(declared)) {
    if (!syn.header.includes(name))
      throw new InputError(`column "${name}" is declared in target.columns but the synthetic table has no such column; its columns: ${syn.header.join(', ')}`, { ...declaredAt?.(name), field: `target.columns.${name}` });
  }
  const specs: ColumnSpec[] = [];
  for (const name of syn.header) {
    if (exclude.includes(name)) continue;
    for (const t of tables) {
      if (!t.header.includes(name))
        throw new InputError(`the ${t.role} table has no column "${name}", which the synthetic table has (every table must have the same attribute columns); its columns: ${t.header.join(', ')}`, { file: t.file, line: t.lines[0], field: name });
    }
    const kind = declared[name];
    if (kind === 'numeric') {
      for (const t of tables) {
        const j = t.header.indexOf(name);
        t.cells.forEach((row, i) => {
          const c = row[j]!;
          if (c !== null && numberOf(c) === undefined)
            throw new InputError(`expected a number (column "${name}" is declared numeric in target.columns), got ${JSON.stringify(c)}`, { file: t.file, line: t.lines[i], field: name });
        });
      }
      specs.push({ name, kind, declared: true });
    } else if (kind === 'categorical') specs.push({ name, kind, declared: true });
    else {
      const numeric = tables.every((t) => {
        const j = t.header.indexOf(name);
        return t.cells.every((row) => row[j] === null || numberOf(row[j]!) !== undefined);
      });
      specs.push({ name, kind: numeric ? 'numeric' : 'categorical', declared: false });
    }
  }
  if (specs.length === 0) throw new InputError(`the synthetic table has no attribute columns besides ${exclude.join(', ')}`, { file: syn.file, line: syn.lines[0] });
  return specs;
}

/**
 * Tables encoded over one schema: numeric columns first (raw values, NaN = missing), then categorical
 * ones (codes into a dictionary shared by every table, NaN = missing), row-major n × d.
 */
export interface EncodedTable {
  role: string;
  file: string;
  n: number;
  d: number;
  data: Float64Array;
  lines: number[];
  ids: string[];
  /** Subject of each row, when the table has a subject column (people are then the unit). */
  subjects?: (string | undefined)[];
}

export interface Encoding {
  /** Columns in encoded order: numeric ones first. */
  columns: ColumnSpec[];
  /** Numeric columns (the first `numeric` of `columns`). */
  numeric: number;
  /** Per categorical column (index in `columns`), its levels in code order. */
  levels: Map<number, string[]>;
}

export function encodeTables(tables: RawTable[], schema: ColumnSpec[], idColumn: string, subjectColumn: string | undefined): { encoding: Encoding; tables: EncodedTable[] } {
  const columns = [...schema.filter((c) => c.kind === 'numeric'), ...schema.filter((c) => c.kind === 'categorical')];
  const numeric = columns.filter((c) => c.kind === 'numeric').length;
  const dicts = columns.map(() => new Map<string, number>());
  const levels = new Map<number, string[]>();
  const d = columns.length;
  const out = tables.map((t): EncodedTable => {
    const n = t.cells.length;
    const data = new Float64Array(n * d);
    const js = columns.map((c) => t.header.indexOf(c.name));
    const idj = t.header.indexOf(idColumn);
    const sj = subjectColumn === undefined ? -1 : t.header.indexOf(subjectColumn);
    const ids: string[] = new Array<string>(n);
    const subjects: (string | undefined)[] | undefined = sj >= 0 ? new Array<string | undefined>(n) : undefined;
    for (let i = 0; i < n; i++) {
      const row = t.cells[i]!;
      for (let k = 0; k < d; k++) {
        const c = row[js[k]!]!;
        if (c === null) data[i * d + k] = NaN;
        else if (k < numeric) data[i * d + k] = numberOf(c)!;
        else {
          const key = String(c);
          let code = dicts[k]!.get(key);
          if (code === undefined) dicts[k]!.set(key, (code = dicts[k]!.size));
          data[i * d + k] = code;
        }
      }
      ids[i] = idj >= 0 && row[idj] !== null ? String(row[idj]) : `${t.role}:${t.lines[i]}`;
      if (subjects) subjects[i] = row[sj] === null ? undefined : String(row[sj]);
    }
    return { role: t.role, file: t.file, n, d, data, lines: t.lines, ids, ...(subjects ? { subjects } : {}) };
  });
  for (let k = numeric; k < d; k++) levels.set(k, [...dicts[k]!.keys()]);
  return { encoding: { columns, numeric, levels }, tables: out };
}

/** The rows `idx` of a table, as a new table (same columns). */
export function takeRows(t: EncodedTable, idx: ArrayLike<number>): EncodedTable {
  const data = new Float64Array(idx.length * t.d);
  const lines: number[] = [];
  const ids: string[] = [];
  const subjects: (string | undefined)[] | undefined = t.subjects ? [] : undefined;
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    data.set(t.data.subarray(i * t.d, (i + 1) * t.d), r * t.d);
    lines.push(t.lines[i]!);
    ids.push(t.ids[i]!);
    subjects?.push(t.subjects![i]);
  }
  return { ...t, n: idx.length, data, lines, ids, ...(subjects ? { subjects } : {}) };
}

/** Indices of the first occurrence of each distinct row (pandas' drop_duplicates, NaN equal to NaN). */
export function distinctRows(t: EncodedTable, cols?: readonly number[]): number[] {
  const seen = new Set<string>();
  const keep: number[] = [];
  const use = cols ?? Array.from({ length: t.d }, (_, k) => k);
  for (let i = 0; i < t.n; i++) {
    const key = use.map((k) => t.data[i * t.d + k]).join('\u0001');
    if (!seen.has(key)) (seen.add(key), keep.push(i));
  }
  return keep;
}
