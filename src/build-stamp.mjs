/**
 * Whether dist/ (the esbuild output of `npm run build`) was built from the TypeScript sources as they
 * are now. Plain JavaScript, so that bin/privacy-audit.js can ask before it has loaded anything.
 *
 * The fingerprint is every source file's path, size and modification time, plus package.json and
 * the lockfile: stat-ing ~200 files takes a few milliseconds, far less than compiling them. A source
 * edited after the build makes dist stale, and the CLI then runs the sources through tsx instead.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The folders whose TypeScript is compiled into dist/. */
export const SOURCE_DIRS = ['src', 'attacks', 'reports'];
const EXTRA = ['package.json', 'package-lock.json', 'tsconfig.json'];
export const STAMP = path.join(ROOT, 'dist', 'build-stamp.json');

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(ts|mjs|js|json|hbs|css|html)$/.test(e.name)) out.push(p);
  }
}

export function sourceFingerprint() {
  const files = [];
  for (const d of SOURCE_DIRS) walk(path.join(ROOT, d), files);
  for (const f of EXTRA) files.push(path.join(ROOT, f));
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    let s;
    try {
      s = statSync(f);
    } catch {
      continue;
    }
    h.update(`${path.relative(ROOT, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return h.digest('hex');
}

/** True when dist/ exists and was built from the sources as they are now. */
export function distIsFresh() {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    return stamp.fingerprint === sourceFingerprint();
  } catch {
    return false;
  }
}
