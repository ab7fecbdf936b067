/**
 * Before any model work: read a DP claim's files (training record, sealed canary manifest) into a
 * `ResolvedDpClaim`, and, when there are canaries, schedule their scoring as a canary-exposure attack
 * (each canary ranked against random secrets of its shape: its exposure is its one-run score).
 */
import type { LoadedConfig } from '../../config/load.ts';
import { getAttack } from '../../../attacks/index.ts';
import { InputError } from '../../errors.ts';
import { readManifest } from './canaries.ts';
import { historyFromParameters, readTrainingRecord, type ResolvedDpClaim } from './claim.ts';
import path from 'node:path';

export const DEFAULT_CANDIDATES = 100;

export async function prepareDpClaim(cfg: LoadedConfig): Promise<ResolvedDpClaim | undefined> {
  const dp = cfg.claims?.dp;
  if (!dp) return undefined;
  const rel = (f: string) => (cfg.configPath ? path.relative(path.dirname(cfg.configPath), f).split(path.sep).join('/') : f);
  let history: ResolvedDpClaim['history'];
  let parametersFrom = 'config (claims.dp)';
  let stepsRule: string | undefined;
  if (dp.record) {
    history = (await readTrainingRecord(dp.record)).history;
    parametersFrom = `training record ${rel(dp.record)}`;
  } else if (dp.history) history = dp.history;
  else ({ history, stepsRule } = historyFromParameters({ ...dp, noiseMultiplier: dp.noiseMultiplier! }));
  const claim: ResolvedDpClaim = {
    epsilon: dp.epsilon,
    delta: dp.delta,
    accountant: dp.accountant ?? 'prv',
    library: dp.library ?? 'opacus',
    unit: dp.unit ?? 'example',
    history,
    parametersFrom,
    ...(stepsRule ? { stepsRule } : {}),
  };
  if (dp.canaries) {
    const m = await readManifest(dp.canaries.manifest);
    const candidates = dp.canaries.candidates ?? DEFAULT_CANDIDATES;
    claim.canaries = { manifestDigest: m.digest, included: m.canaries.map((c) => c.included), candidates };
    const options = getAttack('canary-exposure')!.options.safeParse({
      candidates,
      // insertions 0 marks the canaries left out: the exposure table shows them as controls.
      canaries: m.canaries.map((c) => ({ format: c.format, secret: c.secret, insertions: c.included ? 1 : 0 })),
    });
    if (!options.success) throw new InputError(`the canaries cannot be scored: ${options.error.issues[0]?.message}`, { file: dp.canaries.manifest });
    cfg.attacks = { ...cfg.attacks, 'canary-exposure': options.data };
  }
  return claim;
}
