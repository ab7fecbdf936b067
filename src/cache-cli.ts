/**
 * `privacy-audit cache verify | prune | clear`: the cache's entries checked, its bad entries and
 * abandoned temporary files removed, or the whole cache deleted. Only files in the cache's own
 * layout are ever touched (`secret.key`, `CACHEDIR.TAG`, `<2 hex>/<64 hex>.json` and their `.tmp`
 * siblings), so a cache folder named by mistake (say, a home folder) loses nothing else.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { attackIds, getAttack } from '../attacks/index.ts';
import { STORED, type EntryKind } from './audit/signals.ts';
import { cacheSecret, checkEntry, prepareCacheDir, SECRET_FILE, TAG_FILE } from './cache.ts';
import { loadConfig } from './config/load.ts';
import { InputError } from './errors.ts';

export const CACHE_USAGE = `  cache verify|prune|clear|init [config.yml]
                          check every cache entry (exit 0 all good, 1 some bad), remove bad entries
                          and abandoned temporary files, delete the cache, or create an empty one
                          with its secret (to hand to the machines of a sharded run: examples/);
                          the cache is --cache-dir, else the config's cache.dir, else
                          <--out or output.dir>/.cache`;

const PREFIX = /^[0-9a-f]{2}$/;
const ENTRY = /^([0-9a-f]{64})\.json$/;
/** `<key>.json.<pid>.<random>.tmp`, written by `set` and renamed into place. */
const TEMP = /^[0-9a-f]{64}\.json\.(\d+)\.[0-9a-z]+\.tmp$/;
/** `secret.key.<pid>.<random>.tmp`, left when a run died while creating the secret. */
const SECRET_TEMP = /^secret\.key\.(\d+)\.[0-9a-f]+\.tmp$/;

interface Scan {
  good: string[];
  bad: { file: string; reason: string }[];
  temp: { file: string; pid: number }[];
  bytes: number;
}

const isErrno = (e: unknown, code: string) => (e as NodeJS.ErrnoException | undefined)?.code === code;

async function secretOf(dir: string): Promise<Buffer | undefined> {
  try {
    const text = (await readFile(path.join(dir, SECRET_FILE), 'utf8')).trim();
    return /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Every file in the cache's layout, each entry checked as a run would (less the request's own sizes). */
async function scan(dir: string): Promise<Scan> {
  const secret = await secretOf(dir);
  const out: Scan = { good: [], bad: [], temp: [], bytes: 0 };
  const top = (await readdir(dir)).sort();
  for (const name of top) {
    const temp = SECRET_TEMP.exec(name);
    if (temp) out.temp.push({ file: path.join(dir, name), pid: Number(temp[1]) });
  }
  for (const prefix of top.filter((n) => PREFIX.test(n))) {
    const sub = path.join(dir, prefix);
    if (!(await lstat(sub)).isDirectory()) continue;
    for (const name of (await readdir(sub)).sort()) {
      const file = path.join(sub, name);
      const st = await lstat(file);
      if (!st.isFile()) continue;
      const temp = TEMP.exec(name);
      if (temp) {
        out.temp.push({ file, pid: Number(temp[1]) });
        continue;
      }
      const m = ENTRY.exec(name);
      if (!m) continue; // not ours
      out.bytes += st.size;
      const key = m[1]!;
      const reason = !key.startsWith(prefix)
        ? `in folder ${prefix}/, not ${key.slice(0, 2)}/`
        : !secret
          ? `cannot be verified: ${SECRET_FILE} is missing or malformed`
          : entryProblem(secret, key, await readFile(file));
      if (reason) out.bad.push({ file, reason });
      else out.good.push(file);
    }
  }
  return out;
}

function entryProblem(secret: Buffer, key: string, bytes: Buffer): string | undefined {
  const c = checkEntry(secret, key, bytes);
  if (!c.ok) return c.reason;
  const shape = STORED[c.kind as EntryKind];
  if (!shape) return `unknown kind "${c.kind}"`;
  const r = shape.safeParse(c.value);
  if (!r.success) return `wrong shape for a "${c.kind}" entry: ${r.error.issues[0]!.message}`;
  return undefined;
}

/** True when a process with this id runs here (its temporary file may be a write in progress). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Removes the cache's now-empty prefix folders. */
async function dropEmptyPrefixes(dir: string): Promise<void> {
  for (const prefix of (await readdir(dir)).filter((n) => PREFIX.test(n))) {
    await rmdir(path.join(dir, prefix)).catch(() => {}); // not empty, or not a folder: left alone
  }
}

/** Where the cache is: --cache-dir, else the config's cache.dir, else <--out or output.dir>/.cache. */
async function locate(flags: { cacheDir?: string; out?: string }, configArg: string | undefined): Promise<string> {
  if (flags.cacheDir) return path.resolve(flags.cacheDir);
  const config = configArg ? path.resolve(configArg) : existsSync('privacy-audit.yml') ? path.resolve('privacy-audit.yml') : undefined;
  if (!config) {
    if (flags.out) return path.join(path.resolve(flags.out), '.cache');
    throw new InputError('cache needs --cache-dir DIR, --out DIR or a config file (none at ./privacy-audit.yml)');
  }
  const cfg = await loadConfig(config, { attackOptions: (id) => getAttack(id)?.options, knownAttacks: attackIds(), attackFamily: (id) => getAttack(id)?.meta.family });
  return cfg.cacheDir ?? path.join(flags.out ? path.resolve(flags.out) : cfg.outputDir, '.cache');
}

export async function cacheCommand(args: string[], flags: { cacheDir?: string; out?: string; json?: boolean }): Promise<number> {
  const [action, configArg, ...extra] = args;
  if (action !== 'verify' && action !== 'prune' && action !== 'clear' && action !== 'init') {
    throw new InputError(`cache expects verify, prune, clear or init${action ? `, got "${action}"` : ''}`);
  }
  if (extra.length > 0) throw new InputError(`cache ${action} takes at most one config file, got also "${extra.join(' ')}"`);
  const dir = await locate(flags, configArg);
  // With --json the lines go to stderr and one JSON object (`done`) to stdout.
  const say = (s: string) => (flags.json ? process.stderr : process.stdout).write(`${s}\n`);
  const done = (code: number, o: Record<string, unknown>) => {
    if (flags.json) process.stdout.write(`${JSON.stringify({ action, cacheDir: dir, ...o }, null, 2)}\n`);
    return code;
  };
  if (action === 'init') {
    // The folder, its CACHEDIR.TAG and its secret: entries written on any machine that starts from
    // this folder verify on every other one, so shards' folders can be combined for --merge.
    await prepareCacheDir(dir);
    await cacheSecret(dir);
    say(`cache ${dir}: ready (${SECRET_FILE} signs its entries; keep it private, hand it only to the machines of one audit)`);
    return done(0, { ready: true });
  }
  let st;
  try {
    st = await lstat(dir);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    say(`no cache at ${dir}`);
    return done(0, { exists: false });
  }
  if (!st.isDirectory()) throw new InputError('is not a folder (expected a cache folder)', { file: dir });
  const s = await scan(dir);

  switch (action) {
    case 'verify': {
      say(`cache ${dir}: ${s.good.length + s.bad.length} entries (${mb(s.bytes)}): ${s.good.length} good, ${s.bad.length} bad; ${s.temp.length} temporary file(s)`);
      for (const b of s.bad) say(`  bad  ${path.relative(dir, b.file)}: ${b.reason}`);
      if ((st.mode & 0o077) !== 0) say(`  warning: the folder is accessible to other users (mode ${(st.mode & 0o777).toString(8)}); it holds derived training data: chmod 700 ${dir}`);
      if (s.bad.length > 0) say(`run \`privacy-audit cache prune\` to remove the bad entries (the next run recomputes them)`);
      return done(s.bad.length > 0 ? 1 : 0, { entries: s.good.length + s.bad.length, bytes: s.bytes, good: s.good.length, bad: s.bad.map((b) => ({ file: path.relative(dir, b.file), reason: b.reason })), temporary: s.temp.length });
    }
    case 'prune': {
      // A temporary file of a process still running may be a write in progress: kept.
      const stale = s.temp.filter((t) => !running(t.pid));
      for (const f of [...s.bad.map((b) => b.file), ...stale.map((t) => t.file)]) await unlink(f).catch((e) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e)));
      await dropEmptyPrefixes(dir);
      say(`cache ${dir}: removed ${s.bad.length} bad entries and ${stale.length} abandoned temporary file(s); ${s.good.length} good entries kept`);
      return done(0, { removedBad: s.bad.length, removedTemporary: stale.length, kept: s.good.length });
    }
    case 'clear': {
      for (const f of [...s.good, ...s.bad.map((b) => b.file), ...s.temp.map((t) => t.file)]) await rm(f, { force: true });
      await dropEmptyPrefixes(dir);
      for (const f of [SECRET_FILE, TAG_FILE]) await rm(path.join(dir, f), { force: true });
      const left = await readdir(dir);
      if (left.length === 0) await rmdir(dir);
      say(`cache ${dir}: removed ${s.good.length + s.bad.length} entries (${mb(s.bytes)})${left.length > 0 ? `; the folder keeps ${left.length} item(s) that are not the cache's` : ''}`);
      return done(0, { removed: s.good.length + s.bad.length, bytes: s.bytes });
    }
  }
}
