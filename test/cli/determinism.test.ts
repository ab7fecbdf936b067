/**
 * Same seed → the same result.json bytes, with 1 or 2 workers, cold or from the cache; a run that
 * lost part of its cache (a crash) recomputes only what is missing.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { FIXTURE } from '../helpers/paths.ts';

// Each output folder gets its own random pseudonym key; one key for this file keeps results from
// different folders comparable byte for byte (src/pseudonym.ts).
process.env.PRIVACY_AUDIT_PSEUDONYM_KEY = 'a5'.repeat(32);

const head = (file: string, n: number) => readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n').slice(0, n).join('\n');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-det-'));
  writeFileSync(path.join(dir, 'forget.jsonl'), head('forget.jsonl', 12));
  writeFileSync(path.join(dir, 'holdout.jsonl'), head('holdout.jsonl', 16));
  writeFileSync(
    path.join(dir, 'audit.yml'),
    `version: 1
seed: 7
models:
  before: hf:${path.join(FIXTURE, 'models/before')}
  after: hf:${path.join(FIXTURE, 'models/after-retrained')}
  # a stand-in base model: any model not fine-tuned on the forget set exercises the plumbing
  reference: hf:${path.join(FIXTURE, 'models/after-unlearned')}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
attacks:
  loss: {}
  zlib: {}
  min-k: { k: 0.3 }
  min-k-plus-plus: {}
  reference: {}
  prefix-extraction: { prefixTokens: 16, suffixTokens: 16 }
  pii-extraction: { maxNewTokens: 20 }
output: { dir: ./out }
`,
  );
});

const run = async (out: string, ...flags: string[]) => {
  const r = await cli(['run', path.join(dir, 'audit.yml'), '--out', path.join(dir, out), '--bootstrap', '200', ...flags]);
  expect(r.stderr).not.toContain('error');
  expect([0, 1, 4]).toContain(r.code);
  return {
    result: readFileSync(path.join(dir, out, 'result.json'), 'utf8'),
    run: JSON.parse(readFileSync(path.join(dir, out, 'run.json'), 'utf8')) as { workers: number; cache: { hits: number; misses: number } },
  };
};

describe('determinism and resumption', () => {
  it('1 worker and 2 workers give byte-identical result.json', async () => {
    const one = await run('w1', '--workers', '1', '--no-cache');
    const two = await run('w2', '--workers', '2', '--no-cache');
    expect(one.run.workers).toBe(1);
    expect(two.run.workers).toBe(2);
    expect(two.result).toBe(one.result);
    const parsed = JSON.parse(one.result);
    // 5 attacks × 2 models × (forget, retain, forget subjects) vs holdout; the reference model is not attacked
    expect(parsed.findings.length).toBe(5 * 2 * 3);
    expect(parsed.attacks.every((a: { status: string }) => a.status === 'ok')).toBe(true);
    expect(parsed.models.map((m: { role: string }) => m.role)).toEqual(['before', 'after', 'reference']);
    expect(parsed.comparisons.length).toBeGreaterThan(0);
    expect(parsed.extraction.length).toBeGreaterThan(0);
  });

  it('a second run is served from the cache, and a run that lost cache entries recomputes only those', async () => {
    const cold = await run('c', '--workers', '2');
    expect(cold.run.cache.hits).toBe(0);
    const warm = await run('c', '--workers', '2');
    expect(warm.run.cache.misses).toBe(0);
    expect(warm.result).toBe(cold.result);

    // Simulate a crash that lost two finished batches.
    const cacheDir = path.join(dir, 'c', '.cache');
    // Entries only (the folder also holds its secret.key and CACHEDIR.TAG).
    const files = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && f.name.endsWith('.json'));
    for (const f of files.slice(0, 2)) rmSync(path.join(f.parentPath, f.name));
    const resumed = await run('c', '--workers', '1');
    expect(resumed.run.cache.misses).toBe(2);
    expect(resumed.result).toBe(cold.result);
  });
});
