/**
 * Gate names (Lighthouse-CI style assertions). The grammar:
 *
 *   <model>.<split>.<attack>.<metric>    membership: split forget | retain | forget-subjects,
 *                                        metric auc | advantage | tpr@0.001 | tpr@0.01 | tpr@0.1
 *                                        extraction: split forget | retain | holdout,
 *                                        metric rate | near-rate | hits | subjects-leaked
 *   <model>.equivalence.<attack>         paired ΔAUC of `after` against `retrained` (90% interval within ±margin)
 *   <model>.privleak.<attack>            MUSE PrivLeak of `after` against `retrained` (same rule)
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

const REMOVED: Record<string, string> = {
  contains:
    'was removed: "the interval contains x" rewards wide intervals (a useless test passes it). For after vs retrained use `<model>.equivalence.<attack>: [error, { margin: 0.05 }]`',
  bound: 'was removed: every gate is now decided by its whole interval (pass when it lies wholly on the safe side, fail when wholly on the unsafe side, else inconclusive)',
};

export const assertionOptions = z
  .strictObject({
    max: z.number().finite().optional(),
    min: z.number().finite().optional(),
    range: z.tuple([z.number().finite(), z.number().finite()]).optional(),
    /** Equivalence and PrivLeak: pass when the 90% interval lies within ±margin. */
    margin: z.number().finite().positive().optional(),
    /**
     * Extraction counts (hits, subjects-leaked): a pass also needs the 95% upper bound of the share of
     * people leaked to be ≤ resolution, i.e. enough people were tried for "none leaked" to mean
     * something (default 0.1).
     */
    resolution: z.number().finite().gt(0).lt(1).optional(),
    contains: z.unknown().optional(),
    bound: z.unknown().optional(),
  })
  .superRefine((o, ctx) => {
    for (const [key, why] of Object.entries(REMOVED)) if (key in o) ctx.addIssue({ code: 'custom', path: [key], message: `\`${key}\` ${why}` });
    if (o.range && o.range[0] > o.range[1]) ctx.addIssue({ code: 'custom', path: ['range'], message: 'range must be [low, high] with low <= high' });
  });
export type AssertionOptions = Omit<z.infer<typeof assertionOptions>, 'contains' | 'bound'>;

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
  | { kind: 'privleak' | 'equivalence'; model: string; attack: string };

/** Parses a gate name, or returns what is wrong with it (for an exit-2 message). */
export function parseGateName(name: string): GateName | string {
  const parts = name.split('.');
  const model = parts[0] ?? '';
  if (!MODELS.includes(model)) return `"${name}": the first part must be a model role (${MODELS.join(', ')})`;
  if (parts[1] === 'privleak' || parts[1] === 'equivalence') {
    const kind = parts[1];
    if (parts.length !== 3 || !parts[2]) return `"${name}": expected <model>.${kind}.<attack>`;
    if (model !== 'after' && model !== 'shipped') return `"${name}": ${kind} compares the after model with the retrained one; write after.${kind}.<attack>`;
    return { kind, model, attack: parts[2] };
  }
  // Metrics such as tpr@0.01 contain a dot: the metric is everything after the third part.
  if (parts.length < 4) return `"${name}": expected <model>.<split>.<attack>.<metric>, <model>.equivalence.<attack> or <model>.privleak.<attack>`;
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
