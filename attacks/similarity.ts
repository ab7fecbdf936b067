import { distance } from 'fastest-levenshtein';

/**
 * Normalised edit similarity of two token sequences: 1 − levenshtein / max(length). Token ids are
 * mapped to private characters so the string implementation works for any vocabulary size.
 */
export function tokenSimilarity(a: readonly number[], b: readonly number[]): number {
  const len = Math.max(a.length, b.length);
  if (len === 0) return 1;
  const alphabet = new Map<number, string>();
  const toStr = (ids: readonly number[]) =>
    ids
      .map((id) => {
        let c = alphabet.get(id);
        if (c === undefined) {
          c = String.fromCharCode(0xe000 + alphabet.size); // Unicode private-use area, one char per id
          alphabet.set(id, c);
        }
        return c;
      })
      .join('');
  return 1 - distance(toStr(a), toStr(b)) / len;
}
