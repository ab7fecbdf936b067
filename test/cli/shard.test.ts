/**
 * Sharding: `run --shard i/N` in separate processes computes disjoint parts of the model work into
 * the cache; `run --merge` then writes outputs byte-identical to a run on one machine, and refuses
 * (exit 2, naming the shard) while a shard has not finished. Shards on separate machines use
 * separate cache folders that share the cache's secret; their entries are combined before the merge.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { smallAudit } from '../helpers/small-audit.ts';

// Runs into different folders are compared byte for byte: one pseudonym key for all of them.
process.env.PRIVACY_AUDIT_PSEUDONYM_KEY = '5d'.repeat(32);

let dir: string;
let config: string;
let single: string;
const run = (...args: string[]) => cli(['run', config, '--bootstrap', '200', ...args]);
beforeAll(async () => {
  ({ dir, config } = smallAudit({ prefix: 'pa-shard-', forget: 8, holdout: 10 }));
  const r = await run('--cache-dir', path.join(dir, 'single-cache'), '--out', path.join(dir, 'single'));
  expect([0, 1, 4], r.stderr).toContain(r.code);
  single = readFileSync(path.join(dir, 'single', 'result.json'), 'utf8');
});

describe('run --shard i/N and --merge', () => {
  it('two shards in two processes on one cache, then --merge: the same result.json as one process; each shard did part of the work', async () => {
    const cache = path.join(dir, 'shared-cache');
    const [a, b] = await Promise.all([run('--shard', '0/2', '--cache-dir', cache), run('--shard', '1/2', '--cache-dir', cache)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const counts = [a, b].map((r) => /(\d+) batch\(es\) of model work computed, \d+ already in the cache, (\d+) left to the other shards/.exec(r.stderr)!.slice(1).map(Number));
    for (const [computed, others] of counts) {
      expect(computed).toBeGreaterThan(0);
      expect(others).toBeGreaterThan(0);
    }
    // Disjoint halves of the same work.
    expect(counts[0]![0]).toBe(counts[1]![1]);
    expect(counts[1]![0]).toBe(counts[0]![1]);
    const merged = await run('--merge', '--cache-dir', cache, '--out', path.join(dir, 'merged'));
    expect([0, 1, 4], merged.stderr).toContain(merged.code);
    expect(readFileSync(path.join(dir, 'merged', 'result.json'), 'utf8')).toBe(single);
  });

  it('--merge before every shard has finished is exit 2 naming the missing shard; a shard never writes outputs', async () => {
    const cache = path.join(dir, 'half-cache');
    const a = await run('--shard', '1/3', '--cache-dir', cache, '--out', path.join(dir, 'shard-out'));
    expect(a.code, a.stderr).toBe(0);
    expect(() => readFileSync(path.join(dir, 'shard-out', 'result.json'))).toThrow();
    const m = await run('--merge', '--cache-dir', cache, '--out', path.join(dir, 'half'));
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--merge: shards 0\/3, 2\/3 of this audit have not finished/);
    expect((await run('--shard', '2/2')).stderr).toMatch(/--shard expects i\/N with 0 <= i < N/);
    expect((await run('--shard', '0/2', '--merge')).stderr).toMatch(/--shard and --merge cannot be combined/);
    expect((await run('--shard', '0/2', '--no-cache')).code).toBe(2);
  });

  it('shards on separate machines: separate cache folders sharing the secret, combined, then --merge gives the same result.json', async () => {
    const [c0, c1, all] = ['cache-0', 'cache-1', 'cache-all'].map((d) => path.join(dir, d)) as [string, string, string];
    // `cache init` makes the folder and its secret, which every machine of the audit starts from
    // (examples/: a repository secret written as secret.key, or an init container on a shared volume).
    const init = await cli(['cache', 'init', '--cache-dir', c0]);
    expect(init.code, init.stderr).toBe(0);
    expect(readFileSync(path.join(c0, 'secret.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const a = await run('--shard', '0/2', '--cache-dir', c0);
    expect(a.code, a.stderr).toBe(0);
    mkdirSync(c1, { recursive: true });
    copyFileSync(path.join(c0, 'secret.key'), path.join(c1, 'secret.key'));
    const b = await run('--shard', '1/2', '--cache-dir', c1);
    expect(b.code, b.stderr).toBe(0);
    cpSync(c0, all, { recursive: true });
    cpSync(c1, all, { recursive: true, force: false });
    const merged = await run('--merge', '--cache-dir', all, '--out', path.join(dir, 'merged-2'));
    expect([0, 1, 4], merged.stderr).toContain(merged.code);
    expect(readFileSync(path.join(dir, 'merged-2', 'result.json'), 'utf8')).toBe(single);
  });
});
