import { describe, expect, it } from 'vitest';
import { poolShape, threadsProblem, workersForMemory } from '../../src/config/limits.ts';

const MiB = 2 ** 20;
describe('workers: auto within memory', () => {
  it('keeps the wanted number when the copies fit, takes fewer when they do not, never fewer than 1', () => {
    // The fixture (~2 MiB of model files): 4 workers fit anywhere.
    expect(workersForMemory(4, 2 * MiB, 4096 * MiB)).toBe(4);
    // A 652 MB model: ~1.45 GB per worker; 60% of 4 GiB holds 1, of 24 GiB holds 9 (capped at 4).
    expect(workersForMemory(4, 652e6, 4096 * MiB)).toBe(1);
    expect(workersForMemory(4, 652e6, 24 * 1024 * MiB)).toBe(4);
    expect(workersForMemory(4, 652e6, 6 * 1024 * MiB)).toBe(2);
    expect(workersForMemory(2, 10e9, 1024 * MiB)).toBe(1);
  });
});

describe('workers × intra-op threads', () => {
  const GiB = 1024 * MiB;
  it('runs a large model as one copy with every core, small ones as single-threaded workers', () => {
    expect(poolShape({ modelBytes: 652e6, availableBytes: 20 * GiB, cores: 2 })).toMatchObject({ workers: 1, threads: 2 });
    expect(poolShape({ modelBytes: 652e6, availableBytes: 20 * GiB, cores: 8 })).toMatchObject({ workers: 1, threads: 8 });
    expect(poolShape({ modelBytes: 2 * MiB, availableBytes: 20 * GiB, cores: 2 })).toMatchObject({ workers: 2, threads: 1 });
    expect(poolShape({ modelBytes: 2 * MiB, availableBytes: 20 * GiB, cores: 8 })).toMatchObject({ workers: 4, threads: 2 });
  });
  it('gives the cores a memory cap leaves idle to the workers as threads', () => {
    // 40 MiB of models, 300 MiB free: one copy fits (60% of 300 MiB ≥ 2 × 40 + 150 MiB), not two.
    const s = poolShape({ modelBytes: 40 * MiB, availableBytes: 300 * MiB, cores: 4 });
    expect(s).toMatchObject({ workers: 1, threads: 4 });
    expect(s.why).toMatch(/available/);
  });
  it('keeps what was given and fills the cores with the other', () => {
    expect(poolShape({ modelBytes: 652e6, availableBytes: 20 * GiB, cores: 4, workers: 2 })).toMatchObject({ workers: 2, threads: 2 });
    expect(poolShape({ modelBytes: 2 * MiB, availableBytes: 20 * GiB, cores: 4, threads: 2 })).toMatchObject({ workers: 2, threads: 2 });
    expect(poolShape({ modelBytes: 2 * MiB, availableBytes: 20 * GiB, cores: 2, workers: 3, threads: 5 })).toMatchObject({ workers: 3, threads: 5 });
    expect(poolShape({ modelBytes: 2 * MiB, availableBytes: 20 * GiB, cores: 2, workers: 4 })).toMatchObject({ workers: 4, threads: 1 });
  });
  it('refuses absurd thread counts with the limit in the message', () => {
    expect(threadsProblem(8, 2)).toBeUndefined();
    expect(threadsProblem(9, 2)).toMatch(/more than 8/);
    expect(threadsProblem(1000, 64)).toMatch(/at most 64/);
  });
});
