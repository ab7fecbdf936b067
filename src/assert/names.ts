/**
 * Gate names (Lighthouse-CI style assertions). The grammar:
 *
 *   <model>.<split>.<attack>.<metric>    membership: split forget | retain | forget-subjects,
 *                                        metric auc | advantage | tpr@0.001 | tpr@0.01 | tpr@0.1
 *                                        extraction: split forget | retain | holdout,
 *                                        metric rate | near-rate | hits | subjects-leaked
 *   <model>.privleak.<attack>            MUSE PrivLeak of `after` against `retrained`
 *
 * <model> is a role (before, after, retrained) or `shipped` (after when there is one, else before);
 * <attack> is an attack id or `*` (every configured attack of the right family).
 */
import { z } from 'zod';

export const LEVELS = ['off', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

export const MEMBERSHIP_METRICS = ['auc', 'advantage', 'tpr@0.001', 'tpr@0.01', 'tpr@0.1'] as const;
export const EXTRACTION_METRICS = ['rate', 'near-rate', 'hits', 'subjects-leaked'] as const;
const MEMBERSHIP_SPLITS = ['forget', 'retain', 'forget-subjects'];
const EXTRACTION_SPLITS = ['forget', 'retain', 'holdout'];
const MODELS = ['before', 'after', 'retrained', 'shipped'];

export const assertionOptions = z.strictObject({
  max: z.number().optional(),
  min: z.number().optional(),
  range: z.tuple([z.number(), z.number()]).optional(),
  /** The 95% interval must contain this value (e.g. PrivLeak contains 0). */
  contains: z.number().optional(),
  /** Which number of the estimate is compared: default upper for max, lower for min, value for range. */
  bound: z.enum(['value', 'lower', 'upper']).optional(),
});
export type AssertionOptions = z.infer<typeof assertionOptions>;

export const assertionSpec = z.union([
  z.enum(LEVELS),
  z.tuple([z.enum(LEVELS)]),
  z.tuple([z.enum(LEVELS), assertionOptions]),
]);
export type AssertionSpec = z.infer<typeof assertionSpec>;

export const assertSchema = z.strictObject({
  /** A built-in set of assertions to start from (see PRESETS); `none` starts empty. */
  preset: z.enum(['privacy-audit:unlearning', 'privacy-audit:anonymisation', 'none']).default('privacy-audit:unlearning'),
  /** Added to the preset's, or replacing them for the same name; `off` removes one. */
  assertions: z.record(z.string(), assertionSpec).default({}),
});
export type AssertConfig = z.infer<typeof assertSchema>;

export type GateName =
  | { kind: 'membership' | 'extraction'; model: string; split: string; attack: string; metric: string }
  | { kind: 'privleak'; model: string; attack: string };

/** Parses a gate name, or returns what is wrong with it (for an exit-2 message). */
export function parseGateName(name: string): GateName | string {
  const parts = name.split('.');
  const model = parts[0] ?? '';
  if (!MODELS.includes(model)) return `"${name}": the first part must be a model role (${MODELS.join(', ')})`;
  if (parts[1] === 'privleak') {
    if (parts.length !== 3 || !parts[2]) return `"${name}": expected <model>.privleak.<attack>`;
    return { kind: 'privleak', model, attack: parts[2] };
  }
  // Metrics such as tpr@0.01 contain a dot: the metric is everything after the third part.
  if (parts.length < 4) return `"${name}": expected <model>.<split>.<attack>.<metric> or <model>.privleak.<attack>`;
  const [, split, attack] = parts as [string, string, string];
  const metric = parts.slice(3).join('.');
  if ((MEMBERSHIP_METRICS as readonly string[]).includes(metric)) {
    if (!MEMBERSHIP_SPLITS.includes(split)) return `"${name}": membership metrics take a split of ${MEMBERSHIP_SPLITS.join(', ')} (vs holdout)`;
    return { kind: 'membership', model, split, attack, metric };
  }
  if ((EXTRACTION_METRICS as readonly string[]).includes(metric)) {
    if (!EXTRACTION_SPLITS.includes(split)) return `"${name}": extraction metrics take a split of ${EXTRACTION_SPLITS.join(', ')}`;
    return { kind: 'extraction', model, split, attack, metric };
  }
  return `"${name}": unknown metric "${metric}"; expected one of ${[...MEMBERSHIP_METRICS, ...EXTRACTION_METRICS].join(', ')}`;
}
