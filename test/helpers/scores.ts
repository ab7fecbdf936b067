/**
 * Seeded synthetic membership scores for unit tests of the measure and assert stages: people with
 * `perPerson` records each, person effect plus record noise (intraclass correlation 0.5), members
 * shifted by `shift` standard deviations. Deterministic (xoroshiro from pure-rand).
 */
import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';

export function gaussian(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  const u = () => (unsafeUniformIntDistribution(0, 2 ** 30 - 1, rng) + 0.5) / 2 ** 30;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

export interface SyntheticSplit {
  ids: string[];
  subjects: string[];
  scores: number[];
}

export function people(prefix: string, count: number, shift: number, seed: number, perPerson = 2): SyntheticSplit {
  const g = gaussian(seed);
  const out: SyntheticSplit = { ids: [], subjects: [], scores: [] };
  for (let p = 0; p < count; p++) {
    const u = shift + Math.SQRT1_2 * g();
    for (let r = 0; r < perPerson; r++) {
      out.ids.push(`${prefix}${p}-${r}`);
      out.subjects.push(`${prefix}-person-${p}`);
      out.scores.push(u + Math.SQRT1_2 * g());
    }
  }
  return out;
}
