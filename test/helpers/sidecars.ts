import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One CSV line's cells (RFC 4180 quoting; no line breaks inside cells, as the tool writes them). */
function cells(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        v += line.slice(i, q);
        i = q + 1;
        if (line[i] !== '"') break;
        v += '"';
        i++;
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c < 0 ? undefined : c));
      i = c < 0 ? line.length : c;
    }
    if (line[i] !== ',') return out;
    i++;
  }
}

/** The rows of `<dir>/subjects.csv` as cells, header first. */
export const subjectsCsv = (dir: string): string[][] => readFileSync(path.join(dir, 'subjects.csv'), 'utf8').trimEnd().split('\n').map(cells);

/** Every deleted subject's (pseudonymised) id, from subjects.csv. */
export const csvSubjectIds = (dir: string): string[] => subjectsCsv(dir).slice(1).map((r) => r[0]!);
