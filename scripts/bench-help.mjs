#!/usr/bin/env node
/**
 * `node scripts/bench-help.mjs [CONSUMER_DIR]`: how long `npx privacy-audit --help` takes, 5 fresh
 * processes each (median), for the packed package installed in an empty folder against this
 * checkout running the TypeScript sources through tsx (what every start cost before the build) and
 * this checkout's dist/: wall time and CPU time (user + sys, which a busy machine inflates less). Without CONSUMER_DIR the package is packed and installed into a temporary
 * folder first (npm's cache, else the registry). Not a test: timings are never asserted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;
let consumer = process.argv[2] && path.resolve(process.argv[2]);
if (!consumer) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-bench-help-'));
  execFileSync('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = path.join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz')));
  consumer = path.join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tgz], { cwd: consumer, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' } });
}

/** Wall and CPU (user + sys of the process tree, from bash's `time`) of one fresh `npx privacy-audit --help`. */
function once(cwd, env) {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%R %U %S"; time npx --no-install privacy-audit --help >/dev/null'], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall: wall * 1000, cpu: (user + sys) * 1000 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(label, cwd, env) {
  const runs = Array.from({ length: RUNS }, () => once(cwd, env));
  const f = (k) => `${median(runs.map((r) => r[k])).toFixed(0)} ms (${runs.map((r) => r[k].toFixed(0)).join(', ')})`;
  console.log(`${label.padEnd(36)} wall median ${f('wall')}; CPU median ${f('cpu')}`);
}

console.log(`npx privacy-audit --help, ${RUNS} fresh processes each; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
time('packed package, installed (dist/)', consumer, {});
time('checkout, sources through tsx', ROOT, { PRIVACY_AUDIT_FROM_SOURCE: '1' });
time('checkout, dist/ (npm run build)', ROOT, {});
