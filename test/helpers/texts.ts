import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURE } from './paths.ts';

/** The text of the first `n` records of the support-desk fixture's forget file. */
export function forgetTexts(n: number): string[] {
  return readFileSync(path.join(FIXTURE, 'data/forget.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .slice(0, n)
    .map((l) => (JSON.parse(l) as { text: string }).text);
}
