/**
 * Gate names of a synthetic-data audit:
 *
 *   synthetic.<attack>.risk      residual risk (Anonymeter) of singling-out, linkability, attribute-inference
 *   synthetic.<attack>.auc       membership AUC on members vs control (domias, text-overlap)
 *   synthetic.dcr.copies         more exact copies of members than of control records (a red flag)
 *
 * <attack> may be `*` (every configured attack with that metric).
 */
import { z } from 'zod';
import { assertionSpec } from './names.ts';

export const SYNTHETIC_METRICS = { risk: ['singling-out', 'linkability', 'attribute-inference'], auc: ['domias', 'text-overlap'], copies: ['dcr'] } as const;
export type SyntheticMetric = keyof typeof SYNTHETIC_METRICS;

export const syntheticAssertSchema = z.strictObject({
  preset: z.enum(['privacy-audit:synthetic', 'none']).default('privacy-audit:synthetic'),
  assertions: z.record(z.string(), assertionSpec).default({}),
});
export type SyntheticAssertConfig = z.infer<typeof syntheticAssertSchema>;

/** Parses `synthetic.<attack>.<metric>`, or says what is wrong with it. */
export function parseSyntheticGate(name: string): { attack: string; metric: SyntheticMetric } | string {
  const parts = name.split('.');
  if (parts.length !== 3 || parts[0] !== 'synthetic') return `"${name}": expected synthetic.<attack>.<metric> (metric risk, auc or copies)`;
  const [, attack, metric] = parts as [string, string, string];
  if (!(metric in SYNTHETIC_METRICS)) return `"${name}": unknown metric "${metric}"; expected one of ${Object.keys(SYNTHETIC_METRICS).join(', ')}`;
  const allowed = SYNTHETIC_METRICS[metric as SyntheticMetric] as readonly string[];
  if (attack !== '*' && !allowed.includes(attack)) return `"${name}": ${metric} is a metric of ${allowed.join(', ')}, not of "${attack}"`;
  return { attack, metric: metric as SyntheticMetric };
}
