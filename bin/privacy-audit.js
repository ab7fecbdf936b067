#!/usr/bin/env node
// The CLI runs its TypeScript sources through tsx: no build step between `npm ci` and `npx privacy-audit`.
// `run` and `demo` run in a child process under a supervisor (src/pool/supervisor.mjs), so that a
// native crash in a pool worker, which ends the whole process, still gives exit 3 and names the task.
import { fileURLToPath } from 'node:url';
import { supervise, superviseeSetup } from '../src/pool/supervisor.mjs';

const args = process.argv.slice(2);
if (!process.env.PRIVACY_AUDIT_SUPERVISED && (args.includes('run') || args.includes('demo'))) {
  process.exitCode = await supervise(fileURLToPath(import.meta.url), args);
} else {
  superviseeSetup();
  const { tsImport } = await import('tsx/esm/api');
  const { main } = await tsImport('../src/cli.ts', import.meta.url);
  process.exitCode = await main(args);
}
