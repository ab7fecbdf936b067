import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

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
    try {
      const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
      out[name] = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}
