/** Hidden and control characters for the text-hygiene tests, with the names the outputs must show. */

/** Each hidden character with the name it must be shown as. */
export const HIDDEN: [string, string][] = [
  ['\u202E', '⟨U+202E⟩'], // right-to-left override
  ['\u202A', '⟨U+202A⟩'],
  ['\u2066', '⟨U+2066⟩'], // left-to-right isolate
  ['\u2069', '⟨U+2069⟩'],
  ['\u200E', '⟨U+200E⟩'],
  ['\u200F', '⟨U+200F⟩'],
  ['\u061C', '⟨U+061C⟩'], // Arabic letter mark
  ['\u200B', '⟨U+200B⟩'], // zero-width space
  ['\u200C', '⟨U+200C⟩'],
  ['\u200D', '⟨U+200D⟩'], // zero-width joiner
  ['\u2060', '⟨U+2060⟩'],
  ['\uFEFF', '⟨U+FEFF⟩'],
  ['\u00AD', '⟨U+00AD⟩'], // soft hyphen
  ['\u{E0041}', '⟨U+E0041⟩'], // tag character
  ['\u3164', '⟨U+3164⟩'], // Hangul filler
  ['\u0000', '⟨U+0000⟩'],
  ['\u001B', '⟨U+001B⟩'], // escape
  ['\u0007', '⟨U+0007⟩'],
  ['\r', '⟨U+000D⟩'],
  ['\u007F', '⟨U+007F⟩'],
  ['\u0085', '⟨U+0085⟩'],
  ['\u2028', '⟨U+2028⟩'],
  ['\uFFFE', '⟨U+FFFE⟩'],
  ['\uD800', '⟨U+D800⟩'], // a lone surrogate
];
export const EVIL = `a${HIDDEN.map(([c]) => c).join('b')}z`;

/** The characters, as UTF-8 bytes, that must not occur in a written file (a lone surrogate is written as U+FFFD). */
export function rawHits(bytes: Buffer): string[] {
  return HIDDEN.filter(([c]) => c !== '\uD800' && bytes.includes(Buffer.from(c, 'utf8'))).map(([, name]) => name);
}
