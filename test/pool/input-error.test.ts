/** A user's mistake found inside a pool worker crosses the thread boundary as an InputError (exit 2), not a crash. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { createPool } from '../../src/pool/index.ts';

describe('pool: InputError from a worker', () => {
  it('is rebuilt as an InputError with its message and location; other errors stay errors', async () => {
    const bogus = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-pool-')), 'bogus.onnx');
    writeFileSync(bogus, 'not a model');
    const pool = createPool(1);
    try {
      const err = await pool.run({ op: 'classify', model: { kind: 'onnx', path: bogus, outputs: 'auto' }, features: new Float32Array(2), n: 1, dim: 2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).where).toEqual({ file: bogus });
      expect((err as InputError).message).toMatch(/not an ONNX model/);
      const other = await pool
        .run({ op: 'train', architecture: { kind: 'mlp', layers: [2] }, training: { epochs: 1, batchSize: 1, learningRate: 0.1 }, seed: 1, features: new Float32Array(3), labels: Int32Array.from([0]), dim: 2, classes: 2, query: new Float32Array(0) })
        .catch((e: unknown) => e);
      expect(other).toBeInstanceOf(Error);
      expect(other).not.toBeInstanceOf(InputError);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
