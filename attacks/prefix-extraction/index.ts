import { z } from 'zod';
import { defineAttack, extractionObservations } from '../types.ts';
import { tokenSimilarity } from '../similarity.ts';
import { collect, type PrefixEvidence } from './tasks.ts';

export const prefixExtractionOptions = z.strictObject({
  /** P: tokens of the record given to the model. */
  prefixTokens: z.number().int().positive().default(32),
  /** S: tokens the model must reproduce. */
  suffixTokens: z.number().int().positive().default(32),
  /** Approximate match: normalised edit similarity at or above this counts as a near hit. */
  nearSimilarity: z.number().gt(0).lte(1).default(0.9),
});
export type PrefixExtractionOptions = z.infer<typeof prefixExtractionOptions>;

/**
 * Discoverable extraction (Carlini et al., ICLR 2023 "Quantifying Memorization", §3; Nasr et al. 2023):
 * the first P tokens of a training record as a prompt, S tokens of greedy decoding, and a hit when they
 * equal the record's true next S tokens exactly; an approximate hit when their normalised edit
 * similarity is ≥ 0.9 (Ippolito et al. 2023 show verbatim matching undercounts memorisation).
 */
export const prefixExtraction = defineAttack<PrefixExtractionOptions, PrefixEvidence>({
  meta: {
    id: 'prefix-extraction',
    title: 'Deleted records cannot be regenerated from their beginnings',
    failureTitle: 'Deleted records can be regenerated from their beginnings',
    description:
      'An adversary who knows how a record starts asks the model to continue it. If the model writes ' +
      'the rest of a deleted record word for word, the record is still in the weights.',
    family: 'extraction',
    requires: ['generate'],
    reference:
      'Carlini et al. Quantifying Memorization Across Neural Language Models. ICLR 2023, §3 (k-extractability with greedy decoding); Ippolito et al. 2023 (approximate memorisation).',
  },
  options: prefixExtractionOptions,
  collect,
  evaluate: (evidence, ctx) =>
    extractionObservations(evidence, (it) => {
      const similarity = tokenSimilarity(it.generated, it.truth);
      const hit = it.generated.length >= it.truth.length && it.truth.every((t, i) => it.generated[i] === t);
      const near = hit || similarity >= ctx.options.nearSimilarity;
      return { recordId: it.recordId, subject: it.subject, target: 'suffix', hit, near, similarity };
    }),
});
