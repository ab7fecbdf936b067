/**
 * `result.json`: the evidence. Every other output (HTML, JUnit, Markdown, console) is a pure function
 * of it. It holds no record text and no PII, and nothing that varies between identical runs (times,
 * machine, worker count live in `run.json`), so the same seed gives the same bytes.
 */
import type { AdapterDropped, AttackStatus, GateResult, Verdict } from '../audit/gates.ts';
import type { Comparison } from '../audit/compare.ts';
import type { ExposureSummary, ExtractionSummary, Finding } from '../audit/measure.ts';
import type { LoraProvenance } from '../claims/lora/provenance.ts';
import type { DpClaimSummary } from '../claims/dp/types.ts';
import type { SisaClaimSummary } from '../claims/sisa/types.ts';

/**
 * 2: three-valued gates with intervals and tests, people counts, AUC intervals that may be withheld (null).
 * 3: per-record scores and the full per-subject table in sidecars (`sidecars`); `subjects` lists only
 *    the people who leaked or were flagged, `subjectsNotListed` counts the rest.
 */
export const SCHEMA_VERSION = 3;

export interface InputFile {
  role: string;
  /** Relative to the config file's folder (portable across machines). */
  path: string;
  sha256: string;
}

/** The cache entries a result was computed from (src/evidence.ts). */
export interface CacheEvidence {
  /** Entries computed or read, one per cache key. */
  entries: number;
  /** SHA-256 of cache-manifest.txt: `<sha256 of the value>  <key>` per entry, sorted by key. */
  sha256: string;
}

/** A file written beside result.json with the run's other outputs (src/sidecars.ts), bound to it by its SHA-256. */
export interface Sidecar {
  /** Its name in the output folder: `scores.jsonl.gz` or `subjects.csv`. */
  file: string;
  sha256: string;
  bytes: number;
  /** Lines of data (records × attacks × models for the scores, people for the subjects). */
  rows: number;
}

export interface SubjectVerdict {
  /** Pseudonym: HMAC-SHA-256 of the subject id under the audit's secret key (src/pseudonym.ts), never the id itself (unless revealed). */
  subject: string;
  records: number;
  /** Per model role, the extraction attacks that emitted something of this subject. */
  leakedBy: Record<string, string[]>;
  /** Per model role, the membership attacks whose subject score is above holdout's 95th percentile. */
  flaggedBy: Record<string, string[]>;
  /** Per model role, the PII values emitted (masked, e.g. `j*****@****.test`, unless the run used --reveal). */
  emitted?: Record<string, { type: string; value: string }[]>;
}

export interface AuditResult {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: string; version: string };
  kind: 'run' | 'evaluate';
  /** True when --reveal put real subject ids and unmasked PII in this result: internal review only. */
  revealed?: boolean;
  verdict: Verdict;
  seed: number;
  gateModel: string;
  inputs: InputFile[];
  /**
   * What the result rests on besides its inputs: the cache entries used (a count and one SHA-256 over
   * cache-manifest.txt, the sorted list of keys and value digests). Absent for `evaluate`.
   */
  evidence?: { cache: CacheEvidence };
  data: Record<string, { records: number; subjects: number }>;
  /**
   * `scoring` (local causal LMs): where the logits were reduced to per-token values — `runtime` inside
   * onnxruntime (an augmented copy of the graph, src/models/scoring-graph.ts), `js` in JavaScript.
   * `lora`: a LoRA role's adapter and the check that its merged model is base + adapter (src/claims/lora).
   */
  models: { role: string; ref: string; served?: ServedModelInfo; scoring?: 'runtime' | 'js'; lora?: LoraProvenance; adapterDropped?: AdapterDropped }[];
  attacks: (AttackStatus & {
    title: string;
    options: unknown;
    reference: string;
    /** What a reader must know to read the attack's numbers (e.g. LiRA's shadows not calibrated to a model). */
    warnings?: string[];
    /**
     * Per model role, how many records (or prompts) were longer than the model's context and were
     * scored on a window (src/audit/budgets.ts says which). Absent when none were.
     */
    truncated?: Record<string, number>;
  })[];
  findings: Finding[];
  extraction: ExtractionSummary[];
  /** Before→after deltas and PrivLeak, with paired intervals. */
  comparisons: Comparison[];
  /** Canary exposure (Secret Sharer), per attacked model. */
  exposure: ExposureSummary[];
  /**
   * The deleted subjects who leaked (an extraction attack emitted something of theirs) or were
   * flagged (a membership attack's score above holdout's 95th percentile) on some model. Every
   * deleted subject's row, these included, is in the `subjects.csv` sidecar.
   */
  subjects: SubjectVerdict[];
  /** Deleted subjects neither leaked nor flagged on any model: counted here, listed in subjects.csv only. Absent for `evaluate`. */
  subjectsNotListed?: number;
  /** Files beside result.json that it rests on, with their SHA-256 (`privacy-audit verify` checks them). Absent when none. */
  sidecars?: Sidecar[];
  gates: GateResult[];
  /**
   * Claims about the model checked by the audit: a DP claim's arithmetic, one-run audit and verdict
   * (src/claims/dp); a SISA ensemble's training manifests checked structurally (src/claims/sisa).
   */
  claims?: { dp?: DpClaimSummary; sisa?: SisaClaimSummary };
  /**
   * Cache entries that failed verification in this run (edited, truncated, swapped, written for
   * another key, of the wrong shape) and were recomputed: no number above came from them. Present
   * only when > 0, so a clean run's bytes are the same cold or from the cache.
   */
  cacheRejected?: number;
  /** The config as given (for the report's reproducibility manifest). */
  config: unknown;
  /** Present when the audited object is a released synthetic dataset (target: { synthetic }). */
  synthetic?: SyntheticSummary;
}

/** What the capability probe of a served model found (src/models/served.ts): the same on every run against the same deployment. */
export interface ServedModelInfo {
  baseURL: string;
  model: string;
  /** How prompt log-probabilities are obtained; null: the endpoint returns none (membership attacks not applicable). */
  scoring: 'echo' | 'prompt-logprobs' | 'sglang' | 'tgi' | null;
  /** How greedy continuations are obtained; `chat` wraps the prefix in the chat template (weaker). */
  generation: 'completions' | 'tgi' | 'chat' | null;
  /** How the local tokenizer was checked against the server's tokenisation. */
  tokenizerCheck: 'tokenize-endpoint' | 'echoed-tokens' | 'prompt-token-count' | 'not-checked';
  /** Which config role's tokenizer was borrowed (short form), when the config named none. */
  tokenizerFrom?: string;
  /** What GET /models says of the model. */
  served: { id: string; root?: string; ownedBy?: string; maxModelLen?: number };
  systemFingerprint?: string;
  /** SHA-256 over the probe's answers: a redeployment under the same name changes it. */
  fingerprint: string;
  /** Tokens of context used (the smaller of the tokenizer's config and max_model_len). */
  context: number;
  /** One line per protocol tried by the probe. */
  probe: string[];
}

/** Two answers to the same scoring request differing by more than this (nats) are reported. */
export const SERVED_REPEAT_TOLERANCE = 1e-3;

/** What a served model was sent in one run (a run served from the cache sends nothing). */
export interface ServedRunStats {
  requests: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  promptTokens: number;
  completionTokens: number;
  /** Log-probabilities the server clamped to −9999 (−inf): kept at −9999. */
  clamped: number;
  /** Prompt tokens the server reported as served from its prefix cache. */
  cachedTokens: number;
  /** Scoring requests sent twice on purpose, and the largest |difference| between the two answers. */
  repeated: { requests: number; maxAbsDiff: number };
}

/** What varies from run to run; kept out of result.json on purpose. */
export interface RunInfo {
  /** The run id shared by every output of the run: the SHA-256 of its result.json (src/outputs.ts). */
  runId?: string;
  startedAt: string;
  durationMs: number;
  workers: number;
  /** onnxruntime intra-op threads per worker (absent: 1). */
  threads?: number;
  /** Peak resident memory of the whole process (main thread and workers), bytes. */
  peakRssBytes?: number;
  node: string;
  platform: string;
  cpu: string;
  /** Versions of the libraries that computed the numbers. */
  dependencies?: Record<string, string>;
  argv: string[];
  /** Cache entries read and verified, computed (missing or rejected), and rejected by verification. */
  cache: { hits: number; misses: number; rejected?: number };
  tokensScored: number;
  /** Per served model role: requests and tokens sent in this run, retries, repeat checks. */
  served?: Record<string, ServedRunStats>;
  /** Shadow models trained in this run (0 when all came from the cache). */
  shadowsTrained?: number;
  timings: Record<string, number>;
}

/**
 * A synthetic-data audit (target: { synthetic }): Anonymeter's three risks, diagnostics and the
 * per-subject view. Membership attacks on the output (DOMIAS, text overlap) are ordinary `findings`
 * of model `synthetic`, member vs nonmember (control).
 */
export interface SyntheticRate {
  k: number;
  n: number;
  rate: number;
  error: number;
}

export interface SyntheticRisk {
  attack: string;
  family: 'singling-out' | 'linkability' | 'inference';
  variant: string;
  attacks: { requested: number; made: number };
  attackRate: SyntheticRate;
  controlRate: SyntheticRate;
  baselineRate: SyntheticRate;
  /** clip(R, 0, 1) with clip(R ∓ dR); null when control succeeded every time. */
  residual: { value: number; lo: number; hi: number; raw: number; error: number; level: number } | null;
  columns: string[];
  scoredOn: { members: number; control: number };
  /** Members (people, or rows when there is no subject column) the attack got right. */
  hits: { people: number; records: number };
  warnings: string[];
}

export interface SyntheticDiagnostic {
  attack: string;
  variant: string;
  values: Record<string, number>;
  redFlag?: { k: number; n: number; p: number; what: string };
  warnings: string[];
}

export interface SyntheticSubject {
  /** Pseudonym (or the id with --reveal), as everywhere else. */
  subject: string;
  records: number;
  /** Attack (and variant) → records of this person it got right. */
  hitBy: Record<string, number>;
}

export interface SyntheticSummary {
  target: {
    kind: 'tabular' | 'text';
    columns: { name: string; kind: 'numeric' | 'categorical' | 'text'; declared: boolean }[];
    records: Record<string, number>;
    unit: 'subject' | 'record';
  };
  risks: SyntheticRisk[];
  diagnostics: SyntheticDiagnostic[];
  /** Members hit by at least one attack, sorted by pseudonym. */
  subjects: SyntheticSubject[];
  /** EDPB (WP216, Opinion 05/2014; Opinion 28/2024) criterion → the gates that answer it. */
  coverage: { criterion: string; question: string; attacks: string[]; gates: string[]; status: 'pass' | 'fail' | 'inconclusive' | 'not-tested' }[];
}
