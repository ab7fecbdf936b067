/**
 * The render stage: every output file is a pure function of result.json (and run.json for timings),
 * and the files of a run are written so that none can claim a verdict the run did not compute:
 * 1. everything is rendered in memory first;
 * 2. the outputs of an earlier run in the folder are removed (all of them: a run that writes no PDF
 *    leaves no old report.pdf behind);
 * 3. each file is written to a temporary file in the same folder and flushed to disk (fsync);
 * 4. only when every temporary file is complete are they renamed into place (atomic on one
 *    filesystem), and the folder is flushed.
 * A failure (disk full, permission denied) removes the temporary files and throws an OutputError
 * naming the file: the folder then holds no output at all, never a truncated or stale one.
 *
 * The run id is the SHA-256 of result.json. It names the evidence, not the moment: every output of
 * a run carries it (report.html's head and reproducibility section, junit.xml's properties,
 * summary.md's last line, run.json's `runId`), and two runs that computed the same evidence share
 * it, so result.json can stay byte-identical for identical runs. run.json says when.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from '../reports/html.ts';
import { renderJson, resultDigest } from '../reports/json.ts';
import { renderJunit } from '../reports/junit.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { InputError } from './errors.ts';
import { CACHE_MANIFEST } from './evidence.ts';
import { writePdf } from './pdf.ts';
import type { AuditResult, RunInfo } from './result/types.ts';
import { SCORES_SIDECAR, SUBJECTS_SIDECAR, type SidecarFile } from './sidecars.ts';
import { detachedSignature, signHtml, type Signer } from './sign.ts';

/** Every file a run may write; all are removed before a new run's are written. */
export const OUTPUT_FILES = ['result.json', 'result.json.sig', CACHE_MANIFEST, SCORES_SIDECAR, SUBJECTS_SIDECAR, 'report.html', 'junit.xml', 'summary.md', 'run.json', 'report.pdf'] as const;
export type OutputName = (typeof OUTPUT_FILES)[number];

/** A runtime failure writing an output (exit 3): one line naming the file, no stack trace. */
export class OutputError extends Error {
  readonly exitCode = 3;
  readonly file: string;
  readonly code: string | undefined;
  constructor(file: string, cause: unknown, after = '') {
    const code = errnoOf(cause);
    super(`cannot write ${file}: ${describeErrno(code, cause)}${after}`);
    this.name = 'OutputError';
    this.file = file;
    this.code = code;
  }
}

export const isOutputError = (e: unknown): e is OutputError => e instanceof OutputError;

function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  // Errors from other processes (chromium printing the PDF) carry the errno name in their text only.
  return /\b(ENOSPC|EDQUOT|EACCES|EPERM|EROFS|EIO|EFBIG|EISDIR|ENOTDIR)\b/.exec(e instanceof Error ? e.message : String(e))?.[1];
}

const ERRNO: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EISDIR: 'a folder is in the way',
  ENOTDIR: 'a file is in the way of the folder',
};

function describeErrno(code: string | undefined, e: unknown): string {
  if (code && ERRNO[code]) return `${ERRNO[code]} (${code})`;
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/**
 * Checks, before any model work, that `dir` can take the outputs: it is a folder (or can be created
 * as one) and writable, and no output name in it is a folder. A user's mistake is exit 2 naming the
 * path; a full disk found here is exit 3, still before anything was computed.
 */
export async function checkOutputDir(dir: string): Promise<void> {
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) {
    if (st.code === 'ENOTDIR') throw new InputError('the output path runs through a file; expected a folder', { file: dir });
    if (st.code !== 'ENOENT') throw new InputError(`cannot use the output folder: ${describeErrno(st.code, st)}`, { file: dir });
    // Created at write time; its nearest existing parent must be a writable folder.
    let parent = path.dirname(dir);
    for (;;) {
      const p = await stat(parent).catch(() => undefined);
      if (p) {
        if (!p.isDirectory()) throw new InputError(`the output folder cannot be created: ${parent} is a file`, { file: dir });
        break;
      }
      if (path.dirname(parent) === parent) break;
      parent = path.dirname(parent);
    }
    await access(parent, constants.W_OK | constants.X_OK).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(`the output folder cannot be created: ${parent} is not writable (${describeErrno(e.code, e)})`, { file: dir });
    });
    return;
  }
  if (!st.isDirectory()) throw new InputError('the output path is a file; expected a folder (--out or output.dir)', { file: dir });
  await access(dir, constants.W_OK | constants.X_OK).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`the output folder is not writable (${describeErrno(e.code, e)})`, { file: dir });
  });
  const uid = process.getuid?.();
  for (const name of OUTPUT_FILES) {
    const f = path.join(dir, name);
    const s = await stat(f).catch(() => undefined);
    if (s?.isDirectory()) throw new InputError('is a folder; the output file cannot replace it', { file: f });
    // In a sticky folder (like /tmp) only a file's owner may remove it: another user's old output
    // would survive next to this run's.
    if (s && uid !== undefined && uid !== 0 && st.mode & 0o1000 /* S_ISVTX */ && s.uid !== uid && st.uid !== uid)
      throw new InputError(`is left from an earlier run by another user (uid ${s.uid}) and cannot be replaced in this sticky folder; remove it or choose another --out`, { file: f });
  }
  // access() is not the whole truth (root ignores modes; some filesystems refuse later): try it.
  const probe = path.join(dir, `.privacy-audit-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new OutputError(dir, e, '; nothing was computed');
    throw new InputError(`the output folder is not writable (${describeErrno(code, e)})`, { file: dir });
  }
  await unlink(probe).catch(() => {});
}

export interface RenderOptions {
  /** Timings and machine (run.json); absent for `evaluate`. */
  run?: RunInfo;
  /** Signs result.json (result.json.sig) and report.html (an embedded signature). */
  signer?: Signer;
  /** cache-manifest.txt: the cache entries the result rests on (see src/evidence.ts). */
  cacheManifest?: string;
  /** A result.json.sig carried over from the folder being re-rendered, when result.json is unchanged. */
  resultSignature?: string;
  /** The sidecars result.json names (src/sidecars.ts), written with the other outputs. */
  sidecars?: readonly SidecarFile[];
}

/** The run id: the SHA-256 of result.json (see the header). */
export const runIdOf = (result: AuditResult): string => resultDigest(result);

/** Every output of a run, rendered in memory; result.json first, the order they are put in place. */
export async function renderOutputs(result: AuditResult, opts: RenderOptions = {}): Promise<[OutputName, string | Buffer][]> {
  const json = renderJson(result);
  const run = opts.run ? { ...opts.run, runId: runIdOf(result) } : undefined;
  let html = await renderHtml(result, run);
  if (opts.signer) html = signHtml(html, opts.signer);
  const named = new Map((opts.sidecars ?? []).map((s) => [s.ref.file, s]));
  for (const ref of result.sidecars ?? []) {
    const s = named.get(ref.file);
    if (ref.file !== SCORES_SIDECAR && ref.file !== SUBJECTS_SIDECAR) throw new Error(`renderOutputs: "${ref.file}" is not a sidecar's name`);
    if (s && s.ref.sha256 !== ref.sha256) throw new Error(`renderOutputs: sidecar ${ref.file} is not the one the result names`);
  }
  const files: [OutputName, string | Buffer][] = [['result.json', json]];
  if (opts.signer) files.push(['result.json.sig', detachedSignature(opts.signer, 'result.json', json)]);
  else if (opts.resultSignature) files.push(['result.json.sig', opts.resultSignature]);
  if (opts.cacheManifest !== undefined) files.push([CACHE_MANIFEST, opts.cacheManifest]);
  // A sidecar not given (`report` re-rendering a folder that lost one) is not written: verify says so.
  for (const ref of result.sidecars ?? []) {
    const s = named.get(ref.file);
    if (s) files.push([ref.file as OutputName, s.bytes]);
  }
  files.push(['report.html', html], ['junit.xml', renderJunit(result)], ['summary.md', renderMarkdown(result)]);
  if (run) files.push(['run.json', `${JSON.stringify(run, null, 2)}\n`]);
  return files;
}

const tmpName = (dir: string, name: string) => path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
const isTmpOf = (entry: string) => OUTPUT_FILES.some((n) => entry.startsWith(`.${n}.`) && entry.endsWith('.tmp'));

async function writeDurably(file: string, body: string | Buffer): Promise<void> {
  const fh = await open(file, 'wx', 0o644);
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the renames durable; not every filesystem allows it, and it is not needed for atomicity.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

/** Removes every output (and any temporary file a crashed run left) from `dir`, except `keep`. */
export async function removeOutputs(dir: string, keep: ReadonlySet<string> = new Set()): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  let failed: OutputError | undefined;
  for (const name of entries) {
    if (keep.has(name) || !((OUTPUT_FILES as readonly string[]).includes(name) || isTmpOf(name))) continue;
    const f = path.join(dir, name);
    try {
      await unlink(f);
      if (!isTmpOf(name)) removed.push(name);
    } catch (e) {
      // The others are still removed: as few stale files as possible survive.
      if (errnoOf(e) !== 'ENOENT') failed ??= new OutputError(f, e, '; it is left from an earlier run and could not be removed');
    }
  }
  if (failed) throw failed;
  return removed;
}

/**
 * Puts `files` in `dir` as described in the header. `keep` names outputs not to remove first because
 * they are about to be replaced atomically anyway (`report` re-rendering a result.json in place:
 * its source must survive a failed write).
 */
export async function commitOutputs(dir: string, files: [string, string | Buffer][], opts: { keep?: ReadonlySet<string> } = {}): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new OutputError(dir, e);
  }
  // Only a file about to be replaced is kept; any other output left from before goes.
  const removed = await removeOutputs(dir, new Set(files.map(([n]) => n).filter((n) => opts.keep?.has(n))));
  const earlier = removed.length > 0 ? ` (the earlier run's ${removed.join(', ')} were removed first)` : '';
  const written: [tmp: string, final: string][] = [];
  const cleanup = () => Promise.all(written.map(([t]) => unlink(t).catch(() => {})));
  for (const [name, body] of files) {
    const final = path.join(dir, name);
    const tmp = tmpName(dir, name);
    written.push([tmp, final]);
    try {
      await writeDurably(tmp, body);
    } catch (e) {
      await cleanup();
      throw new OutputError(final, e, `; no output of this run was written${earlier}`);
    }
  }
  for (const [i, [tmp, final]] of written.entries()) {
    try {
      await rename(tmp, final);
    } catch (e) {
      await cleanup();
      throw new OutputError(final, e, i === 0 ? '; no output of this run was written' : `; only ${written.slice(0, i).map(([, f]) => path.basename(f)).join(', ')} of this run were written`);
    }
  }
  await syncDir(dir);
  return written.map(([, f]) => f);
}

export async function writeOutputs(dir: string, result: AuditResult, opts: RenderOptions & { keep?: ReadonlySet<string> } = {}): Promise<string[]> {
  return commitOutputs(dir, await renderOutputs(result, opts), opts);
}

/** `--pdf`: report.pdf printed from the report.html in `dir`, put in place like the others. */
export async function writePdfOutput(dir: string): Promise<string> {
  const final = path.join(dir, 'report.pdf');
  const tmp = tmpName(dir, 'report.pdf');
  try {
    await writePdf(path.join(dir, 'report.html'), tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    if (e instanceof InputError) throw e;
    throw new OutputError(final, e, '; the other outputs of this run are complete');
  }
  await syncDir(dir);
  return final;
}

/** True when `f` exists and is a regular file. */
export const isFile = async (f: string): Promise<boolean> => (await stat(f).catch(() => undefined))?.isFile() ?? false;
