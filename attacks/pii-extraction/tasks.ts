/** Worker side: for each declared PII value, the record's text before it as a prompt, greedy decoding. */
import type { CollectContext, ExtractionEvidence, SplitName } from '../types.ts';
import type { PiiExtractionOptions } from './index.ts';

export interface PiiItem {
  recordId: string;
  subject: string | undefined;
  type: string;
  value: string;
  /** Decoded greedy continuation. Evidence only: never written to result.json. */
  continuation: string;
}

export type PiiEvidence = ExtractionEvidence<PiiItem>;

const SPLITS: SplitName[] = ['forget', 'retain', 'holdout'];

export async function collect(ctx: CollectContext<PiiExtractionOptions>): Promise<PiiEvidence> {
  const { maxNewTokens, types } = ctx.options;
  const models: PiiEvidence['models'] = [];
  for (const model of ctx.models) {
    const tok = await ctx.signals.tokenizer(model);
    const splits: PiiEvidence['models'][number]['splits'] = {};
    const skipped: PiiEvidence['models'][number]['skipped'] = {};
    for (const split of SPLITS) {
      const items: Omit<PiiItem, 'continuation'>[] = [];
      const prompts: number[][] = [];
      for (const r of ctx.splits[split]) {
        for (const p of r.pii ?? []) {
          if (types && !types.includes(p.type)) continue;
          const at = r.text.indexOf(p.value);
          // Nothing precedes the value (or it is not in the text): no prompt to give.
          if (at <= 0) {
            skipped[split] = (skipped[split] ?? 0) + 1;
            continue;
          }
          // Trailing spaces are left to the model: a BPE tokenizer would otherwise end the prompt on a
          // lone-space token it never saw before the value ("Email: " + "x@y" trains as " x@y").
          const before = r.text.slice(0, at);
          const prompt = before.trimEnd() || before;
          // A prompt too long for the context with the continuation is windowed (and counted) by
          // signals.generate; maxNewTokens itself was checked against the context (budgets.ts).
          prompts.push(tok.encode(prompt));
          items.push({ recordId: r.id, subject: r.subject, type: p.type, value: p.value });
        }
      }
      if (items.length === 0) continue;
      const generated = await ctx.signals.generate(model, prompts, maxNewTokens);
      splits[split] = items.map((it, i) => ({ ...it, continuation: tok.decode(generated[i]!) }));
    }
    models.push({ role: model.role, splits, skipped });
  }
  return { models };
}
