/**
 * Collect: split each forget/retain/holdout record at `prefixRatio` of its words, and sample
 * `samples` continuations of the prefix from each model (Signals.sample: seeded, cached per prompt).
 * The continuations are decoded here, so evaluate gets plain words and texts.
 */
import { MEMBERSHIP_SPLITS } from '../lm-membership.ts';
import type { CollectContext, MembershipObservation, SplitName } from '../types.ts';
import type { SamiaOptions } from './index.ts';

/** One record: the words of its true suffix and the sampled continuations (text); null when too short. */
export type SamiaItem = { reference: string[]; samples: string[] } | null;

export interface SamiaEvidence {
  models: {
    role: MembershipObservation['model'];
    /** Generation through a chat endpoint only (the prefix sent as a user message). */
    chat: boolean;
    splits: Partial<Record<SplitName, SamiaItem[]>>;
  }[];
}

/** A text's words: split on whitespace, empty strings dropped (Python's `str.split()`). */
export const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '');

/**
 * The prefix (its words joined by one space, as the reference code builds it) and the true suffix's
 * words: the first ⌊W · ratio⌋ of W words are the prefix, at least 1 and at most W − 1, so both
 * parts have a word. Undefined for a text of fewer than 2 words.
 */
export function splitRecord(text: string, ratio: number): { prefix: string; reference: string[] } | undefined {
  const w = words(text);
  if (w.length < 2) return undefined;
  const k = Math.min(Math.max(Math.floor(w.length * ratio), 1), w.length - 1);
  return { prefix: w.slice(0, k).join(' '), reference: w.slice(k) };
}

export async function collect(ctx: CollectContext<SamiaOptions>): Promise<SamiaEvidence> {
  const { prefixRatio, samples: n, maxNewTokens, temperature } = ctx.options;
  const models: SamiaEvidence['models'] = [];
  for (const model of ctx.models) {
    const tok = await ctx.signals.tokenizer(model);
    const splits: SamiaEvidence['models'][number]['splits'] = {};
    for (const split of MEMBERSHIP_SPLITS) {
      const records = ctx.splits[split];
      if (records.length === 0) continue;
      const parts = records.map((r) => splitRecord(r.text, prefixRatio));
      const usable = parts.flatMap((p, i) => (p ? [i] : []));
      // The prompt is the prefix as the model would see it in training: with its leading special tokens.
      const sampled = usable.length === 0 ? [] : await ctx.signals.sample(model, usable.map((i) => tok.encode(parts[i]!.prefix)), { n, maxNewTokens, temperature, seed: ctx.seed });
      const items: SamiaItem[] = parts.map(() => null);
      usable.forEach((i, j) => (items[i] = { reference: parts[i]!.reference, samples: sampled[j]!.map((ids) => tok.decode(ids)) }));
      splits[split] = items;
    }
    models.push({ role: model.role, chat: model.generation === 'chat', splits });
  }
  return { models };
}
