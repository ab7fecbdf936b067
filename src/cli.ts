/**
 * The command line. Exit codes: 0 pass (every error gate passed); 1 fail (an error gate failed);
 * 4 inconclusive (no gate failed, but one could not decide: never a silent pass); 2 usage, config
 * or input error (a message, no stack trace); 3 runtime failure. `--inconclusive fail|pass` maps 4
 * to 1 or 0 for teams whose CI wants two values.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InputError, isInputError, isServedUnavailable } from './errors.ts';
import { PRESETS, type AssertConfig } from './assert/index.ts';
import { evaluateObservations, evaluateScores } from './evaluate/index.ts';
import { checkOutputDir, isOutputError, writeOutputs, writePdfOutput, type OutputName } from './outputs.ts';
import { keyFileIsShared, loadPseudonymKey } from './pseudonym.ts';
import { defaultWorkers } from './pool/index.ts';
import { SCHEMA_VERSION, type AuditResult } from './result/types.ts';
import { SCORES_SIDECAR, SIDECAR_FILES, SUBJECTS_SIDECAR, type SidecarFile } from './sidecars.ts';
import { renderJson } from '../reports/json.ts';
import { servedWarnings } from '../reports/html.ts';
import { fmtEstimate, pct, visible, visibleLine } from '../reports/format.ts';
import { TOOL } from './version.ts';
import { threadsProblem, workersProblem } from './config/limits.ts';
import { checkConsistency, verdictLine, verify } from './verify.ts';
import { CHROMIUM_PATH } from './pdf.ts';
import { existsSync } from 'node:fs';
import { keygen, loadPublicKey, loadSigner, parseDetachedSignature, SIGN_KEY_ENV, type Signer } from './sign.ts';
import { sha256 } from './cache.ts';
import { CACHE_MANIFEST } from './evidence.ts';
import { CACHE_USAGE, cacheCommand } from './cache-cli.ts';
import { canariesCommand } from './claims/dp/canaries-cli.ts';
import { isWorkerDied } from './pool/index.ts';
import { createProgress } from './progress.ts';
import { auditWithOutcome, loadConfig, poolShapeFor } from './api.ts';

const USAGE = `Usage: privacy-audit <command> [options]

Commands:
  init [MODEL|URL]        write a commented privacy-audit.yml here for the model found (a folder
                          with config.json + onnx/: causal LM; an .onnx file or tfjs model.json:
                          classifier; http(s)://host/v1#model-id: served model) and the data files
                          found (members, forget, holdout, population), placeholders for the rest;
                          validated; an existing file is kept unless --force
  run [config.yml]        audit the models named in a config (default: ./privacy-audit.yml)
  demo                    audit the embedded support-desk demo models (fixtures/support-desk):
                          --scenario retrained (default: after = retrained without the deleted
                          people) or unlearning (after = gradient-ascent unlearning, next to the
                          retrained model as the gold standard); --scenario tabular: a
                          Purchase-100-like classifier trained here (before) and retrained without
                          the forget customers (after), audited with shadow models; --scenario api:
                          the support-desk models behind local vLLM-shaped OpenAI-compatible
                          servers, audited over HTTP only; --scenario synthetic: synthetic data
                          from a memorising and a private generator, audited side by side
                          (singling out, linkability, inference, DOMIAS, DCR); --scenario dp: one
                          DP claim (ε = 2, δ = 1e-4) on a model trained with DP-SGD and on the
                          same data trained without DP, each with 400 one-run audit canaries;
                          --scenario sisa: a SISA ensemble (3 shards × 3 slices) and a correct
                          and two faulty deletions of 50 customers, checked on their training
                          manifests and by attacks (fixtures/sisa)
  evaluate --scores F     metrics, intervals and gates for scores computed elsewhere (JSONL or CSV:
                          id, score, member[, model, subject]; higher score = more likely member).
                          With a split column (forget, retain, holdout) and model roles (before,
                          after, retrained): the same comparisons and gates as run (--preset P)
  evaluate --observations F --attack lira|rmia [--offline] [--fixed-variance] [--gamma G] [--a A]
                          [--per-record]: LiRA or RMIA on shadow-model outputs computed elsewhere
                          (JSONL: model, id, confidence, member[, population])
  report result.json      re-render report.html, junit.xml and summary.md from a result.json
  verify FILE             check that a report.html or result.json is exactly what the tool wrote
                          (SHA-256 of the canonical result.json), that its verdict follows from its
                          gates and findings, and, when they are at hand, that its inputs and cache
                          entries are unchanged (exit 0 intact, 1 modified or inconsistent)
                          [--inputs DIR|CONFIG] [--cache-dir DIR] [--key PUBLIC.pem]
  keygen FILE             make an Ed25519 signing key: FILE (private, 0600) and FILE.pub
  completion bash|zsh|fish
                          print a shell completion script, e.g.
                          privacy-audit completion bash > ~/.local/share/bash-completion/completions/privacy-audit
${CACHE_USAGE}
  canaries make --count M --out DIR [--seed S] [--format F]
                          canaries for a one-run DP audit: DIR/dp-canaries.json (sealed manifest,
                          each canary included with probability 1/2) and DIR/included.jsonl (what
                          the trainer adds); prints the digest to publish before training

Options:
  --out DIR               output folder (run/demo: config's output.dir; report: the result's folder)
  --workers N             worker threads (default: config's workers, else auto: one for models of
                          64 MiB or more, else min(cores, 4) that fit in memory)
  --threads N             onnxruntime intra-op threads per worker (default: config's threads, else
                          the cores shared among the workers); results do not depend on it
  --no-cache              recompute everything (the cache lives in <out>/.cache)
  --shard i/N             run: compute shard i of N of the model work (0-based) into the cache, which
                          the shards share; no outputs (examples/ has CI and Kubernetes recipes)
  --merge                 run: every shard has finished on this cache: compute the statistics and
                          write the outputs, byte-identical to a run on one machine
  --dry-run               run: print the requests and tokens each served model (openai-compatible)
                          would be sent, without probing or sending anything; writes no output
  --cache-dir DIR         keep the cache elsewhere (default: the config's cache.dir, else
                          <out>/.cache), e.g. shared by several configs on the same models; it
                          holds data derived from the training data: keep it private
  --bootstrap N           bootstrap iterations for intervals (default 1000)
  --seed N                seed for evaluate (run/demo take it from the config)
  --pdf                   also print report.html to report.pdf (A4) with Debian's chromium
  --reveal                run/demo: real subject ids and unmasked PII in the outputs, for
                          authorised internal review (the report says so at the top)
  --force                 init: replace an existing privacy-audit.yml
  --inconclusive fail|pass
                          exit 1 or 0 instead of 4 when the verdict is inconclusive
  --preset P              evaluate with splits: privacy-audit:unlearning (default),
                          privacy-audit:anonymisation or none
  --sign-key FILE         sign result.json (result.json.sig) and report.html with an Ed25519
                          private key (PEM); default: the file named by $PRIVACY_AUDIT_SIGN_KEY
  --json                  print the command's result as JSON on stdout (human output stays on
                          stderr): run/demo and report the result.json, evaluate the result,
                          init/verify/keygen/cache/--dry-run/--shard what they found or did
  -h, --help              this help
  -v, --version           print the version

Environment:
  PRIVACY_AUDIT_PSEUDONYM_KEY   secret key of the subject pseudonyms (64 hex digits or base64 of 32+
                          bytes): the same pseudonyms in every folder; without it, a random key is
                          kept in <out>/.pseudonym-key (0600). Never written into an output.

Exit codes: 0 pass, 1 fail, 4 inconclusive, 2 usage/config/input error, 3 runtime failure.`;

/** The commands, for the unknown-command message and shell completion. */
const COMMANDS = ['init', 'run', 'demo', 'evaluate', 'report', 'verify', 'keygen', 'cache', 'canaries', 'completion'];

export const EXIT = { pass: 0, fail: 1, input: 2, runtime: 3, inconclusive: 4 } as const;

/** The verdict's exit code; `inconclusive` may be mapped to fail or pass by --inconclusive. */
const exitFor = (r: AuditResult, inconclusive: 'fail' | 'pass' | undefined): number =>
  r.verdict === 'pass' ? EXIT.pass : r.verdict === 'fail' ? EXIT.fail : inconclusive === 'fail' ? EXIT.fail : inconclusive === 'pass' ? EXIT.pass : EXIT.inconclusive;

function printSummary(r: AuditResult, out?: string): void {
  // One line per entry: a line break, escape sequence or bidi override from the data is shown, not obeyed.
  const e = (s: string) => process.stderr.write(`${visibleLine(s)}\n`);
  for (const f of r.findings.filter((x) => x.positive !== 'retain'))
    e(`  ${f.attack.padEnd(18)} ${f.model.padEnd(10)} ${f.positive} vs ${f.negative}: AUC ${fmtEstimate(f.auc)} (${f.people.positive}/${f.people.negative} ${f.unit === 'subject' ? 'people' : 'records'}, n ${f.n.positive}/${f.n.negative})`);
  for (const x of r.extraction.filter((x) => x.split !== 'retain'))
    e(`  ${x.attack.padEnd(18)} ${x.model.padEnd(10)} ${x.split}: people leaked ${x.subjects.leaked}/${x.subjects.total}, ${pct(x.rate)} (${x.hits}/${x.trials} prompts hit)`);
  for (const g of r.gates) e(`  ${g.level === 'warn' ? 'warn' : 'gate'} ${g.status.toUpperCase().padEnd(12)} ${g.id}: ${g.message}`);
  e(`verdict: ${r.verdict.toUpperCase()}${out ? ` (report: ${path.join(out, 'report.html')})` : ''}`);
}

/** `--shard i/N`: shard i (0-based) of N. */
function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 1024 || index >= count) throw new InputError(`--shard expects i/N with 0 <= i < N <= 1024 (e.g. --shard 0/4), got "${v}"`);
  return { index, count };
}

/** A config whose target is a released synthetic dataset: its own attacks, no model and no pool (src/audit/synthetic.ts). */
async function runSyntheticConfig(configPath: string, flags: Flags, argv: string[]): Promise<number> {
  const unsupported = [flags.shard ? '--shard' : '', flags.merge ? '--merge' : '', flags.dryRun ? '--dry-run' : ''].filter(Boolean);
  if (unsupported.length) throw new InputError(`${unsupported.join(' and ')}: not for a synthetic-data audit (it queries no model)`);
  const { loadSyntheticConfig } = await import('./config/synthetic.ts');
  const { getSyntheticAttack, SYNTHETIC_ATTACKS } = await import('../attacks/index.ts');
  const { runSyntheticAudit, defaultSyntheticAttacks } = await import('./audit/synthetic.ts');
  const cfg = await loadSyntheticConfig(configPath, {
    attackOptions: (id) => getSyntheticAttack(id)?.options,
    knownAttacks: SYNTHETIC_ATTACKS.map((a) => a.meta.id),
    defaults: defaultSyntheticAttacks,
  });
  const out = flags.out ? path.resolve(flags.out) : cfg.outputDir;
  await checkOutputDir(out);
  const signer = signerFor(flags);
  if (flags.pdf) checkChromium();
  const log = (s: string) => process.stderr.write(`${visible(s)}\n`);
  log(`privacy-audit ${TOOL.version}: ${path.relative(process.cwd(), configPath) || configPath} (synthetic data)`);
  const pseudonymKey = flags.reveal ? undefined : await loadPseudonymKey(out);
  if (pseudonymKey?.from === 'created') log(`pseudonym key created: ${pseudonymKey.file} (keep it private; see README, "Pseudonyms")`);
  const { result, run } = await runSyntheticAudit(cfg, { reveal: flags.reveal, ...(pseudonymKey ? { pseudonymKey: pseudonymKey.key } : {}), bootstrap: flags.bootstrap, argv, log });
  await writeOutputs(out, result, { run, ...(signer ? { signer } : {}) });
  if (flags.pdf) await writePdfOutput(out);
  for (const r of result.synthetic?.risks ?? [])
    log(`  ${r.attack.padEnd(20)} ${r.variant}: attack ${r.attackRate.k}/${r.attackRate.n}, control ${r.controlRate.k}/${r.controlRate.n}, residual risk ${r.residual ? `${r.residual.value.toFixed(3)} [${r.residual.lo.toFixed(3)}, ${r.residual.hi.toFixed(3)}]` : 'undefined'}`);
  log(`done in ${(run.durationMs / 1000).toFixed(1)} s`);
  printSummary(result, out);
  return exitFor(result, flags.inconclusive);
}

async function runConfig(configPath: string, flags: Flags, argv: string[]): Promise<number> {
  const { isSyntheticConfig } = await import('./config/synthetic.ts');
  if (await isSyntheticConfig(configPath)) return runSyntheticConfig(configPath, flags, argv);
  const modes = [flags.shard ? '--shard' : '', flags.merge ? '--merge' : '', flags.dryRun ? '--dry-run' : ''].filter(Boolean);
  if (modes.length > 1) throw new InputError(`${modes.join(' and ')} cannot be combined`);
  const cfg = await loadConfig(configPath);
  if (flags.dryRun) {
    // Nothing is probed or sent, and no output is written: the plan goes to stdout.
    const { planAudit } = await import('./audit/run.ts');
    const plan = await planAudit(cfg, { log: (s) => process.stderr.write(`${visible(s)}\n`) });
    const roles = Object.entries(plan);
    if (flags.json) process.stdout.write(`${JSON.stringify({ dryRun: true, sent: plan }, null, 2)}\n`);
    (flags.json ? process.stderr : process.stdout).write(
      roles.length === 0
        ? 'dry run: no served model in this config; nothing would be sent over HTTP\n'
        : `dry run: nothing was sent. A cold run (no cache) would send:\n${roles
            .map(([role, p]) => `  ${role}: ${p.requests} requests, ${p.tokens} tokens (${p.scoring} scoring, ${p.generation} generation; tokens = prompt + at most the continuation asked for)`)
            .join('\n')}\n`,
    );
    return 0;
  }
  const out = flags.out ? path.resolve(flags.out) : cfg.outputDir;
  // Before any model work: a folder that cannot take the outputs, a bad key or no chromium is exit 2
  // now (the library checks the folder and the key again, cheaply, before it starts).
  await checkOutputDir(out);
  const signKey = flags.signKey ?? (process.env[SIGN_KEY_ENV] || undefined);
  if (signKey) signerFor(flags);
  if (flags.pdf) checkChromium();
  const log = (s: string) => process.stderr.write(`${visible(s)}\n`);
  const { workers, threads } = await poolShapeFor(cfg, { workers: flags.workers, threads: flags.threads }, log);
  log(`privacy-audit ${TOOL.version}: ${path.relative(process.cwd(), configPath) || configPath}, ${workers} worker(s)`);
  if (flags.shard) {
    // A shard writes model work into the cache and nothing else: no outputs, no pseudonym key.
    const cacheDir = flags.cache ? (flags.cacheDir ? path.resolve(flags.cacheDir) : (cfg.cacheDir ?? path.join(out, '.cache'))) : undefined;
    const { index, count } = flags.shard;
    const { runShard } = await import('./audit/run.ts');
    const bar = createProgress(log);
    const c = await runShard(cfg, { workers, threads, cacheDir, log, progress: bar.progress, reveal: true }, flags.shard).finally(() => bar.stop());
    log(
      `shard ${index}/${count} finished: ${c.computed} batch(es) of model work computed, ${c.fromCache} already in the cache, ${c.others} left to the other shards; ` +
        `when all ${count} have finished on this cache (${cacheDir}), run again with --merge for the outputs`,
    );
    if (flags.json) process.stdout.write(`${JSON.stringify({ shard: { index, count }, cacheDir, ...c }, null, 2)}\n`);
    return 0;
  }
  const bar = createProgress(log);
  const { result, run, cacheDir } = await auditWithOutcome(cfg, {
    out,
    workers,
    cache: flags.cache,
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.bootstrap !== undefined ? { bootstrap: flags.bootstrap } : {}),
    threads,
    reveal: flags.reveal,
    ...(signKey ? { signKey } : {}),
    merge: flags.merge ?? false,
    argv,
    onEvent: (e) => (e.type === 'log' ? log(e.message) : bar.progress(e)),
  }).finally(() => bar.stop());
  try {
    if (flags.pdf) await writePdfOutput(out);
  } catch (e) {
    if (isOutputError(e) && cacheDir) e.message += `; the finished model work is cached in ${cacheDir}, so a rerun resumes`;
    throw e;
  }
  log(`done in ${(run.durationMs / 1000).toFixed(1)} s (cache: ${run.cache.hits} hits, ${run.cache.misses} misses)`);
  for (const [role, s] of Object.entries(run.served ?? {})) log(`${role}: ${s.requests} requests sent (${s.attempts - s.requests} retries), ${s.promptTokens + s.completionTokens} tokens`);
  for (const w of servedWarnings(result, run)) log(`warning: ${w}`);
  printSummary(result, out);
  if (flags.json) process.stdout.write(renderJson(result));
  const failed = result.attacks.filter((a) => a.status === 'error');
  if (failed.length > 0) {
    // A runtime failure, reported after the partial results were written (and every finished batch
    // cached, so the next run resumes).
    log(`runtime failure in ${failed.map((a) => `${a.id} (${a.reason})`).join('; ')}`);
    return 3;
  }
  return exitFor(result, flags.inconclusive);
}

interface Flags {
  dryRun?: boolean;
  shard?: { index: number; count: number };
  merge?: boolean;
  inconclusive?: 'fail' | 'pass';
  preset?: AssertConfig['preset'];
  pdf: boolean;
  signKey?: string;
  reveal: boolean;
  out?: string;
  cacheDir?: string;
  workers?: number;
  threads?: number;
  cache: boolean;
  bootstrap?: number;
  seed: number;
  json: boolean;
  scores?: string;
}

/** The signing key from --sign-key or $PRIVACY_AUDIT_SIGN_KEY, loaded (and checked) up front. */
function signerFor(flags: Flags): Signer | undefined {
  const file = flags.signKey ?? (process.env[SIGN_KEY_ENV] || undefined);
  return file ? loadSigner(path.resolve(file)) : undefined;
}

function checkChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) throw new InputError(`--pdf needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

function positiveInt(name: string, v: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`--${name} expects a positive integer, got "${v}"`);
  if (n > max) throw new InputError(`--${name} expects a positive integer up to ${max}, got ${v}`);
  return n;
}

/** Bootstrap resamples: 1000 is the default; beyond this a run takes hours for no visible gain. */
const MAX_BOOTSTRAP = 100_000;

/** The command line's options (parseArgs), also listed by shell completion. */
const OPTIONS = {
  out: { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
  'cache-dir': { type: 'string' },
  bootstrap: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean', default: false },
  pdf: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  shard: { type: 'string' },
  merge: { type: 'boolean', default: false },
  reveal: { type: 'boolean', default: false },
  inconclusive: { type: 'string' },
  preset: { type: 'string' },
  'sign-key': { type: 'string' },
  key: { type: 'string' },
  inputs: { type: 'string' },
  scores: { type: 'string' },
  observations: { type: 'string' },
  attack: { type: 'string' },
  offline: { type: 'boolean', default: false },
  'fixed-variance': { type: 'boolean', default: false },
  gamma: { type: 'string' },
  a: { type: 'string' },
  'per-record': { type: 'boolean', default: false },
  scenario: { type: 'string', default: 'retrained' },
  count: { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
  } catch (e) {
    process.stderr.write(`privacy-audit: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) return (process.stdout.write(`${USAGE}\n`), 0);
  if (values.version) return (process.stdout.write(`${TOOL.version}\n`), 0);
  const [command, ...rest] = positionals;
  try {
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InputError(`--seed expects an integer from 0 to 2^32 − 1, got "${values.seed}"`);
    const workers = positiveInt('workers', values.workers);
    const tooMany = workers === undefined ? undefined : workersProblem(workers);
    if (tooMany) throw new InputError(`--workers: ${tooMany}`);
    const threads = positiveInt('threads', values.threads);
    const tooManyThreads = threads === undefined ? undefined : threadsProblem(threads);
    if (tooManyThreads) throw new InputError(`--threads: ${tooManyThreads}`);
    if (values.inconclusive !== undefined && values.inconclusive !== 'fail' && values.inconclusive !== 'pass')
      throw new InputError(`--inconclusive expects fail or pass, got "${values.inconclusive}"`);
    const presets = Object.keys(PRESETS);
    if (values.preset !== undefined && !presets.includes(values.preset)) throw new InputError(`--preset expects one of ${presets.join(', ')}, got "${values.preset}"`);
    const flags: Flags = {
      ...(values.inconclusive ? { inconclusive: values.inconclusive as 'fail' | 'pass' } : {}),
      ...(values.preset ? { preset: values.preset as AssertConfig['preset'] } : {}),
      out: values.out,
      cacheDir: values['cache-dir'],
      workers,
      ...(threads !== undefined ? { threads } : {}),
      cache: !values['no-cache'],
      bootstrap: positiveInt('bootstrap', values.bootstrap, MAX_BOOTSTRAP),
      seed,
      json: values.json,
      pdf: values.pdf,
      dryRun: values['dry-run'],
      ...(values.shard !== undefined ? { shard: parseShard(values.shard) } : {}),
      merge: values.merge,
      reveal: values.reveal,
      scores: values.scores,
      ...(values['sign-key'] !== undefined ? { signKey: values['sign-key'] } : {}),
    };
    const cmdline = ['privacy-audit', ...argv];
    switch (command) {
      case 'init': {
        const { init } = await import('./init.ts');
        const r = await init({ cwd: process.cwd(), ...(rest[0] !== undefined ? { target: rest[0] } : {}), force: values.force });
        const where = path.relative(process.cwd(), r.file) || r.file;
        const say = (s: string) => process.stderr.write(`${visible(s)}\n`);
        say(`wrote ${where}: ${r.kind === 'causal-lm' ? 'causal LM' : r.kind}; models ${Object.entries(r.models).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        say(`data: ${(['members', 'forget', 'holdout', 'population'] as const).map((k) => `${k} ${r.data[k] ?? (r.placeholders.includes(`data.${k}`) ? 'PLACEHOLDER' : '-')}`).join(', ')}`);
        say(r.valid ? `the config loads; next: privacy-audit run ${where}` : `fill in ${r.placeholders.join(', ')} (marked CHANGE-ME), then: privacy-audit run ${where}`);
        if (values.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return 0;
      }
      case 'run':
        return await runConfig(path.resolve(rest[0] ?? 'privacy-audit.yml'), flags, cmdline);
      case 'demo': {
        const files: Record<string, string> = { retrained: 'privacy-audit.yml', unlearning: 'unlearning.yml' };
        if (values.scenario === 'tabular') {
          const out = path.resolve(flags.out ?? 'privacy-audit-report');
          await checkOutputDir(out);
          const { prepareTabularDemo } = await import('./demo/tabular.ts');
          const config = await prepareTabularDemo(path.join(out, 'demo-inputs'), flags.workers ?? defaultWorkers(), (s) => process.stderr.write(`${s}\n`));
          return await runConfig(config, { ...flags, out }, cmdline);
        }
        if (values.scenario === 'synthetic') {
          // Two generators trained on the same people, audited side by side: one memorises, one is private.
          const out = path.resolve(flags.out ?? 'privacy-audit-report');
          await checkOutputDir(out);
          const { syntheticDemo } = await import('./demo/synthetic.ts');
          const configs = await syntheticDemo(path.join(out, 'demo-inputs'), (s) => process.stderr.write(`${s}\n`));
          const codes: number[] = [];
          for (const [name, config] of configs) {
            process.stderr.write(`\n== ${name} generator ==\n`);
            codes.push(await runConfig(config, { ...flags, out: path.join(out, name) }, cmdline));
          }
          // The demo's verdict is the memorising generator's (the one a release gate would stop).
          return codes[0]!;
        }
        if (values.scenario === 'api') {
          const out = path.resolve(flags.out ?? 'privacy-audit-report');
          await checkOutputDir(out);
          const { startApiDemo } = await import('./demo/api.ts');
          const demo = await startApiDemo(path.join(out, 'demo-inputs'), (s) => process.stderr.write(`${s}\n`));
          try {
            return await runConfig(demo.config, { ...flags, out }, cmdline);
          } finally {
            await demo.close();
          }
        }
        if (values.scenario === 'dp') {
          // The same DP claim on a model trained with DP-SGD and on one trained without: two reports.
          const out = path.resolve(flags.out ?? 'privacy-audit-report');
          const codes: number[] = [];
          for (const name of ['dp-sgd', 'dp-none']) {
            const config = fileURLToPath(new URL(`../fixtures/support-desk/${name}.yml`, import.meta.url));
            process.stderr.write(`demo dp: ${name} → ${path.join(out, name)}\n`);
            codes.push(await runConfig(config, { ...flags, out: path.join(out, name) }, cmdline));
          }
          // The worse of the two: fail (1) before inconclusive (4) before pass (0); any other code as is.
          return codes.find((c) => c !== 0 && c !== 1 && c !== 4) ?? (codes.includes(1) ? 1 : codes.includes(4) ? 4 : 0);
        }
        if (values.scenario === 'sisa') {
          // A SISA ensemble and three deletions of the same people: one correct, two faulty (fixtures/sisa).
          const out = path.resolve(flags.out ?? 'privacy-audit-report');
          const codes: number[] = [];
          for (const [name, file] of [['correct', 'privacy-audit.yml'], ['wrong-checkpoint', 'wrong-checkpoint.yml'], ['record-left', 'record-left.yml']] as const) {
            const config = fileURLToPath(new URL(`../fixtures/sisa/${file}`, import.meta.url));
            process.stderr.write(`\ndemo sisa: ${name} deletion → ${path.join(out, name)}\n`);
            codes.push(await runConfig(config, { ...flags, out: path.join(out, name) }, cmdline));
          }
          // The worse of the three, as for dp: fail (1) before inconclusive (4) before pass (0); any other code as is.
          return codes.find((c) => c !== 0 && c !== 1 && c !== 4) ?? (codes.includes(1) ? 1 : codes.includes(4) ? 4 : 0);
        }
        const file = files[values.scenario];
        if (!file) throw new InputError(`--scenario expects one of ${[...Object.keys(files), 'tabular', 'api', 'synthetic', 'dp', 'sisa'].join(', ')}, got "${values.scenario}"`);
        const config = fileURLToPath(new URL(`../fixtures/support-desk/${file}`, import.meta.url));
        return await runConfig(config, { ...flags, out: flags.out ?? 'privacy-audit-report' }, cmdline);
      }
      case 'evaluate': {
        const num = (name: string, v: string | undefined) => {
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isFinite(n)) throw new InputError(`--${name} expects a number, got "${v}"`);
          return n;
        };
        const out = flags.out ? path.resolve(flags.out) : undefined;
        if (out) await checkOutputDir(out);
        const signer = signerFor(flags);
        if (flags.pdf && out) checkChromium();
        let result: AuditResult;
        if (values.observations) {
          if (values.attack !== 'lira' && values.attack !== 'rmia') throw new InputError(`--observations needs --attack lira or --attack rmia${values.attack ? `, got "${values.attack}"` : ''}`);
          result = await evaluateObservations(path.resolve(values.observations), {
            attack: values.attack,
            offline: values.offline,
            fixedVariance: values['fixed-variance'],
            gamma: num('gamma', values.gamma),
            a: num('a', values.a),
            perRecord: values['per-record'],
            seed: flags.seed,
            bootstrap: flags.bootstrap,
          });
        } else if (flags.scores) {
          result = await evaluateScores(path.resolve(flags.scores), {
            seed: flags.seed,
            bootstrap: flags.bootstrap,
            ...(flags.preset ? { assert: { preset: flags.preset, assertions: {} } } : {}),
          });
        } else throw new InputError('evaluate needs --scores <file.jsonl|file.csv> or --observations <file.jsonl> --attack lira|rmia');
        if (out) await writeOutputs(out, result, signer ? { signer } : {});
        if (flags.pdf && out) await writePdfOutput(out);
        if (flags.json) process.stdout.write(renderJson(result));
        else printSummary(result, flags.out);
        return exitFor(result, flags.inconclusive);
      }
      case 'report': {
        const file = rest[0];
        if (!file) throw new InputError('report needs the path of a result.json');
        let result: AuditResult;
        try {
          result = JSON.parse(await readFile(file, 'utf8')) as AuditResult;
        } catch (e) {
          throw new InputError(`cannot read a result from it: ${(e as Error).message}`, { file });
        }
        if (result?.schemaVersion !== SCHEMA_VERSION || !Array.isArray(result.gates)) throw new InputError(`not a privacy-audit result of this version (schemaVersion ${SCHEMA_VERSION} expected, found ${JSON.stringify(result?.schemaVersion)})`, { file, field: 'schemaVersion' });
        // A result whose verdict does not follow from its own gates (or its gates from its findings)
        // was edited: rendering it would give the edit the look of evidence.
        const broken = checkConsistency(result).find((c) => c.status === 'fail');
        if (broken) throw new InputError(`inconsistent result: ${broken.what.replace(/^the /, '')} is false (${broken.detail}); refusing to render it`, { file, field: 'verdict' });
        const src = path.dirname(path.resolve(file));
        const out = path.resolve(flags.out ?? src);
        await checkOutputDir(out);
        const signer = signerFor(flags);
        if (flags.pdf) checkChromium();
        const digest = sha256(renderJson(result));
        const beside = async (name: string) => readFile(path.join(src, name), 'utf8').catch(() => undefined);
        // run.json and cache-manifest.txt are carried over only when they belong to this result.
        let run;
        try {
          run = JSON.parse((await beside('run.json')) ?? 'null') ?? undefined;
        } catch {
          run = undefined; // timings are optional: the report renders without them
        }
        if (run?.runId !== undefined && run.runId !== digest) {
          process.stderr.write(`privacy-audit: warning: ${path.join(src, 'run.json')} is another run's (run id ${run.runId}); rendering without it\n`);
          run = undefined;
        }
        const manifest = await beside(CACHE_MANIFEST);
        const cacheManifest = manifest !== undefined && sha256(manifest) === result.evidence?.cache?.sha256 ? manifest : undefined;
        // The sidecars are not re-rendered (they hold what result.json only summarises): carried over
        // when they are the ones the result names, else left out with a warning.
        const sidecars: SidecarFile[] = [];
        for (const ref of result.sidecars ?? []) {
          const bytes = SIDECAR_FILES.includes(ref.file) ? await readFile(path.join(src, ref.file)).catch(() => undefined) : undefined;
          if (bytes !== undefined && sha256(bytes) === ref.sha256) sidecars.push({ ref, bytes });
          else process.stderr.write(`privacy-audit: warning: ${path.join(src, ref.file)} is ${bytes === undefined ? 'missing' : 'not the file the result names (SHA-256 differs)'}; the re-rendered outputs lack it (verify reports it not checked)\n`);
        }
        // A signature over these very bytes stays valid; without a key it is carried over.
        const oldSig = parseDetachedSignature((await beside('result.json.sig')) ?? '');
        const resultSignature = oldSig?.sha256 === digest ? await beside('result.json.sig') : undefined;
        // Re-rendering in place: the files read above are this render's sources; they are replaced
        // atomically instead of being removed first, so a failed write cannot lose them.
        const keep = new Set<OutputName>(out === src ? ['result.json', 'run.json', CACHE_MANIFEST, 'result.json.sig', SCORES_SIDECAR, SUBJECTS_SIDECAR] : []);
        await writeOutputs(out, result, { run, keep, sidecars, ...(cacheManifest !== undefined ? { cacheManifest } : {}), ...(signer ? { signer } : resultSignature ? { resultSignature } : {}) });
        if (flags.pdf) await writePdfOutput(out);
        printSummary(result, out);
        if (flags.json) process.stdout.write(renderJson(result));
        return exitFor(result, flags.inconclusive);
      }
      case 'verify': {
        const file = rest[0];
        if (!file) throw new InputError('verify needs the path of a report.html or result.json');
        const v = await verify(path.resolve(file), {
          ...(values.inputs !== undefined ? { inputs: path.resolve(values.inputs) } : {}),
          ...(flags.cacheDir !== undefined ? { cacheDir: path.resolve(flags.cacheDir) } : {}),
          ...(values.key !== undefined ? { key: loadPublicKey(path.resolve(values.key)) } : {}),
        });
        const mark = { ok: 'ok  ', fail: 'FAIL', 'not checked': '--  ' } as const;
        for (const c of v.checks) process.stderr.write(`  ${mark[c.status]} ${c.what}${c.detail ? ` (${c.status === 'not checked' ? 'not checked: ' : ''}${c.detail})` : ''}\n`);
        process.stdout.write(flags.json ? `${JSON.stringify({ ok: v.ok, digest: v.digest, checks: v.checks }, null, 2)}\n` : `${v.digest}\n`);
        process.stderr.write(`${verdictLine(v)}\n`);
        return v.ok ? 0 : 1;
      }
      case 'keygen': {
        const file = rest[0];
        if (!file) throw new InputError('keygen needs the path of the private key file to write (FILE; the public key goes to FILE.pub)');
        const k = keygen(path.resolve(file));
        process.stderr.write(`wrote ${k.privateFile} (private, 0600: keep it secret) and ${k.publicFile} (public: give it to whoever verifies); key id ${k.keyId}\n`);
        if (flags.json) process.stdout.write(`${JSON.stringify({ privateFile: k.privateFile, publicFile: k.publicFile, keyId: k.keyId }, null, 2)}\n`);
        return 0;
      }
      case 'cache':
        return await cacheCommand(rest, flags);
      case 'completion': {
        const { completionScript } = await import('./completion.ts');
        process.stdout.write(completionScript(rest[0], { commands: COMMANDS, flags: Object.keys(OPTIONS) }));
        return 0;
      }
      case 'canaries':
        return await canariesCommand(rest, { out: values.out, seed, count: values.count, format: values.format });
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return 2;
      default:
        throw new InputError(`unknown command "${command}" (expected ${COMMANDS.join(', ')})`);
    }
  } catch (e) {
    if (isInputError(e)) {
      process.stderr.write(`privacy-audit: error: ${visible(e.format())}\n`);
      return 2;
    }
    // An output that could not be written (disk full, permission denied): one line naming the file.
    if (isOutputError(e)) {
      process.stderr.write(`privacy-audit: runtime failure: ${e.message}\n`);
      return 3;
    }
    // A runtime failure: say what broke; the cache keeps every finished batch for the next run.
    if (isWorkerDied(e) || isServedUnavailable(e)) {
      process.stderr.write(`privacy-audit: runtime failure: ${visible(e.message)}\n`);
      return 3;
    }
    process.stderr.write(`privacy-audit: runtime failure: ${visible(e instanceof Error ? (e.stack ?? e.message) : String(e))}\n`);
    return 3;
  }
}
