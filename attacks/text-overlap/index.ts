/**
 * Membership inference on a released synthetic text corpus from the text alone (no model):
 * - verbatim: the share of a record's word n-grams (default 8) found anywhere in the synthetic
 *   corpus — long n-grams shared with a training record are copied text (Carlini et al., USENIX
 *   Security 2021 §6, for the matching rule; Meeus et al. 2025 §3.2, "similarity-based" MIAs);
 * - ngram-lm: the record's mean per-token log-likelihood under a word n-gram language model (default
 *   order 3) with Laplace (add-one) smoothing fitted on the synthetic corpus: the data-based MIA of
 *   Meeus, Wutschitz, Zanella-Béguelin, Tople, Shokri, "The Canary's Echo: Auditing Privacy Risks of
 *   LLM-Generated Synthetic Text", ICML 2025 (arXiv 2502.14921) §3.2. It catches near-verbatim
 *   echoes (paraphrases keep most short n-grams) that the verbatim score misses.
 * Both score training records against control records with the shared ROC/AUC machinery.
 */
import { z } from 'zod';
import type { ScoresObservation, SyntheticAttack, SyntheticContext } from '../synthetic-types.ts';

const options = z.strictObject({
  n: z.int().min(2).max(64).default(8),
  lmOrder: z.int().min(1).max(8).default(3),
});
type Options = z.infer<typeof options>;

/** Lower-cased word and punctuation tokens (Unicode letters and digits). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

const SEP = '\u0001';

/** Share of the record's n-grams present in `grams` (a record shorter than n is one gram). */
export function verbatimShare(tokens: string[], n: number, grams: Set<string>): number {
  if (tokens.length === 0) return 0;
  if (tokens.length < n) return grams.has(tokens.join(SEP)) ? 1 : 0;
  let hit = 0;
  const total = tokens.length - n + 1;
  for (let i = 0; i < total; i++) if (grams.has(tokens.slice(i, i + n).join(SEP))) hit++;
  return hit / total;
}

/** An order-k word n-gram LM with add-one smoothing; `score` is the mean log-probability per token. */
export function ngramLm(corpus: string[][], order: number): { score(tokens: string[]): number; vocab: number } {
  const counts = new Map<string, number>();
  const contexts = new Map<string, number>();
  const vocab = new Set<string>();
  const BOS = '<s>';
  for (const toks of corpus) {
    const padded = [...Array<string>(order - 1).fill(BOS), ...toks];
    for (let i = order - 1; i < padded.length; i++) {
      vocab.add(padded[i]!);
      const ctx = padded.slice(i - order + 1, i).join(SEP);
      const key = ctx + SEP + SEP + padded[i];
      counts.set(key, (counts.get(key) ?? 0) + 1);
      contexts.set(ctx, (contexts.get(ctx) ?? 0) + 1);
    }
  }
  const V = vocab.size + 1; // + an unknown word
  return {
    vocab: V,
    score(tokens: string[]): number {
      if (tokens.length === 0) return Math.log(1 / V);
      const padded = [...Array<string>(order - 1).fill(BOS), ...tokens];
      let s = 0;
      for (let i = order - 1; i < padded.length; i++) {
        const ctx = padded.slice(i - order + 1, i).join(SEP);
        s += Math.log(((counts.get(ctx + SEP + SEP + padded[i]) ?? 0) + 1) / ((contexts.get(ctx) ?? 0) + V));
      }
      return s / tokens.length;
    },
  };
}

function run(ctx: SyntheticContext, o: Options): ScoresObservation[] {
  const text = ctx.text!;
  const syn = text.synthetic.map(words);
  const grams = new Set<string>();
  for (const t of syn) {
    if (t.length < o.n) grams.add(t.join(SEP));
    for (let i = 0; i + o.n <= t.length; i++) grams.add(t.slice(i, i + o.n).join(SEP));
  }
  const mem = text.members.map(words);
  const ctl = text.control.map(words);
  const rows = (a: unknown[]) => a.map((_, i) => i);
  const lm = ngramLm(syn, o.lmOrder);
  return [
    {
      kind: 'scores',
      variant: `verbatim-${o.n}gram`,
      members: { scores: mem.map((t) => verbatimShare(t, o.n, grams)), rows: rows(mem) },
      control: { scores: ctl.map((t) => verbatimShare(t, o.n, grams)), rows: rows(ctl) },
      details: { n: o.n, syntheticRecords: syn.length, distinctNgrams: grams.size },
      warnings: [],
    },
    {
      kind: 'scores',
      variant: `ngram-lm-${o.lmOrder}`,
      members: { scores: mem.map((t) => lm.score(t)), rows: rows(mem) },
      control: { scores: ctl.map((t) => lm.score(t)), rows: rows(ctl) },
      details: { order: o.lmOrder, vocabulary: lm.vocab, smoothing: 'Laplace (add-one)' },
      warnings: [],
    },
  ];
}

export const textOverlap: SyntheticAttack<Options> = {
  meta: {
    id: 'text-overlap',
    title: 'The synthetic text does not echo the training records',
    failureTitle: 'The synthetic text echoes training records (verbatim or near-verbatim n-grams)',
    description:
      'Training records whose word sequences reappear in the synthetic corpus (verbatim: long n-grams; near-verbatim: likely under an n-gram model of the corpus) more than control records\' do were memorised by the generator, and anyone with the corpus can tell who was in the training data.',
    family: 'membership',
    target: 'text',
    reference: 'Meeus et al., "The Canary\'s Echo", ICML 2025 (arXiv 2502.14921) §3.2; Carlini et al., USENIX Security 2021 §6',
  },
  options,
  run,
};
