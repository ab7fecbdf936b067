#!/usr/bin/env node
// The CLI runs from dist/ (compiled by `npm run build`, which `npm ci` runs) while dist/ matches the
// TypeScript sources, and from the sources through tsx otherwise: an edited source is never shadowed
// by an old build, and nothing needs building before `npx privacy-audit` works. An installed package
// has no TypeScript sources (and no tsx): it always runs dist/.
// `run` and `demo` run in a child process under a supervisor (src/pool/supervisor.mjs), so that a
// native crash in a pool worker, which ends the whole process, still gives exit 3 and names the task.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../src/build-stamp.mjs';
import { supervise, superviseeSetup } from '../src/pool/supervisor.mjs';

const args = process.argv.slice(2);
if (!process.env.PRIVACY_AUDIT_SUPERVISED && (args.includes('run') || args.includes('demo'))) {
  process.exitCode = await supervise(fileURLToPath(import.meta.url), args);
} else {
  superviseeSetup();
  let main;
  const checkout = existsSync(fileURLToPath(new URL('../src/cli.ts', import.meta.url)));
  if (!checkout || (process.env.PRIVACY_AUDIT_FROM_SOURCE !== '1' && distIsFresh())) {
    process.setSourceMapsEnabled(true);
    ({ main } = await import('../dist/cli.mjs'));
  } else {
    const { tsImport } = await import('tsx/esm/api');
    ({ main } = await tsImport('../src/cli.ts', import.meta.url));
  }
  process.exitCode = await main(args);
}
