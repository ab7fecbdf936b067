import { z } from 'zod';
import { mean, scoreSplits } from '../lm-membership.ts';
import { defineAttack, type SplitName } from '../types.ts';
import { collect, type ReferenceEvidence } from './tasks.ts';

export const referenceOptions = z.strictObject({});

/**
 * Reference-model calibration (Carlini et al., USENIX Security 2021, §5.2 "Small"/"Medium"; Mireshghallah
 * et al., EMNLP 2022 "likelihood ratio"): how much more likely the fine-tuned model finds a record than
 * the base model it started from. What is easy for any model cancels out; what fine-tuning memorised
 * remains. Score = NLL_reference − NLL_target (MIMIR's NLL_target − NLL_ref, negated): higher = member.
 */
export const reference = defineAttack<z.infer<typeof referenceOptions>, ReferenceEvidence>({
  meta: {
    id: 'reference',
    title: 'Deleted records are no more likely than under the base model',
    failureTitle: 'Deleted records are more likely than under the base model',
    description:
      'Compares the fine-tuned model with the base model it started from: a record the fine-tuning memorised ' +
      'is much more likely under the fine-tuned model, while text that is easy for any model is not.',
    family: 'membership',
    requires: ['tokenLogprobs'],
    needsReference: true,
    reference:
      'Carlini et al. Extracting Training Data from Large Language Models. USENIX Security 2021, §5.2 (reference-model ratio); Mireshghallah et al. Quantifying Privacy Risks of Masked Language Models Using Membership Inference Attacks. EMNLP 2022, §3 (likelihood ratio to a reference model).',
  },
  options: referenceOptions,
  collect,
  evaluate: (evidence, ctx) => {
    // The base model's mean log-prob of each record, by split and position (same records, same order).
    const base = new Map<SplitName, number[]>();
    for (const [split, sigs] of Object.entries(evidence.reference.splits) as [SplitName, { logprobs: Float32Array }[]][])
      base.set(split, sigs.map((s) => mean(s.logprobs)));
    return evidence.target.models.map((m) => {
      const [obs] = scoreSplits({ models: [m] }, ctx, (s) => mean(s.logprobs));
      for (const [split, v] of Object.entries(obs!.splits) as [SplitName, { scores: number[] }][]) {
        const b = base.get(split)!;
        v.scores = v.scores.map((x, i) => x - b[i]!);
      }
      return obs!;
    });
  },
});
