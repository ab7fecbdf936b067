/** Small filesystems for output tests: tmpfs mounts (root only) and a file that fills one up. */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Mounts a tmpfs of `size` (e.g. "200k") at `dir`, read-only when asked; returns why not, or undefined. */
export function mountTmpfs(dir: string, size: string, opts: { readOnly?: boolean } = {}): string | undefined {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${opts.readOnly ? 'ro,' : ''}size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return ((e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message).split('\n')[0];
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    /* not mounted */
  }
}

/** Why tmpfs cannot be mounted here (not root, no CAP_SYS_ADMIN, no mount binary), or undefined. */
export const tmpfsUnavailable: string | undefined = (() => {
  const probe = mkdtempSync(path.join(os.tmpdir(), 'pa-tmpfs-probe-'));
  const why = mountTmpfs(probe, '16k');
  if (!why) unmount(probe);
  rmSync(probe, { recursive: true, force: true });
  return why ? `mounting a tmpfs is not allowed here (${why})` : undefined;
})();

const PAGE = 4096;

/**
 * Fills the filesystem holding `file` completely, then gives back `freePages` pages: the next writer
 * gets about that much room and then ENOSPC.
 */
export function fillLeaving(file: string, freePages: number): void {
  rmSync(file, { force: true });
  const fd = openSync(file, 'w');
  try {
    for (const chunk of [Buffer.alloc(64 * 1024, 1), Buffer.alloc(PAGE, 1), Buffer.alloc(1, 1)]) {
      for (;;) {
        try {
          if (writeSync(fd, chunk) < chunk.length) break;
        } catch {
          break; // ENOSPC
        }
      }
    }
    const size = fstatSync(fd).size;
    ftruncateSync(fd, Math.max(0, Math.floor(size / PAGE) * PAGE - freePages * PAGE));
  } finally {
    closeSync(fd);
  }
}
