/**
 * The package as a user gets it: `npm pack` (which builds dist/ and its .d.ts), installed from the
 * tarball into an empty folder (dependencies from the npm cache that `npm ci` filled, or the
 * registry), then `npx privacy-audit init` and `run` on a copied fixture. One pack and one install,
 * shared by every assertion: it is the expensive part (about 40 s of CPU).
 *
 * The pack runs in a staging copy of the sources, so that its build never replaces the dist/ that
 * other test files are running the CLI from.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/paths.ts';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
  dependencies: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
};

let tmp: string;
let consumer: string;
let tgzFiles: string[];
const env = { ...process.env, NO_COLOR: '1', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip', npm_config_update_notifier: 'false', CI: '1' };

/** `npx privacy-audit …` in `cwd`, as a user types it; never rejects. */
async function npx(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('npx', ['--no-install', 'privacy-audit', ...args], { cwd, env, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'privacy-audit-package-'));
  // Staging: what the build and `files` need, with the repo's node_modules linked in.
  const stage = path.join(tmp, 'stage');
  const copy = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.types.json', 'src', 'attacks', 'reports', 'scripts', 'bin', 'templates', 'schema', 'examples', 'action.yml', 'fixtures/support-desk'];
  for (const f of copy) if (existsSync(path.join(REPO, f))) cpSync(path.join(REPO, f), path.join(stage, f), { recursive: true });
  symlinkSync(realpathSync(path.join(REPO, 'node_modules')), path.join(stage, 'node_modules'), 'dir');
  const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: stage, env, maxBuffer: 64 << 20 });
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tgzFiles = info[0]!.files.map((f) => f.path);
  const tgz = path.join(tmp, info[0]!.filename);
  consumer = path.join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tgz], { cwd: consumer, env, maxBuffer: 64 << 20 });
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the build, its types, templates, schema and the demo fixtures, and no TypeScript sources or tests', () => {
    for (const f of ['bin/privacy-audit.js', 'dist/cli.mjs', 'dist/worker.mjs', 'dist/index.mjs', 'dist/matchers.mjs', 'dist/vitest.mjs', 'templates/report.hbs', 'schema/config.schema.json', 'fixtures/support-desk/privacy-audit.yml', 'fixtures/support-desk/models/before/onnx/model.onnx', 'fixtures/support-desk/data/forget.jsonl'])
      expect(tgzFiles, f).toContain(f);
    // Every file `exports` names is in it.
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (sub.includes('*')) continue;
      for (const t of typeof target === 'string' ? [target] : [target.types, target.default]) expect(tgzFiles, `${sub} → ${t}`).toContain(t.replace(/^\.\//, ''));
    }
    expect(tgzFiles.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(tgzFiles.filter((f) => f.startsWith('test/') || f.endsWith('.py'))).toEqual([]);
    // The packaged bin never needs tsx: it is a dev dependency only.
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(existsSync(path.join(consumer, 'node_modules/privacy-audit/src/cli.ts'))).toBe(false);
  });

  it('`npx privacy-audit init` then `run` on a copied fixture gives a verdict and every output', async () => {
    const installed = path.join(consumer, 'node_modules/privacy-audit/fixtures/support-desk');
    const project = path.join(consumer, 'project');
    // A small audit (the released model, 7 deleted people, 16 never trained on) so that this stays quick.
    cpSync(path.join(installed, 'models/before'), path.join(project, 'models/before'), { recursive: true });
    const lines = (f: string) => readFileSync(path.join(installed, 'data', f), 'utf8').trim().split('\n');
    const forget = lines('forget.jsonl').slice(0, 12);
    const ids = new Set(forget.map((l) => (JSON.parse(l) as { id: string }).id));
    const members = [...forget, ...lines('members.jsonl').filter((l) => !ids.has((JSON.parse(l) as { id: string }).id)).slice(0, 30)];
    mkdirSync(path.join(project, 'data'));
    writeFileSync(path.join(project, 'data/members.jsonl'), `${members.join('\n')}\n`);
    writeFileSync(path.join(project, 'data/forget.jsonl'), `${forget.join('\n')}\n`);
    writeFileSync(path.join(project, 'data/holdout.jsonl'), `${lines('holdout.jsonl').slice(0, 24).join('\n')}\n`);
    const init = await npx(['init'], project);
    expect(init.stderr).toContain('wrote privacy-audit.yml: causal LM');
    expect(init.code).toBe(0);
    const yml = readFileSync(path.join(project, 'privacy-audit.yml'), 'utf8');
    expect(yml).toContain('before: hf:./models/before');
    expect(yml).toContain('holdout: ./data/holdout.jsonl');
    // The editor schema it points at is the installed package's.
    expect(yml).toContain('$schema=../node_modules/privacy-audit/schema/config.schema.json');
    const r = await npx(['run', '--workers', '1'], project);
    expect([0, 1, 4], r.stderr).toContain(r.code);
    expect(r.stderr).toMatch(/verdict: (PASS|FAIL|INCONCLUSIVE)/);
    const out = readdirSync(path.join(project, 'privacy-audit-report'));
    for (const f of ['report.html', 'result.json', 'junit.xml', 'summary.md']) expect(out).toContain(f);
    const result = JSON.parse(readFileSync(path.join(project, 'privacy-audit-report/result.json'), 'utf8')) as { verdict: string; tool: { version: string } };
    expect(result.tool.version).toBe(pkg.version);
    expect(r.code).toBe(({ pass: 0, fail: 1, inconclusive: 4 } as Record<string, number>)[result.verdict]);
  });

  it('the library and matchers import from the installed package by their export names', async () => {
    const script = `
      import * as lib from 'privacy-audit';
      import { matchers, gateTable } from 'privacy-audit/matchers';
      const r = JSON.parse((await import('node:fs')).readFileSync('project/privacy-audit-report/result.json', 'utf8'));
      const m = matchers.toPassPrivacyGates(r);
      const files = await lib.renderReport(r);
      console.log(JSON.stringify({ api: ['audit', 'evaluate', 'loadConfig', 'renderReport'].map((k) => typeof lib[k]), pass: m.pass, verdict: r.verdict, table: gateTable(r.gates).split('\\n')[0], html: files['report.html'].startsWith('<!doctype html>') }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer, env });
    const o = JSON.parse(stdout) as { api: string[]; pass: boolean; verdict: string; table: string; html: boolean };
    expect(o.api).toEqual(['function', 'function', 'function', 'function']);
    expect(o.pass).toBe(o.verdict === 'pass');
    expect(o.table).toMatch(/status\s+level\s+gate/);
    expect(o.html).toBe(true);
  });
});
