import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

/**
 * The package's root folder. This file sits one folder below it both in src/ and in the dist/ bundle
 * (scripts/build.mjs), so code deeper in src/ finds the repo's files from here, not from its own URL.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const TOOL = { name: pkg.name, version: pkg.version } as const;

/** Versions of the dependencies that compute results, for the reproducibility manifest. */
export function dependencyVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['@huggingface/transformers', 'onnxruntime-node', 'piscina', 'zod', 'pako', 'pure-rand', '@stdlib/stats-base-dists-beta-quantile']) {
    out[name] = 'unknown';
    // Looked up the way Node resolves packages: an installed privacy-audit's dependencies are
    // usually hoisted into the node_modules it sits in, not nested under it.
    for (let dir = PACKAGE_ROOT; ; dir = path.dirname(dir)) {
      try {
        out[name] = (JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
        break;
      } catch {
        if (path.dirname(dir) === dir) break;
      }
    }
  }
  return out;
}
