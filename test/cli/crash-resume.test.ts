/**
 * Faults during a run. A pool worker that dies — `process.exit` in the worker, its JS heap out of
 * memory, a native crash (SIGSEGV), a native abort, the out-of-memory killer (SIGKILL) — ends the
 * run with exit 3 and one line naming the task and the model; every finished task stays cached and
 * the rerun resumes. `kill -9` at 20 seeded random points of a run (start-up, computing, writing
 * outputs): each rerun uses exactly what was cached and writes the uninterrupted run's result.json,
 * byte for byte. Worker deaths are made with the documented
 * test hook PRIVACY_AUDIT_TEST_WORKER_CRASH=<how>:<n> (each worker dies as it starts task n+1).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { RunInfo } from '../../src/result/types.ts';
import { BIN, REPO } from '../helpers/paths.ts';
import { smallAudit } from '../helpers/small-audit.ts';

// Runs into different folders are compared byte for byte: one pseudonym key for all of them.
process.env.PRIVACY_AUDIT_PSEUDONYM_KEY = 'c3'.repeat(32);

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** The CLI as a user runs it; `onStart` gets the child (to kill it). */
function privacyAudit(args: string[], env: Record<string, string> = {}, onStart?: (pid: number) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that "kill -9" can take the supervisor and the audit together.
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    onStart?.(child.pid!);
  });
}

const entries = (cache: string) => (existsSync(cache) ? readdirSync(cache, { recursive: true }).map(String).filter((f) => /[0-9a-f]{64}\.json$/.test(f)).length : 0);

/** Seeded uniform [0, 1) (mulberry32): the same kill points on every run of the test. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const { dir, config } = smallAudit({ prefix: 'pa-crash-', forget: 8, holdout: 8 });
const args = (name: string) => ['run', config, '--cache-dir', path.join(dir, `${name}-cache`), '--out', path.join(dir, name), '--bootstrap', '200', '--workers', '1'];
const result = (name: string) => readFileSync(path.join(dir, name, 'result.json'), 'utf8');
const runInfo = (name: string) => JSON.parse(readFileSync(path.join(dir, name, 'run.json'), 'utf8')) as RunInfo;

let clean: Exit;
let cleanResult: string;
const cleanRun = async () => {
  if (clean) return;
  clean = await privacyAudit(args('clean'));
  expect(clean.stderr).not.toMatch(/error|runtime failure/);
  expect([0, 1, 4]).toContain(clean.code);
  cleanResult = result('clean');
};

describe('a worker that dies', () => {
  it('exits 3 with one line naming the task and the model; finished tasks stay cached and the rerun resumes', async () => {
    await cleanRun();
    const total = entries(path.join(dir, 'clean-cache'));
    expect(total).toBeGreaterThan(8);
    const deaths: [string, Record<string, string>, RegExp][] = [
      ['exit:2', {}, /^privacy-audit: runtime failure: a pool worker died \(exit code 70\) while /m],
      // A small heap for the whole process, so the worker's fills quickly.
      ['oom:2', { NODE_OPTIONS: '--max-old-space-size=256' }, /^privacy-audit: runtime failure: a pool worker died \(out of memory\) while /m],
      ['segv:2', {}, /^privacy-audit: runtime failure: the audit process died \(SIGSEGV: a native crash\) while a pool worker was /m],
      ['abort:2', {}, /^privacy-audit: runtime failure: the audit process died \(SIGABRT: a native abort\) while a pool worker was /m],
      ['kill:2', {}, /^privacy-audit: runtime failure: the audit process died \(SIGKILL: killed, e\.g\. by the out-of-memory killer\) while a pool worker was /m],
    ];
    let done = 0;
    for (const [how, env, message] of deaths) {
      const r = await privacyAudit(args('died'), { PRIVACY_AUDIT_TEST_WORKER_CRASH: how, ...env });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(message);
      // One line, naming what the worker was doing, on which model, for which attack.
      const line = r.stderr.split('\n').find((l) => message.test(l))!;
      expect(line).toMatch(/ while (a pool worker was )?(scoring|generating) batch \d+\/\d+ on model "(before|after)" for attack "(loss|min-k-plus-plus|prefix-extraction)"; finished batches are cached: run again to resume$/);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
      // The two tasks the worker finished before dying are cached; no output claims a verdict.
      done += 2;
      expect(entries(path.join(dir, 'died-cache'))).toBe(done);
      expect(existsSync(path.join(dir, 'died', 'result.json'))).toBe(false);
    }
    const rerun = await privacyAudit(args('died'));
    expect(rerun.code).toBe(clean.code);
    expect(result('died')).toBe(cleanResult);
    expect(runInfo('died').cache).toEqual({ hits: done, misses: total - done, rejected: 0 });
  }, 600_000);
});

/**
 * Calls `on(count, ms)` whenever the number of entries in `cache` changes (polled every 20 ms),
 * `ms` from the call; returns a stop function.
 */
function watchEntries(cache: string, on: (count: number, ms: number) => void): () => void {
  const t0 = performance.now();
  let last = -1;
  const poll = () => {
    const n = entries(cache);
    if (n !== last) on((last = n), performance.now() - t0);
  };
  poll();
  const timer = setInterval(poll, 20);
  return () => clearInterval(timer);
}

/** When to kill: `offset` ms after spawn (startup), after the first entry (collect), or after the last (output). */
interface KillPoint {
  phase: 'startup' | 'collect' | 'output';
  offset: number;
}

describe('kill -9', () => {
  it("at 20 random points of a run, then a rerun: each rerun resumes and writes the uninterrupted run's result.json", async () => {
    // The run's timeline, measured once: a cold run (into its own cache) with its cache watched.
    const total = await (async () => {
      await cleanRun();
      return entries(path.join(dir, 'clean-cache'));
    })();
    const timeline = { first: Infinity, last: Infinity, end: 0 };
    const t0 = performance.now();
    const stop = watchEntries(path.join(dir, 'timed-cache'), (n, ms) => {
      if (n > 0) timeline.first = Math.min(timeline.first, ms);
      if (n === total) timeline.last = Math.min(timeline.last, ms);
    });
    const timed = await privacyAudit(args('timed'));
    timeline.end = performance.now() - t0;
    stop();
    expect(timed.code).toBe(clean.code);
    expect(result('timed')).toBe(cleanResult);
    expect(timeline.last).toBeLessThan(Infinity);

    // Seeded points spread over the run: 4 in start-up (loading code, data and models), 12 while
    // batches are computed and cached (where a kill can interrupt a cache write), 4 while measuring
    // and writing outputs. Start-up dominates a small run's wall time but writes nothing, so points
    // are spread per phase; collect and output points count from this run's own first and last
    // entry, so a slower or faster start under load does not move them out of their phase.
    const rand = random(20261202);
    const spread = (phase: KillPoint['phase'], n: number, span: number): KillPoint[] =>
      Array.from({ length: n }, (_, i) => ({ phase, offset: Math.round((Math.max(span, 1) * (i + rand())) / n) }));
    const points = [
      ...spread('startup', 4, timeline.first),
      ...spread('collect', 12, timeline.last - timeline.first),
      ...spread('output', 4, timeline.end - timeline.last),
    ];

    const outcomes: { phase: string; killed: boolean; cached: number; hits: number }[] = [];
    const trial = async (i: number) => {
      const name = `k${i}`;
      const cache = path.join(dir, `${name}-cache`);
      const point = points[i]!;
      let supervisor = 0;
      let audit = 0;
      let timer: NodeJS.Timeout | undefined;
      const kill = () => {
        // Even trials kill the whole process group (as a CI runner cancelling the job does); odd
        // ones only the process the user started (the audit then stops on its own, checked below).
        if (i % 2 === 1) {
          try {
            audit = Number(readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim().split(/\s+/)[0]) || 0;
          } catch {
            audit = 0;
          }
        }
        try {
          process.kill(i % 2 === 1 && audit ? supervisor : -supervisor, 'SIGKILL');
        } catch {
          // it had finished
        }
      };
      const armed = (delay: number) => (timer ??= setTimeout(kill, delay));
      if (point.phase === 'startup') armed(point.offset);
      const stop = watchEntries(cache, (n) => {
        if (point.phase === 'collect' && n > 0) armed(point.offset);
        if (point.phase === 'output' && n === total) armed(point.offset);
      });
      const killed = await privacyAudit(args(name), {}, (pid) => (supervisor = pid));
      stop();
      clearTimeout(timer);
      if (audit) {
        // The orphaned audit process noticed that its supervisor was gone and stopped.
        for (let waited = 0; alive(audit) && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
        expect(alive(audit)).toBe(false);
      }
      const cached = entries(cache);
      const rerun = await privacyAudit(args(name));
      expect(rerun.code, rerun.stderr).toBe(clean.code);
      expect(result(name)).toBe(cleanResult);
      const info = runInfo(name);
      // It resumed: everything the killed run had cached was used, nothing else; and an
      // interrupted write never leaves an entry that fails verification (temp file + rename).
      expect(info.cache).toEqual({ hits: cached, misses: total - cached, rejected: 0 });
      outcomes.push({ phase: point.phase, killed: killed.signal === 'SIGKILL', cached, hits: info.cache.hits });
    };
    // Two trials at a time (one worker each) on a 2-core machine.
    for (let i = 0; i < 20; i += 2) await Promise.all([trial(i), trial(i + 1)]);

    expect(outcomes).toHaveLength(20);
    const by = (phase: string) => outcomes.filter((o) => o.phase === phase && o.killed).length;
    console.log(
      `kill -9: ${outcomes.filter((o) => o.killed).length}/20 runs killed (start-up ${by('startup')}, collect ${by('collect')}, output ${by('output')}); ` +
        `${outcomes.filter((o) => o.cached > 0 && o.cached < total).length} reruns resumed from a partial cache of ${total} entries (cached: ${outcomes.map((o) => o.cached).join(' ')})`,
    );
    expect(outcomes.filter((o) => o.killed).length).toBeGreaterThan(10);
    // Many reruns resumed from a partial cache.
    expect(outcomes.filter((o) => o.cached > 0 && o.cached < total).length).toBeGreaterThanOrEqual(3);
  }, 1_800_000);
});
