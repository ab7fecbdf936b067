/**
 * Which cache entries a run's result rests on. Every value the audit takes from the cache or puts in
 * it is digested (SHA-256 of its JSON, the bytes the cache stores), so a report can be checked
 * against the cache later: an entry edited after the run no longer matches.
 *
 * The digest is over the value, whether it was computed or read, so a cold run, a warm run and a
 * `--no-cache` run record the same list, and result.json stays byte-identical between them.
 * result.json carries only the count and one SHA-256 over the list (a run can use thousands of
 * entries); the list itself is `cache-manifest.txt` beside it, whose bytes hash to that SHA-256.
 */
import { sha256, type Cache } from './cache.ts';
import type { CacheEvidence } from './result/types.ts';

/** One line per entry, `<sha256 of the value>  <cache key>`, sorted by key (sha256sum's shape). */
export const CACHE_MANIFEST = 'cache-manifest.txt';

export const valueDigest = (value: unknown): string => sha256(JSON.stringify(value));

export function renderCacheManifest(entries: ReadonlyMap<string, string>): string {
  const keys = [...entries.keys()].sort();
  return keys.map((k) => `${entries.get(k)}  ${k}\n`).join('');
}

export function parseCacheManifest(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!m) return undefined;
    out.set(m[2]!, m[1]!);
  }
  return out;
}

export const cacheEvidence = (manifest: string, entries: number): CacheEvidence => ({ entries, sha256: sha256(manifest) });

/**
 * Wraps a cache so every entry the run reads or writes is recorded. A Proxy, so whatever else the
 * cache offers (counters, maintenance) passes through unchanged.
 */
export function recordingCache<C extends Cache>(inner: C): { cache: C; used: () => Map<string, string> } {
  const used = new Map<string, string>();
  // The digest is of the value as stored (before the reader decodes it), so that a computed and a
  // read entry record the same digest.
  const get = async <T>(key: string, kind: string, parse: (stored: unknown) => T): Promise<T | undefined> => {
    let digest: string | undefined;
    const v = await inner.get<T>(key, kind, (stored) => {
      digest = valueDigest(stored);
      return parse(stored);
    });
    if (v !== undefined && digest !== undefined) used.set(key, digest);
    return v;
  };
  const set = async (key: string, kind: string, value: unknown): Promise<void> => {
    // Recorded before the write: a `--no-cache` run (whose set is a no-op) records the same list.
    used.set(key, valueDigest(JSON.parse(JSON.stringify(value)) as unknown));
    await inner.set(key, kind, value);
  };
  const cache = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'get') return get;
      if (prop === 'set') return set;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { cache, used: () => new Map(used) };
}
