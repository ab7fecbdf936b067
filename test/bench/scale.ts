/**
 * `npm run bench` (fourth part): an audit at scale on the fixture model. Synthetic support-desk
 * records (fixtures/support-desk/make-data.ts with more people, 2–4 tickets each, ~3 on average;
 * 30% of the people held out, 2/7 of the member people deleted, so ~70% of the records are scored)
 * are audited by `privacy-audit run` in its own process, cold (a fresh cache), with 2 workers:
 *
 *   all     loss, zlib, min-k, min-k-plus-plus and pii-extraction, at every size
 *   loss    loss alone, and
 *   loss+3  loss, zlib, min-k, min-k-plus-plus, at the smallest size: what three attacks add to loss
 *
 *   shard   the smallest size's `all` audit again as `--shard 0/2` and `--shard 1/2` (two processes at
 *           once on one cache folder, 1 worker × 1 thread each: together the single run's 2 × 1; with
 *           `--workers 1` alone each would take both cores as threads, and two such processes on 2
 *           cores spend their CPU time spinning) then `--merge`: result.json and the sidecars must
 *           be byte-identical to the single run's, and the three processes' CPU time is compared
 *           with the single run's (BENCH_SCALE_SHARD=0 skips it)
 *
 * Printed per run: wall, CPU (user + system) and audit time (run.json's durationMs: without the process start), time per
 * record, peak RSS (GNU time's maximum resident set of the audit process), the cache's size and
 * entry count, and the sizes of result.json, report.html and the sidecars. Ratios are against runs
 * of the same bench: time per record at the largest size vs the smallest, loss+3 vs loss.
 *
 *   BENCH_SCALE_SIZES=10000,100000 (default) BENCH_SCALE_LARGE=all,loss+3 npx tsx test/bench/scale.ts
 *
 * Never run by the tests (timings are not assertions).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCorpus } from '../../fixtures/support-desk/make-data.ts';
import { distIsFresh } from '../../src/build-stamp.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const MODEL = path.join(ROOT, 'fixtures/support-desk/models/before');
const sizes = (process.env.BENCH_SCALE_SIZES ?? '10000,100000').split(',').map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const keep = process.env.BENCH_SCALE_KEEP === '1';
/** The variants run at the larger sizes (default: all; `all,loss+3` adds the scoring-only scaling). */
const large = (process.env.BENCH_SCALE_LARGE ?? 'all').split(',') as (keyof typeof VARIANTS)[];
/** The variants run at the smallest size (default: loss, loss+3, all). */
const small = (process.env.BENCH_SCALE_SMALL ?? 'loss,loss+3,all').split(',') as (keyof typeof VARIANTS)[];
const LM = { loss: {}, zlib: {}, 'min-k': { k: 0.2 }, 'min-k-plus-plus': { k: 0.2 } };
const VARIANTS = {
  all: { ...LM, 'pii-extraction': { maxNewTokens: 24 } },
  loss: { loss: {} },
  'loss+3': LM,
} as const;

/** A corpus of about `n` records: ~3 tickets per person. */
function writeData(dir: string, n: number): { records: number; scored: number } {
  const people = Math.round(n / 3);
  const holdoutSubjects = Math.round(people * 0.3);
  const memberSubjects = people - holdoutSubjects;
  const c = makeCorpus({ seed: 20261207, memberSubjects, forgetSubjects: Math.round((memberSubjects * 2) / 7), holdoutSubjects, tickets: { min: 2, max: 4 } });
  mkdirSync(dir, { recursive: true });
  for (const [name, rows] of Object.entries(c)) writeFileSync(path.join(dir, `${name}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // retain is a sample as large as forget (the default retainSample)
  return { records: c.members.length + c.holdout.length, scored: 2 * c.forget.length + c.holdout.length };
}

const du = (dir: string): { bytes: number; files: number } => {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    bytes += statSync(path.join(e.parentPath, e.name)).size;
    files++;
  }
  return { bytes, files };
};
const size = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return NaN;
  }
};
const mb = (b: number) => (Number.isNaN(b) ? '—' : `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 1)} MiB`);

interface Row {
  n: number;
  variant: keyof typeof VARIANTS;
  records: number;
  scored: number;
  exit: number;
  wall: number;
  /** User + system CPU seconds of the audit process (its workers are threads): less sensitive than wall time to a busy machine. */
  cpu: number;
  audit: number;
  rss: number;
  cache: { bytes: number; files: number };
  result: number;
  report: number;
  scores: number;
  subjects: number;
}

function runOne(work: string, n: number, data: { records: number; scored: number }, variant: keyof typeof VARIANTS): Row {
  const dir = path.join(work, `${n}-${variant}`);
  mkdirSync(dir, { recursive: true });
  const config = {
    version: 1,
    seed: 1,
    models: { before: `hf:${MODEL}` },
    data: { members: `../data-${n}/members.jsonl`, forget: `../data-${n}/forget.jsonl`, holdout: `../data-${n}/holdout.jsonl` },
    attacks: VARIANTS[variant],
    output: { dir: './out' },
  };
  writeFileSync(path.join(dir, 'privacy-audit.json'), JSON.stringify(config, null, 2));
  const timeFile = path.join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%M %e %U %S', '-o', timeFile, process.execPath, path.join(ROOT, 'bin/privacy-audit.js'), 'run', path.join(dir, 'privacy-audit.json'), '--workers', '2'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PRIVACY_AUDIT_PSEUDONYM_KEY: 'ab'.repeat(32) },
    maxBuffer: 1 << 28,
  });
  const [rssKiB, wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  const out = path.join(dir, 'out');
  let audit = NaN;
  try {
    audit = (JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { durationMs: number }).durationMs / 1000;
  } catch {
    process.stderr.write(r.stderr.split('\n').slice(-8).join('\n'));
  }
  const row: Row = {
    n,
    variant,
    ...data,
    exit: r.status ?? -1,
    wall: wall!,
    cpu: user! + sys!,
    audit,
    rss: rssKiB! * 1024,
    cache: du(path.join(out, '.cache')),
    result: size(path.join(out, 'result.json')),
    report: size(path.join(out, 'report.html')),
    scores: size(path.join(out, 'scores.jsonl.gz')),
    subjects: size(path.join(out, 'subjects.csv')),
  };
  if (!keep) rmSync(path.join(out, '.cache'), { recursive: true, force: true });
  return row;
}

const KEY = 'ab'.repeat(32);
const CLI = path.join(ROOT, 'bin/privacy-audit.js');
/** One CLI process under GNU time: exit, wall, CPU (user + system) and peak RSS. */
function timed(dir: string, args: string[], tag: string): Promise<{ exit: number; wall: number; cpu: number; rss: number; stderr: string }> {
  const timeFile = path.join(dir, `time-${tag}.txt`);
  const child = spawn('/usr/bin/time', ['-f', '%M %e %U %S', '-o', timeFile, process.execPath, CLI, ...args], {
    cwd: dir,
    env: { ...process.env, PRIVACY_AUDIT_PSEUDONYM_KEY: KEY },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const [rssKiB, wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      resolve({ exit: code ?? -1, wall: wall!, cpu: user! + sys!, rss: rssKiB! * 1024, stderr });
    }),
  );
}

/**
 * The `single` run's audit again in two shards and a merge, on one cache folder of its own. Returns
 * the CPU seconds of the three processes and whether every output that must match does.
 */
async function sharded(work: string, n: number, single: Row): Promise<{ cpu: number; wall: number; rss: number; same: string[]; differ: string[] }> {
  const dir = path.join(work, `${n}-${single.variant}`);
  const cache = path.join(dir, 'shard-cache');
  const config = path.join(dir, 'privacy-audit.json');
  // The same config (result.json holds it): the single run's outputs move aside first.
  renameSync(path.join(dir, 'out'), path.join(dir, 'out-single'));
  const shards = await Promise.all([0, 1].map((i) => timed(dir, ['run', config, '--shard', `${i}/2`, '--cache-dir', cache, '--workers', '1', '--threads', '1'], `shard${i}`)));
  const merge = await timed(dir, ['run', config, '--merge', '--cache-dir', cache, '--workers', '2'], 'merge');
  for (const [i, r] of [...shards, merge].entries()) if (r.exit !== 0 && r.exit !== 1 && r.exit !== 4) process.stderr.write(`shard step ${i} exited ${r.exit}:\n${r.stderr}\n`);
  const same: string[] = [];
  const differ: string[] = [];
  for (const f of ['result.json', 'scores.jsonl.gz', 'subjects.csv']) {
    let a: Buffer | undefined;
    let b: Buffer | undefined;
    try {
      a = readFileSync(path.join(dir, 'out-single', f));
      b = readFileSync(path.join(dir, 'out', f));
    } catch {
      /* a missing file differs */
    }
    (a && b && a.equals(b) ? same : differ).push(f);
  }
  return {
    cpu: shards[0]!.cpu + shards[1]!.cpu + merge.cpu,
    wall: Math.max(shards[0]!.wall, shards[1]!.wall) + merge.wall,
    rss: Math.max(...shards.map((r) => r.rss), merge.rss),
    same,
    differ,
  };
}

const work = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-scale-'));
const rows: Row[] = [];
let shardLine = '';
// Each row is printed when its run ends: a long bench stopped half-way still leaves its numbers.
console.log(
  `\nAudit at scale: fixture model ${path.relative(process.cwd(), MODEL)}, 2 workers, cold cache; exit 0/1/4 are verdicts; ` +
    (distIsFresh() ? 'the CLI runs from dist/ (fresh)' : 'the CLI runs from the sources through tsx (dist/ is stale: `npm run build` first for the figures users get)'),
);
console.log('| records (scored) | attacks | exit | wall s | CPU s | audit s | audit ms/record | peak RSS | cache | cache/scored record | result.json | report.html | scores.jsonl.gz | subjects.csv |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
try {
  for (const n of sizes) {
    const data = writeData(path.join(work, `data-${n}`), n);
    // At the smallest size loss and loss+3 run a second time, the other way round, so the ratio of
    // the two (a few percent) is a median over two pairs rather than one pair's luck with the load.
    const pair = n === sizes[0] && small.includes('loss') && small.includes('loss+3') && process.env.BENCH_SCALE_REPEAT !== '0';
    const variants: (keyof typeof VARIANTS)[] = n === sizes[0] ? [...small, ...(pair ? (['loss+3', 'loss'] as const) : [])] : large;
    for (const v of variants) {
      const r = runOne(work, n, data, v);
      rows.push(r);
      console.log(
        `| ${r.records} (${r.scored}) | ${r.variant} | ${r.exit} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.audit.toFixed(1)} | ${((r.audit * 1000) / r.records).toFixed(2)} | ${mb(r.rss)} | ${mb(r.cache.bytes)} in ${r.cache.files} files | ${(r.cache.bytes / r.scored / 1024).toFixed(2)} KiB | ${mb(r.result)} | ${mb(r.report)} | ${mb(r.scores)} | ${mb(r.subjects)} |`,
      );
    }
    const single = n === sizes[0] && process.env.BENCH_SCALE_SHARD !== '0' ? rows.find((r) => r.n === n && r.variant === 'all') : undefined;
    if (single) {
      const s = await sharded(work, n, single);
      shardLine =
        `sharded, ${single.records} records (all): --shard 0/2 + --shard 1/2 (at once, 1 worker × 1 thread each) + --merge: ${s.cpu.toFixed(1)} CPU s vs ${single.cpu.toFixed(1)} in one process = ` +
        `${(s.cpu / single.cpu).toFixed(2)}× (target ≤ 1.1×); wall ${s.wall.toFixed(1)} s vs ${single.wall.toFixed(1)} s; peak RSS ${mb(s.rss)}; ` +
        `byte-identical to the single run: ${s.same.join(', ') || 'none'}${s.differ.length ? `; DIFFER: ${s.differ.join(', ')}` : ''}`;
      console.log(shardLine);
    }
  }
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`scale: kept ${work}\n`);
}

const at = (n: number, v: string) => rows.find((r) => r.n === n && r.variant === v);
const loss = at(sizes[0]!, 'loss');
const loss3 = at(sizes[0]!, 'loss+3');
const per = (r: Row) => r.audit / r.records;
for (const v of ['all', 'loss+3'] as const) {
  const a = at(sizes[0]!, v);
  const b = at(sizes.at(-1)!, v);
  if (a && b && a !== b)
    console.log(`time per record, ${b.records} vs ${a.records} records (${v}): ${(per(b) / per(a)).toFixed(2)}× audit time, ${(b.cpu / b.records / (a.cpu / a.records)).toFixed(2)}× CPU time (target ≤ 1.2×)`);
}
if (loss && loss3) {
  const runs = (v: string) => rows.filter((r) => r.n === sizes[0] && r.variant === v);
  const [l, l3] = [runs('loss'), runs('loss+3')];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ratio = (k: 'audit' | 'cpu') => mean(l3.map((r) => r[k])) / mean(l.map((r) => r[k]));
  console.log(
    `loss + zlib + min-k + min-k++ vs loss alone, ${loss.records} records, ${l.length} run(s) each: ${ratio('audit').toFixed(2)}× audit time, ${ratio('cpu').toFixed(2)}× CPU time (target ≤ 1.10×; ` +
      `runs: loss ${l.map((r) => r.cpu.toFixed(1)).join(', ')} CPU s, loss+3 ${l3.map((r) => r.cpu.toFixed(1)).join(', ')})`,
  );
}
if (shardLine) console.log(shardLine);
console.log(`peak RSS: ${rows.map((r) => `${r.records} ${r.variant} ${mb(r.rss)}`).join(', ')} (target ≤ 1 GiB)`);
