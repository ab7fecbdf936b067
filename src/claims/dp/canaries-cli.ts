/** `privacy-audit canaries make`: writes a sealed canary manifest and the records a trainer includes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.ts';
import { includedRecords, makeCanaries } from './canaries.ts';

export const CANARIES_USAGE = `Usage: privacy-audit canaries make --count M --out DIR [--seed S] [--format "text with {secret}"]
  Writes DIR/dp-canaries.json (the sealed manifest: every canary, whether it is to be included, and
  a SHA-256 digest to publish before training; keep the file from the trainer) and DIR/included.jsonl
  (the included canaries as records { id, subject, text } to add to the training data, each once).
  Each canary is included with probability 1/2, drawn from the seed. {ref} in --format becomes a
  random reference per canary. Then name the manifest in the config: claims.dp.canaries.manifest.`;

export async function canariesCommand(args: string[], flags: { out?: string | undefined; seed: number; count?: string | undefined; format?: string | undefined }): Promise<number> {
  if (args[0] !== 'make') throw new InputError(`unknown canaries command "${args[0] ?? ''}"\n${CANARIES_USAGE}`);
  const count = Number(flags.count);
  if (flags.count === undefined || !Number.isInteger(count) || count < 2 || count > 100000)
    throw new InputError(`--count expects an integer from 2 to 100000 (the number of canaries m), got "${flags.count ?? ''}"`, { field: '--count' });
  if (!flags.out) throw new InputError('--out DIR is required: the folder to write dp-canaries.json and included.jsonl to', { field: '--out' });
  const dir = path.resolve(flags.out);
  const manifestFile = path.join(dir, 'dp-canaries.json');
  if (existsSync(manifestFile)) throw new InputError(`${manifestFile} exists: a sealed manifest is never overwritten (remove it first if it was never used)`, { field: '--out' });
  const m = makeCanaries({ count, seed: flags.seed, ...(flags.format !== undefined ? { format: flags.format } : {}) });
  await mkdir(dir, { recursive: true });
  await writeFile(manifestFile, `${JSON.stringify(m, null, 1)}\n`);
  const records = includedRecords(m).map((r) => JSON.stringify({ id: r.id, subject: r.id, text: r.text }));
  await writeFile(path.join(dir, 'included.jsonl'), records.length ? `${records.join('\n')}\n` : '');
  process.stderr.write(`wrote ${manifestFile} (${count} canaries; keep it from the trainer) and ${path.join(dir, 'included.jsonl')} (${records.length} to include in training, once each)\n`);
  process.stdout.write(`${m.digest}\n`);
  return 0;
}
