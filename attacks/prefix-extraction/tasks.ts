/** Worker side: tokenise each record, prompt with its first P tokens, decode S tokens greedily. */
import type { CollectContext, ExtractionEvidence, SplitName } from '../types.ts';
import type { PrefixExtractionOptions } from './index.ts';

export interface PrefixItem {
  recordId: string;
  subject: string | undefined;
  truth: number[];
  generated: number[];
}

export type PrefixEvidence = ExtractionEvidence<PrefixItem>;

const SPLITS: SplitName[] = ['forget', 'retain', 'holdout'];

export async function collect(ctx: CollectContext<PrefixExtractionOptions>): Promise<PrefixEvidence> {
  const { prefixTokens: P, suffixTokens: S } = ctx.options;
  const models: PrefixEvidence['models'] = [];
  for (const model of ctx.models) {
    const tok = await ctx.signals.tokenizer(model);
    const splits: PrefixEvidence['models'][number]['splits'] = {};
    const skipped: PrefixEvidence['models'][number]['skipped'] = {};
    for (const split of SPLITS) {
      const usable: { recordId: string; subject: string | undefined; ids: number[] }[] = [];
      for (const r of ctx.splits[split]) {
        const ids = tok.encode(r.text);
        // Too short for a P-token prefix and an S-token suffix, or a prompt plus continuation longer
        // than the model's context: counted as skipped, never silently dropped.
        if (ids.length - tok.leading < P + S || tok.leading + P + S > tok.maxLength) skipped[split] = (skipped[split] ?? 0) + 1;
        else usable.push({ recordId: r.id, subject: r.subject, ids });
      }
      if (usable.length === 0) continue;
      const generated = await ctx.signals.generate(
        model,
        // The prompt keeps the model's leading special tokens (BOS), as in training.
        usable.map((u) => u.ids.slice(0, tok.leading + P)),
        S,
      );
      splits[split] = usable.map((u, i) => ({
        recordId: u.recordId,
        subject: u.subject,
        truth: u.ids.slice(tok.leading + P, tok.leading + P + S),
        generated: generated[i]!.slice(0, S),
      }));
    }
    models.push({ role: model.role, splits, skipped });
  }
  return { models };
}
