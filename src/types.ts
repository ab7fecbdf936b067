/** Vocabulary shared by every stage (see DESIGN.md): records, roles, observations. */

export interface PiiItem {
  type: string;
  value: string;
}

/** One training/holdout unit. `subject` is the person; deletion and verdicts are per subject. */
export interface DataRecord {
  id: string;
  subject?: string;
  text: string;
  pii?: PiiItem[];
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
