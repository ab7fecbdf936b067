/**
 * Token budgets checked against each causal LM's context before any model work: an extraction attack
 * whose prompt plus continuation cannot fit the model would otherwise have its prompts cut to nothing
 * (and find nothing: a silent pass). Exit 2 with the numbers.
 *
 * What does not fit and is not a mistake — a record longer than the context — is handled by a
 * documented window (see signals.ts) and counted per attack and model in result.json:
 * - scored records (loss, zlib, min-k, min-k-plus-plus, reference, canary candidates): the first
 *   `context` tokens (the model's start token included);
 * - pii-extraction prompts: the start token, then the last `context − maxNewTokens − start` tokens
 *   of the text before the PII value (the words nearest the value); samia prefixes likewise.
 */
import type { PiiExtractionOptions } from '../../attacks/pii-extraction/index.ts';
import type { PrefixExtractionOptions } from '../../attacks/prefix-extraction/index.ts';
import type { SamiaOptions } from '../../attacks/samia/index.ts';
import type { CanaryExposureOptions } from '../../attacks/canary-exposure/index.ts';
import type { ConfigOrigin } from '../config/load.ts';
import { InputError, type Where } from '../errors.ts';
import type { CausalLMInfo } from '../models/validate.ts';
import type { Tokenizer } from '../models/hf.ts';

export interface BudgetModel {
  /** `models.before` etc. */
  label: string;
  info: CausalLMInfo;
  tokenizer: Pick<Tokenizer, 'encode' | 'leading'>;
}

/** Where an attack option is written in the config (its own line, else the attack's). */
function whereIn(origin: ConfigOrigin, attack: string, option?: string): Where {
  const field = option ? `attacks.${attack}.${option}` : `attacks.${attack}`;
  const where: Where = { field };
  if (origin.file !== undefined) where.file = origin.file;
  const line = origin.lines[field] ?? origin.lines[`attacks.${attack}`];
  if (line !== undefined) where.line = line;
  return where;
}

const ctxOf = (m: BudgetModel) => `${m.label} (${m.info.contextField} ${m.info.context} in ${m.info.configFile})`;
const start = (m: BudgetModel) => (m.tokenizer.leading > 0 ? ` + ${m.tokenizer.leading} start token${m.tokenizer.leading > 1 ? 's' : ''}` : '');

/**
 * Throws an InputError when an attack's token budget cannot fit one of `models` (the causal LMs it
 * runs on). `attacks` are the parsed options by attack id.
 */
export function checkBudgets(attacks: Record<string, unknown>, models: BudgetModel[], origin: ConfigOrigin): void {
  for (const [id, options] of Object.entries(attacks)) {
    for (const m of models) {
      const ctx = m.info.context;
      const lead = m.tokenizer.leading;
      if (id === 'prefix-extraction') {
        const { prefixTokens: P, suffixTokens: S } = options as PrefixExtractionOptions;
        if (lead + P + S > ctx) {
          throw new InputError(
            `prefixTokens ${P} + suffixTokens ${S}${start(m)} = ${lead + P + S} tokens do not fit the context of ${ctxOf(m)}; prefixTokens + suffixTokens must be at most ${ctx - lead}`,
            whereIn(origin, id, 'prefixTokens'),
          );
        }
      } else if (id === 'pii-extraction' || id === 'samia') {
        const { maxNewTokens } = options as PiiExtractionOptions | SamiaOptions;
        // At least half of the context stays for the text before the value: with less, prompts are cut
        // to a few tokens and the attack cannot find what the model memorised.
        const most = Math.floor((ctx - lead) / 2);
        if (maxNewTokens > most) {
          throw new InputError(
            `maxNewTokens ${maxNewTokens} leaves ${Math.max(0, ctx - lead - maxNewTokens)} of the ${ctx} tokens of ${ctxOf(m)} for the prompt${start(m) ? ` (after the start token)` : ''}; ${id} keeps at least half the context for the ${id === 'samia' ? 'prefix' : 'text before the value'}, so maxNewTokens must be at most ${most}`,
            whereIn(origin, id, 'maxNewTokens'),
          );
        }
      } else if (id === 'canary-exposure') {
        const { canaries } = options as CanaryExposureOptions;
        canaries.forEach((c, i) => {
          const n = m.tokenizer.encode(c.format.replace('{secret}', c.secret)).length;
          if (n > ctx) {
            throw new InputError(
              `the canary (format with its secret) is ${n} tokens${lead > 0 ? ' (start token included)' : ''}, longer than the context of ${ctxOf(m)}: the secret would not be scored`,
              whereIn(origin, id, `canaries[${i}]`),
            );
          }
        });
      }
    }
  }
}
