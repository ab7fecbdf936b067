import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE } from './paths.ts';

const head = (file: string, n: number) => readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n').slice(0, n).join('\n');

/**
 * A small real audit of the support-desk models (a few forget and holdout records, scoring and
 * generation attacks) in a fresh temporary folder; returns the folder and the config's path.
 */
export function smallAudit(opts: { prefix: string; forget?: number; holdout?: number; after?: boolean; attacks?: string }): { dir: string; config: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), opts.prefix));
  writeFileSync(path.join(dir, 'forget.jsonl'), head('forget.jsonl', opts.forget ?? 10));
  writeFileSync(path.join(dir, 'holdout.jsonl'), head('holdout.jsonl', opts.holdout ?? 12));
  const config = path.join(dir, 'audit.yml');
  writeFileSync(
    config,
    `version: 1
seed: 7
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
${opts.after === false ? '' : `  after: hf:${path.join(FIXTURE, 'models/after-retrained')}\n`}data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
attacks:
${opts.attacks ?? `  loss: {}
  min-k-plus-plus: {}
  prefix-extraction: { prefixTokens: 16, suffixTokens: 16 }`}
output: { dir: ./out }
`,
  );
  return { dir, config };
}
