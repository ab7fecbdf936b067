import { describe, expect, it } from 'vitest';
import { findInvalidUtf8 } from '../../src/data/utf8.ts';

const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('findInvalidUtf8', () => {
  it('accepts UTF-8, including 4-byte sequences and a BOM', () => {
    expect(findInvalidUtf8(b('\ufeff{"text":"café 🐈 ok"}\n'))).toBeUndefined();
  });
  it.each([
    ['a Latin-1 é', b('line one\n', 'caf', [0xe9], '\n'), { line: 2, column: 4, byte: '0xe9' }],
    ['an overlong encoding of "/"', b('ab', [0xc0, 0xaf]), { line: 1, column: 3, byte: '0xc0' }],
    ['a UTF-16 surrogate encoded in UTF-8', b('x\ny\nz', [0xed, 0xa0, 0x80]), { line: 3, column: 2, byte: '0xed' }],
    ['a sequence cut short at the end of a line', b('ok\n', [0xe2, 0x82], '\n'), { line: 2, column: 1, byte: '0xe2' }],
    ['a code point above U+10FFFF', b([0xf4, 0x90, 0x80, 0x80]), { line: 1, column: 1, byte: '0xf4' }],
    ['a UTF-16 byte order mark', b([0xff, 0xfe], 'a'), { line: 1, column: 1, byte: '0xff' }],
  ])('finds %s with its line, column and byte', (_, buf, where) => {
    expect(findInvalidUtf8(buf)).toEqual(where);
  });
});
