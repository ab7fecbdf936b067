/**
 * Content-addressed cache of finished work (model outputs per batch). A crash loses at most the
 * batches in flight: the next run finds everything else here and resumes.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  readonly hits: number;
  readonly misses: number;
}

export function diskCache(dir: string | undefined): Cache {
  let hits = 0;
  let misses = 0;
  const file = (key: string) => path.join(dir!, key.slice(0, 2), `${key}.json`);
  return {
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
    async get<T>(key: string) {
      if (!dir) return (misses++, undefined);
      try {
        const v = JSON.parse(await readFile(file(key), 'utf8')) as T;
        hits++;
        return v;
      } catch {
        // Missing or half-written (a crash mid-write): recompute.
        misses++;
        return undefined;
      }
    },
    async set(key, value) {
      if (!dir) return;
      const f = file(key);
      await mkdir(path.dirname(f), { recursive: true });
      const tmp = `${f}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, JSON.stringify(value));
      await rename(tmp, f); // atomic: a reader never sees a partial file
    },
  };
}
