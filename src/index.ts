/**
 * privacy-audit as a library: `import { audit, evaluate, loadConfig, renderReport } from 'privacy-audit'`.
 * Test matchers are in `privacy-audit/vitest` (src/matchers.ts). The result's JSON Schema is
 * `privacy-audit/schema/result.schema.json` (generated from `AuditResult` by `npm run schema`).
 */
export {
  audit,
  auditWithOutcome,
  evaluate,
  exitCodeFor,
  loadConfig,
  renderReport,
  workersFor,
  type AuditEvent,
  type AuditOptions,
  type AuditOutcome,
  type EvaluateInput,
  type EvaluateOptions,
  type RenderReportOptions,
} from './api.ts';
export { AuditAbortedError, exitCodeOf, InputError, isAuditAborted, isInputError, ServedUnavailableError, type Where } from './errors.ts';
export { OutputError } from './outputs.ts';
export { WorkerDiedError } from './pool/index.ts';
export type { LoadedConfig } from './config/load.ts';
export { SCHEMA_VERSION, type AuditResult, type CacheEvidence, type InputFile, type RunInfo, type ServedModelInfo, type ServedRunStats, type SubjectVerdict } from './result/types.ts';
export type { AttackStatus, GateResult, GateStatus, Verdict } from './audit/gates.ts';
export type { Comparison } from './audit/compare.ts';
export type { ExposureSummary, ExtractionSummary, Finding } from './audit/measure.ts';
export type { ObservationOptions } from './evaluate/index.ts';
// For training pipelines that write SISA manifests (README "Verifying a SISA deletion").
export { artefactDigest, canonicalJson, configDigest, merkleRoot, recordDigest } from './claims/sisa/digest.ts';
export { readSisaManifest, validateSisaManifest, SISA_MANIFEST_FORMAT, type SisaCheckpoint, type SisaDeletion, type SisaManifest, type SisaShard, type SisaSlice } from './claims/sisa/manifest.ts';
export type { SisaCheck, SisaClaimSummary, SisaManifestSummary } from './claims/sisa/types.ts';
