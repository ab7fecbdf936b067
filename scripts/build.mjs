#!/usr/bin/env node
/**
 * `npm run build` (also run by `npm ci` through `prepare`): compiles the TypeScript CLI and its pool
 * worker into dist/ with esbuild, so a command starts in about half the time it takes through tsx.
 * Packages stay external (node_modules is read at run time as before). The output sits one folder
 * below the root, as src/ does, so paths relative to import.meta.url (package.json, fixtures/) hold.
 * bin/privacy-audit.js uses dist/ only while its stamp matches the sources (src/build-stamp.mjs).
 *
 * Entries: the CLI, the pool worker, the library (`privacy-audit`: src/index.ts) and the test
 * matchers (`privacy-audit/matchers`, `privacy-audit/vitest`). Type declarations (dist/types, by tsc:
 * ~15 s of CPU, so not on every build) are made with `--types`, and always when npm packs or
 * publishes (`prepare` runs then, with npm_command = pack | publish).
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, STAMP, sourceFingerprint } from '../src/build-stamp.mjs';

const fingerprint = sourceFingerprint();
const out = path.join(ROOT, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: ROOT,
  // The worker's name is fixed: src/pool/index.ts loads ./worker.mjs beside itself.
  entryPoints: { cli: 'src/cli.ts', worker: 'src/pool/worker.ts', index: 'src/index.ts', matchers: 'src/matchers.ts', vitest: 'src/vitest.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
if (process.argv.includes('--types') || ['pack', 'publish'].includes(process.env.npm_command ?? '')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.types.json')], { stdio: 'inherit' });
}
writeFileSync(STAMP, JSON.stringify({ fingerprint, built: new Date().toISOString() }, null, 2) + '\n');
