import { afterEach, describe, expect, it } from 'vitest';
import { childExecArgv } from '../../src/pool/supervisor.mjs';

describe('the audit process flags', () => {
  const saved = process.env.NODE_OPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });

  it("caps V8's young generation unless the user set it, exposes gc, and keeps this process's own flags", () => {
    delete process.env.NODE_OPTIONS;
    expect(childExecArgv()).toEqual([...process.execArgv, '--max-semi-space-size=2', '--expose-gc']);
    process.env.NODE_OPTIONS = '--max-old-space-size=4096 --max-semi-space-size=16';
    expect(childExecArgv()).toEqual([...process.execArgv, '--expose-gc']);
  });
});
