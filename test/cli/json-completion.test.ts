/**
 * `--json` (the result on stdout, human lines on stderr) on commands without a model, and the shell
 * completion scripts, run in a real bash.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-json-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--json', () => {
  it('keygen and cache print what they did as JSON on stdout, their lines on stderr', async () => {
    const k = await cli(['keygen', path.join(tmp, 'k.pem'), '--json']);
    expect(k.code).toBe(0);
    const key = JSON.parse(k.stdout) as { privateFile: string; publicFile: string; keyId: string };
    expect(key).toMatchObject({ privateFile: path.join(tmp, 'k.pem'), publicFile: path.join(tmp, 'k.pem.pub') });
    expect(k.stderr).toContain(`key id ${key.keyId}`);
    const c = await cli(['cache', 'verify', '--cache-dir', path.join(tmp, 'none'), '--json']);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({ action: 'verify', cacheDir: path.join(tmp, 'none'), exists: false });
    expect(c.stderr).toContain('no cache at');
  });
});

describe('privacy-audit completion', () => {
  it('bash: commands, flags and option values complete in a real bash', async () => {
    const r = await cli(['completion', 'bash']);
    expect(r.code).toBe(0);
    const file = path.join(tmp, 'privacy-audit.bash');
    writeFileSync(file, r.stdout);
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _privacy_audit; echo "\${COMPREPLY[*]}"`, 'bash', file], { cwd: tmp, encoding: 'utf8' }).trim();
    expect(complete(['privacy-audit', 'in'])).toBe('init');
    expect(complete(['privacy-audit', 'run', '--incon'])).toBe('--inconclusive');
    expect(complete(['privacy-audit', 'run', '--inconclusive', ''])).toBe('fail pass');
    expect(complete(['privacy-audit', 'demo', '--scenario', 't'])).toBe('tabular');
    expect(complete(['privacy-audit', 'cache', ''])).toBe('verify prune clear init');
    expect(complete(['privacy-audit', 'run', 'privacy-audit.b'])).toBe('privacy-audit.bash');
  });

  it('zsh and fish scripts; another shell is exit 2', async () => {
    const z = await cli(['completion', 'zsh']);
    expect(z.stdout).toMatch(/^#compdef privacy-audit\n/);
    expect(z.stdout).toContain('autoload -U +X bashcompinit && bashcompinit');
    const f = await cli(['completion', 'fish']);
    expect(f.stdout).toContain('complete -c privacy-audit -n __fish_use_subcommand -f -a "init run demo evaluate report verify keygen cache canaries completion"');
    expect(f.stdout).toContain('complete -c privacy-audit -l inconclusive -x -a "fail pass"');
    expect(f.stdout).toContain('complete -c privacy-audit -l json\n');
    const bad = await cli(['completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('completion expects bash, zsh or fish, got "tcsh"');
  });
});
