/**
 * A SISA audit's glue: the ensemble a worker loads for a role, and the check inputs built from the
 * loaded config (the constituent files were hashed with every other input at load).
 */
import path from 'node:path';
import type { LoadedConfig, SisaSpec } from '../../config/load.ts';
import type { EnsembleSpec } from '../../models/classifier.ts';
import type { DataRecord } from '../../types.ts';
import { checkSisa } from './checks.ts';
import { artefactDigest } from './digest.ts';
import type { SisaRoleInput } from './checks.ts';
import type { SisaClaimSummary } from './types.ts';

/** The role's ensemble as the classifier adapter loads it, aggregated as its manifest says. */
export function ensembleSpec(s: SisaSpec, cuda: boolean): EnsembleSpec {
  return {
    kind: 'sisa',
    aggregation: s.manifest.aggregation,
    members: s.members.map((m) => ({ kind: m.kind, path: m.path, outputs: 'auto' as const, ...(cuda && m.kind === 'onnx' ? { device: 'cuda' as const } : {}) })),
  };
}

/** The SISA roles' manifests and the digests of the constituents actually loaded. */
function roleInput(cfg: LoadedConfig, role: 'before' | 'after', display: (p: string) => string): SisaRoleInput | undefined {
  const s = cfg.models[role]?.sisa;
  if (!s) return undefined;
  const sha = new Map(cfg.inputs.filter((i) => i.role === `model:${role}`).map((i) => [i.path, i.sha256]));
  const file = cfg.models[role]!.path;
  return {
    manifest: s.manifest,
    file: display(file),
    sha256: sha.get(file) ?? '',
    audited: s.members.map((m) => ({
      shard: m.shard,
      model: m.raw,
      digest: artefactDigest(m.files.map((f) => ({ rel: path.relative(path.dirname(m.path), f).split(path.sep).join('/'), sha256: sha.get(f) ?? '' }))),
    })),
  };
}

/** The claims.sisa section, or undefined when no model role is a SISA ensemble. */
export function sisaClaim(
  cfg: LoadedConfig,
  data: { forget: readonly DataRecord[]; members: readonly DataRecord[] },
  names: { alias: (s: string) => string; record: (id: string) => string; path: (p: string) => string },
): SisaClaimSummary | undefined {
  const before = roleInput(cfg, 'before', names.path);
  const after = roleInput(cfg, 'after', names.path);
  if (!before && !after) return undefined;
  return checkSisa({ ...(before ? { before } : {}), ...(after ? { after } : {}), forget: data.forget, members: data.members, alias: names.alias, record: names.record });
}
