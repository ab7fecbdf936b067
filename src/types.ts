/** Vocabulary shared by every stage (see DESIGN.md): records, roles, observations. */

export interface PiiItem {
  type: string;
  value: string;
}

/** One training/holdout unit. `subject` is the person; deletion and verdicts are per subject. */
export interface DataRecord {
  id: string;
  subject?: string;
  /** The record's text (causal LMs, text classifiers); '' for a purely tabular record. */
  text: string;
  pii?: PiiItem[];
  /** Numeric feature vector, for tabular classifiers. */
  features?: number[];
  /** Class index in [0, classes), for classifiers. */
  label?: number;
}

export type ModelRole = 'before' | 'after' | 'retrained' | 'reference';
export const MODEL_ROLES: readonly ModelRole[] = ['before', 'after', 'retrained', 'reference'];

export type DataRole = 'members' | 'forget' | 'retain' | 'holdout' | 'population';

/** An interval estimate; every reported number carries one. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

/**
 * An estimate whose interval is withheld (lo = hi = null) where no method can keep its promise at
 * this n (e.g. fewer than 3 people on a side): the report then says why instead of printing one.
 */
export interface MaybeEstimate {
  value: number;
  lo: number | null;
  hi: number | null;
}
