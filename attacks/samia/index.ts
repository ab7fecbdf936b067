import { z } from 'zod';
import { defineAttack, type MembershipObservation } from '../types.ts';
import { zlibBytes } from '../zlib/index.ts';
import { MEMBERSHIP_SPLITS } from '../lm-membership.ts';
import { collect, words, type SamiaEvidence, type SamiaItem } from './tasks.ts';

export const samiaOptions = z.strictObject({
  /** Share of a record's words given as the prefix (the rest is the reference suffix). */
  prefixRatio: z.number().gt(0).lt(1).default(0.5),
  /** Continuations sampled per record and model. */
  samples: z.int().min(1).max(100).default(10),
  /** Longest continuation, in tokens. */
  maxNewTokens: z.int().min(1).max(4096).default(64),
  /** Sampling temperature (softmax(logits / T)); the paper samples at 1. */
  temperature: z.number().gt(0).default(1),
  /** SaMIA*zlib: each sample's recall times the zlib-compressed size of the sample. */
  zlib: z.boolean().default(false),
});
export type SamiaOptions = z.infer<typeof samiaOptions>;

/**
 * ROUGE-1 recall of `reference`'s words in `candidate`: clipped unigram matches / |reference|
 * (Lin 2004's ROUGE-N with N = 1; the reference code's `rouge_n` returns recall). 0 when either is
 * empty.
 */
export function rouge1Recall(candidate: readonly string[], reference: readonly string[]): number {
  if (candidate.length === 0 || reference.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const w of candidate) counts.set(w, (counts.get(w) ?? 0) + 1);
  let overlap = 0;
  for (const w of reference) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      overlap++;
      counts.set(w, c - 1);
    }
  }
  return overlap / reference.length;
}

/**
 * One record's SaMIA score: the mean over its samples of ROUGE-1 recall of the true suffix's words,
 * each multiplied by the zlib size (bytes) of the sample's words joined by one space when `zlib`.
 */
export function samiaScore(item: { reference: string[]; samples: string[] }, zlib: boolean): number {
  let sum = 0;
  for (const s of item.samples) {
    const cand = words(s);
    const r = rouge1Recall(cand, item.reference);
    sum += zlib && r > 0 ? r * zlibBytes(cand.join(' ')) : r;
  }
  return sum / item.samples.length;
}

export const CHAT_WARNING =
  'no prompt likelihoods available; sampling attack only; a lower bound of what a logprob attack would show (the endpoint is chat-only: each prefix was sent as a user message inside the chat template)';

/**
 * SaMIA (Kaneko et al. 2024, arXiv 2404.11262): sample continuations of a record's first half and
 * measure how much of its true second half they reproduce (ROUGE-1 recall, averaged over samples).
 * Needs generated text only, so it runs on chat-only endpoints that give no likelihoods.
 */
export const samia = defineAttack<SamiaOptions, SamiaEvidence>({
  meta: {
    id: 'samia',
    title: 'Sampled continuations do not reproduce deleted records more than unseen ones',
    failureTitle: 'Sampled continuations reproduce deleted records more than unseen ones',
    description:
      'Asked to continue the first half of a record, a model that was trained on it tends to write words of the true second half. ' +
      'This needs nothing but generated text, so it also audits chat endpoints that expose no likelihoods; it is a lower bound of what a likelihood attack would show.',
    family: 'membership',
    requires: ['sample'],
    reference:
      'Kaneko, Ma, Wata, Okazaki. Sampling-based Pseudo-Likelihood for Membership Inference Attacks. arXiv 2404.11262, 2024 (SaMIA: ROUGE-N recall of the reference over sampled candidates, N = 1; SaMIA*zlib); reference code nlp-titech/samia src/eval_samia.py.',
  },
  options: samiaOptions,
  collect,
  evaluate: (evidence, ctx): MembershipObservation[] =>
    evidence.models.map(({ role, chat, splits }) => {
      const out: MembershipObservation['splits'] = {};
      let short = 0;
      for (const split of MEMBERSHIP_SPLITS) {
        const items: SamiaItem[] | undefined = splits[split];
        if (!items) continue;
        const records = ctx.splits[split];
        out[split] = {
          ids: records.map((r) => r.id),
          subjects: records.map((r) => r.subject),
          // A record of fewer than 2 words has no prefix and suffix to compare: scored 0 (no evidence), counted.
          scores: items.map((it) => (it ? samiaScore(it, ctx.options.zlib) : (short++, 0))),
        };
      }
      const warnings = [
        ...(chat ? [`models.${role}: ${CHAT_WARNING}`] : []),
        ...(short > 0 ? [`models.${role}: ${short} record(s) of fewer than 2 words could not be split and were scored 0`] : []),
      ];
      return { family: 'membership', model: role, splits: out, ...(warnings.length > 0 ? { warnings } : {}) };
    }),
});
