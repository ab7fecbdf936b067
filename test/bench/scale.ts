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
 * Printed per run: wall, CPU (user + system) and audit time (run.json's durationMs: without the process start), time per
 * record, peak RSS (GNU time's maximum resident set of the audit process), the cache's size and
 * entry count, and the sizes of result.json, report.html and the sidecars. Ratios are against runs
 * of the same bench: time per record at the largest size vs the smallest, loss+3 vs loss.
 *
 *   BENCH_SCALE_SIZES=10000,100000 (default) BENCH_SCALE_LARGE=all,loss+3 npx tsx test/bench/scale.ts
 *
 * Never run by the tests (timings are not assertions).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCorpus } from '../../fixtures/support-desk/make-data.ts';

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

const work = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-scale-'));
const rows: Row[] = [];
// Each row is printed when its run ends: a long bench stopped half-way still leaves its numbers.
console.log(`\nAudit at scale: fixture model ${path.relative(process.cwd(), MODEL)}, 2 workers, cold cache; exit 0/1/4 are verdicts`);
console.log('| records (scored) | attacks | exit | wall s | CPU s | audit s | audit ms/record | peak RSS | cache | cache/scored record | result.json | report.html | scores.jsonl.gz | subjects.csv |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
try {
  for (const n of sizes) {
    const data = writeData(path.join(work, `data-${n}`), n);
    const variants: (keyof typeof VARIANTS)[] = n === sizes[0] ? small : large;
    for (const v of variants) {
      const r = runOne(work, n, data, v);
      rows.push(r);
      console.log(
        `| ${r.records} (${r.scored}) | ${r.variant} | ${r.exit} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.audit.toFixed(1)} | ${((r.audit * 1000) / r.records).toFixed(2)} | ${mb(r.rss)} | ${mb(r.cache.bytes)} in ${r.cache.files} files | ${(r.cache.bytes / r.scored / 1024).toFixed(2)} KiB | ${mb(r.result)} | ${mb(r.report)} | ${mb(r.scores)} | ${mb(r.subjects)} |`,
      );
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
if (loss && loss3) console.log(`loss + zlib + min-k + min-k++ vs loss alone, ${loss.records} records: ${(loss3.audit / loss.audit).toFixed(2)}× audit time, ${(loss3.cpu / loss.cpu).toFixed(2)}× CPU time (target ≤ 1.10×)`);
console.log(`peak RSS: ${rows.map((r) => `${r.records} ${r.variant} ${mb(r.rss)}`).join(', ')} (target ≤ 1 GiB)`);
