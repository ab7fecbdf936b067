/**
 * Strict UTF-8 for input files. Node's `buffer.toString('utf8')` silently turns invalid bytes into
 * U+FFFD, so a Latin-1 or UTF-16 file would be audited as different text than the model was trained
 * on; these checks find the first bad byte instead, with its line and column.
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors.ts';

export interface Utf8Problem {
  /** 1-based line of the first invalid byte sequence. */
  line: number;
  /** 1-based byte column within that line. */
  column: number;
  /** The first offending byte, e.g. `0xe9`. */
  byte: string;
}

/** Undefined when `buf` is valid UTF-8; else where the first invalid sequence starts. */
export function findInvalidUtf8(buf: Uint8Array): Utf8Problem | undefined {
  if (isUtf8(buf)) return undefined;
  // Slow path, only for a broken file: the line (a 0x0A byte is never inside a multi-byte sequence),
  // then the byte within it.
  let start = 0;
  let line = 1;
  while (start <= buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end === -1) end = buf.length;
    const part = buf.subarray(start, end);
    if (!isUtf8(part)) {
      const col = firstBadByte(part);
      return { line, column: col + 1, byte: `0x${(part[col] ?? 0).toString(16).padStart(2, '0')}` };
    }
    start = end + 1;
    line++;
  }
  return { line, column: 1, byte: '?' };
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (RFC 3629). */
function firstBadByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      const [min, max] = k === 1 ? [lo, hi] : [0x80, 0xbf];
      if (x === undefined || x < min || x > max) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/** Throws an InputError naming the file and line when `buf` is not UTF-8. */
export function assertUtf8(buf: Uint8Array, file: string, what = 'file'): void {
  const bad = findInvalidUtf8(buf);
  if (!bad) return;
  const utf16 = (buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff);
  const hint = utf16 ? 'the file looks like UTF-16: save it as UTF-8' : 'save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)';
  throw new InputError(`the ${what} is not valid UTF-8: byte ${bad.byte} at column ${bad.column}; ${hint}`, {
    file,
    line: bad.line,
  });
}
