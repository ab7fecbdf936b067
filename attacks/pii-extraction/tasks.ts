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
/**
 * Prompts tokenised and sent at a time (128 generation batches): at 100k records a split has ~10^5
 * prompts, and holding all their token ids at once was the largest thing in the main thread.
 */
export const PROMPT_CHUNK = 4096;

export async function collect(ctx: CollectContext<PiiExtractionOptions>): Promise<PiiEvidence> {
  const { maxNewTokens, types } = ctx.options;
  const models: PiiEvidence['models'] = [];
  for (const model of ctx.models) {
    const tok = await ctx.signals.tokenizer(model);
    const splits: PiiEvidence['models'][number]['splits'] = {};
    const skipped: PiiEvidence['models'][number]['skipped'] = {};
    for (const split of SPLITS) {
      const done: PiiItem[] = [];
      let items: Omit<PiiItem, 'continuation'>[] = [];
      let prompts: number[][] = [];
      // One chunk generates while the next is tokenised; a third waits for the first to finish.
      let inFlight: Promise<void> | undefined;
      const flush = async () => {
        const [its, ps] = [items, prompts];
        items = [];
        prompts = [];
        if (inFlight) await inFlight;
        inFlight = ctx.signals.generate(model, ps, maxNewTokens).then((generated) => {
          its.forEach((it, i) => done.push({ ...it, continuation: tok.decode(generated[i]!) }));
        });
        inFlight.catch(() => {}); // awaited below; a failure while the next chunk is tokenised is not "unhandled"
      };
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
          if (prompts.length === PROMPT_CHUNK) await flush();
        }
      }
      if (prompts.length > 0) await flush();
      if (inFlight) await inFlight;
      if (done.length > 0) splits[split] = done;
    }
    models.push({ role: model.role, splits, skipped });
  }
  return { models };
}
