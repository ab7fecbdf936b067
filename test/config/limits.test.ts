import { describe, expect, it } from 'vitest';
import { workersForMemory } from '../../src/config/limits.ts';

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
