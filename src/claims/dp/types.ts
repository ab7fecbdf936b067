/** The `claims.dp` section of result.json (imports nothing: result/types.ts sees it). */

export interface DpHistoryEntry {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

export interface DpClaimSummary {
  claim: {
    epsilon: number;
    delta: number;
    accountant: 'rdp' | 'prv';
    library: 'opacus' | 'dp-accounting';
    unit: 'example' | 'user';
    history: DpHistoryEntry[];
    /** Where σ, q and T came from: the config, or the training run's record (a path relative to the config). */
    parametersFrom: string;
    /** How T was derived when epochs were given. */
    stepsRule?: string;
  };
  /** ε recomputed from the parameters at the claimed δ. */
  recomputed: {
    rdp: { epsilon: number; alpha: number; atEdge: boolean; library: 'opacus' | 'dp-accounting' };
    /** The pre-2020 conversion (Mironov 2017 Prop. 3) that old TF Privacy statements quote: for comparison only. */
    rdpBasic: { epsilon: number; alpha: number };
    /** PRV (Opacus): `epsilon` is the upper end (the guarantee), `lower` the lower end of its error band. */
    prv?: { epsilon: number; estimate: number; lower: number; epsError: number };
    prvError?: string;
  };
  /** The arithmetic check: does the claimed ε follow from the parameters? */
  parameters: 'follows' | 'does-not-follow' | 'undecided';
  /** The claim as written is taken to be rounded to its last decimal (at most 1% of it): this much is allowed. */
  rounding: number;
  /** One-run audit with canaries (Steinke, Nasr, Jagielski 2023), on `model`. */
  oneRun?: {
    model: string;
    manifestDigest: string;
    canaries: number;
    scoring: string;
    lowerBound: number;
    ceiling: number;
    pValueAtClaim: number;
    significance: number;
    m: number;
    guesses: number;
    correct: number;
    included: number;
    thresholdCanaries: number;
    threshold: number | null;
  };
  /** Why there is no one-run audit, when there is none. */
  oneRunMissing?: string;
  /**
   * Jagielski-style ε lower bounds from the membership attacks (people as the unit, claimed δ):
   * members were not randomly included, so this is empirical leakage, not a DP audit.
   */
  empirical: { attack: string; model: string; positive: string; negative: string; lowerBound: number; cap: number; delta: number; unit: 'subject' | 'record' }[];
  verdict: 'refuted' | 'consistent-not-proven' | 'not-audited';
}
