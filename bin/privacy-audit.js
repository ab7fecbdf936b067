#!/usr/bin/env node
// The CLI runs its TypeScript sources through tsx: no build step between `npm ci` and `npx privacy-audit`.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../src/cli.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
