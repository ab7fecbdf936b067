#!/usr/bin/env node
/**
 * `node scripts/bench-help.mjs [CONSUMER_DIR]`: how long `npx privacy-audit --help` takes, 5 fresh
 * processes each (median), for the packed package installed in an empty folder against this
 * checkout running the TypeScript sources through tsx (what every start cost before the build) and
 * this checkout's dist/. Without CONSUMER_DIR the package is packed and installed into a temporary
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

function time(label, cwd, env) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync('npx', ['--no-install', 'privacy-audit', '--help'], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr}`);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(`${label.padEnd(40)} median ${sorted[Math.floor(RUNS / 2)].toFixed(0)} ms  (runs: ${ms.map((x) => x.toFixed(0)).join(', ')})`);
}

console.log(`npx privacy-audit --help, ${RUNS} fresh processes each; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
time('packed package, installed (dist/)', consumer, {});
time('checkout, sources through tsx', ROOT, { PRIVACY_AUDIT_FROM_SOURCE: '1' });
time('checkout, dist/ (npm run build)', ROOT, {});
