/** Temp-dir helpers shared by test/config and test/data (not a test file itself). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { InputError, type Where } from '../../src/errors.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temp folder, removed after the test file. */
export async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'privacy-audit-test-'));
  dirs.push(d);
  return d;
}

/** Writes `content` to `dir/rel` (creating folders); returns the absolute path. */
export async function put(dir: string, rel: string, content: string | Buffer): Promise<string> {
  const p = path.join(dir, rel);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, content);
  return p;
}

export const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** A minimal Hugging Face-format folder (contents are placeholders: the load stage only hashes them). */
export async function hfFolder(dir: string, rel: string, opts: { omit?: string[] } = {}): Promise<string> {
  const files: Record<string, string> = {
    'config.json': '{"model_type":"gpt2"}',
    'tokenizer.json': '{"model":{}}',
    'tokenizer_config.json': '{}',
    'onnx/model.onnx': `onnx-bytes-${rel}`,
  };
  for (const [f, c] of Object.entries(files)) if (!opts.omit?.includes(f)) await put(dir, path.join(rel, f), c);
  return path.join(dir, rel);
}

/** Awaits a rejection and checks it is an InputError at `where` whose message matches `message`. */
export async function expectInputError(
  p: Promise<unknown>,
  where: Where,
  message: RegExp,
): Promise<InputError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an InputError').toBeInstanceOf(InputError);
  const ie = err as InputError;
  expect(ie.where).toMatchObject(where);
  expect(ie.message).toMatch(message);
  // Readable: no zod/yaml internals leak into the message.
  expect(ie.message).not.toMatch(/Invalid input|ZodError|\[object Object\]/);
  return ie;
}
