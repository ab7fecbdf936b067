/**
 * Worker side: for every canary, its own filled-in format and `candidates` other secrets of the same
 * shape, scored teacher-forced on each attacked model (one batch request per canary and model).
 */
import { unsafeUniformIntDistribution } from 'pure-rand';
import { seededRng } from '../../src/metrics/index.ts';
import { derivedSeed } from '../../src/audit/measure.ts';
import type { CollectContext, ModelUnderTest } from '../types.ts';
import type { CanaryExposureOptions } from './index.ts';

export interface CanaryEvidence {
  models: {
    role: ModelUnderTest['role'];
    /** Per canary: log-perplexity in bits of the inserted secret, and of each candidate secret. */
    canaries: { px: number; candidates: number[] }[];
  }[];
}

/** Seeded distinct candidate secrets of the secret's length over the alphabet, the secret excluded. */
export function candidateSecrets(secret: string, alphabet: string, count: number, seed: number): string[] {
  const space = alphabet.length ** secret.length;
  const n = Math.min(count, space - 1);
  const rng = seededRng(seed);
  const out = new Set<string>();
  while (out.size < n) {
    let s = '';
    for (let i = 0; i < secret.length; i++) s += alphabet[unsafeUniformIntDistribution(0, alphabet.length - 1, rng)];
    if (s !== secret) out.add(s);
  }
  return [...out];
}

/** −log2 Pr(sequence) over every scored token (Secret Sharer's log-perplexity, Def. 1). */
export const bits = (logprobs: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < logprobs.length; i++) s -= logprobs[i]!;
  return s / Math.LN2;
};

export async function collect(ctx: CollectContext<CanaryExposureOptions>): Promise<CanaryEvidence> {
  const { canaries, candidates, alphabet } = ctx.options;
  const sets = canaries.map((c, i) => {
    const fill = (s: string) => c.format.replace('{secret}', s);
    return [fill(c.secret), ...candidateSecrets(c.secret, alphabet, candidates, derivedSeed(ctx.seed, 'canary', String(i))).map(fill)];
  });
  const models: CanaryEvidence['models'] = [];
  for (const model of ctx.models) {
    const out: CanaryEvidence['models'][number]['canaries'] = [];
    for (const texts of sets) {
      const signals = await ctx.signals.tokenSignals(model, texts);
      const [px, ...rest] = signals.map((s) => bits(s.logprobs));
      out.push({ px: px!, candidates: rest });
    }
    models.push({ role: model.role, canaries: out });
  }
  return { models };
}
