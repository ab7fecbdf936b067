/**
 * The command line. Exit codes: 0 every error-level gate passed; 1 a gate failed or was inconclusive
 * (never a silent pass); 2 usage, config or input error (a message, no stack trace); 3 runtime failure.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { attackIds, getAttack } from '../attacks/index.ts';
import { runAudit } from './audit/run.ts';
import { loadConfig } from './config/load.ts';
import { prepareTabularDemo } from './demo/tabular.ts';
import { InputError, isInputError } from './errors.ts';
import { evaluateObservations, evaluateScores } from './evaluate/index.ts';
import { writeOutputs } from './outputs.ts';
import { defaultWorkers } from './pool/index.ts';
import type { AuditResult } from './result/types.ts';
import { renderJson } from '../reports/json.ts';
import { fmtEstimate, pct } from '../reports/format.ts';
import { TOOL } from './version.ts';
import { verify } from './verify.ts';
import { CACHE_USAGE, cacheCommand } from './cache-cli.ts';
import { isWorkerDied } from './pool/index.ts';
import { writePdf } from './pdf.ts';
import { createProgress } from './progress.ts';

const USAGE = `Usage: privacy-audit <command> [options]

Commands:
  run [config.yml]        audit the models named in a config (default: ./privacy-audit.yml)
  demo                    audit the embedded support-desk demo models (fixtures/support-desk):
                          --scenario retrained (default: after = retrained without the deleted
                          people) or unlearning (after = gradient-ascent unlearning, next to the
                          retrained model as the gold standard); --scenario tabular: a
                          Purchase-100-like classifier trained here (before) and retrained without
                          the forget customers (after), audited with shadow models
  evaluate --scores F     metrics, intervals and gates for scores computed elsewhere (JSONL or CSV:
                          id, score, member[, model, subject]; higher score = more likely member)
  evaluate --observations F --attack lira|rmia [--offline] [--fixed-variance] [--gamma G] [--a A]
                          [--per-record]: LiRA or RMIA on shadow-model outputs computed elsewhere
                          (JSONL: model, id, confidence, member[, population])
  report result.json      re-render report.html, junit.xml and summary.md from a result.json
  verify FILE             check that a report.html or result.json is exactly what the tool wrote
                          (SHA-256 of the canonical result.json; exit 0 intact, 1 modified)
${CACHE_USAGE}

Options:
  --out DIR               output folder (run/demo: config's output.dir; report: the result's folder)
  --workers N             worker threads (default: config's workers, else min(cores, 4))
  --no-cache              recompute everything (the cache lives in <out>/.cache)
  --cache-dir DIR         keep the cache elsewhere (default: the config's cache.dir, else
                          <out>/.cache), e.g. shared by several configs on the same models; it
                          holds data derived from the training data: keep it private
  --bootstrap N           bootstrap iterations for intervals (default 1000)
  --seed N                seed for evaluate (run/demo take it from the config)
  --json                  evaluate: print result JSON on stdout and nothing else
  --pdf                   also print report.html to report.pdf (A4) with Debian's chromium
  --reveal                run/demo: real subject ids and unmasked PII in the outputs, for
                          authorised internal review (the report says so at the top)
  -h, --help              this help
  -v, --version           print the version

Exit codes: 0 pass, 1 a gate failed or was inconclusive, 2 usage/config/input error, 3 runtime failure.`;

const exitFor = (r: AuditResult): number => (r.verdict === 'pass' ? 0 : 1);

function printSummary(r: AuditResult, out?: string): void {
  const e = (s: string) => process.stderr.write(`${s}\n`);
  for (const f of r.findings.filter((x) => x.positive !== 'retain'))
    e(`  ${f.attack.padEnd(18)} ${f.model.padEnd(10)} ${f.positive} vs ${f.negative}: AUC ${fmtEstimate(f.auc)} (n ${f.n.positive}/${f.n.negative})`);
  for (const x of r.extraction.filter((x) => x.split !== 'retain'))
    e(`  ${x.attack.padEnd(18)} ${x.model.padEnd(10)} ${x.split}: ${x.hits}/${x.trials} hits, ${pct(x.rate)}; subjects leaked ${x.subjects.leaked}/${x.subjects.total}`);
  for (const g of r.gates) e(`  ${g.level === 'warn' ? 'warn' : 'gate'} ${g.status.toUpperCase().padEnd(12)} ${g.id}: ${g.message}`);
  e(`verdict: ${r.verdict.toUpperCase()}${out ? ` (report: ${path.join(out, 'report.html')})` : ''}`);
}

async function runConfig(configPath: string, flags: Flags, argv: string[]): Promise<number> {
  const cfg = await loadConfig(configPath, {
    attackOptions: (id) => getAttack(id)?.options,
    knownAttacks: attackIds(),
    attackFamily: (id) => getAttack(id)?.meta.family,
  });
  const out = flags.out ? path.resolve(flags.out) : cfg.outputDir;
  const workers = flags.workers ?? cfg.workers ?? defaultWorkers();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`privacy-audit ${TOOL.version}: ${path.relative(process.cwd(), configPath) || configPath}, ${workers} worker(s)`);
  const bar = createProgress(log);
  const { result, run } = await runAudit(cfg, {
    workers,
    cacheDir: flags.cache ? (flags.cacheDir ? path.resolve(flags.cacheDir) : (cfg.cacheDir ?? path.join(out, '.cache'))) : undefined,
    bootstrap: flags.bootstrap,
    argv,
    reveal: flags.reveal,
    log,
    progress: bar.progress,
  }).finally(() => bar.stop());
  await writeOutputs(out, result, run);
  if (flags.pdf) await writePdf(path.join(out, 'report.html'), path.join(out, 'report.pdf'));
  log(`done in ${(run.durationMs / 1000).toFixed(1)} s (cache: ${run.cache.hits} hits, ${run.cache.misses} misses)`);
  printSummary(result, out);
  const failed = result.attacks.filter((a) => a.status === 'error');
  if (failed.length > 0) {
    // A runtime failure, reported after the partial results were written (and every finished batch
    // cached, so the next run resumes).
    log(`runtime failure in ${failed.map((a) => `${a.id} (${a.reason})`).join('; ')}`);
    return 3;
  }
  return exitFor(result);
}

interface Flags {
  pdf: boolean;
  reveal: boolean;
  out?: string;
  cacheDir?: string;
  workers?: number;
  cache: boolean;
  bootstrap?: number;
  seed: number;
  json: boolean;
  scores?: string;
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`--${name} expects a positive integer, got "${v}"`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        workers: { type: 'string' },
        'no-cache': { type: 'boolean', default: false },
        'cache-dir': { type: 'string' },
        bootstrap: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        pdf: { type: 'boolean', default: false },
        reveal: { type: 'boolean', default: false },
        scores: { type: 'string' },
        observations: { type: 'string' },
        attack: { type: 'string' },
        offline: { type: 'boolean', default: false },
        'fixed-variance': { type: 'boolean', default: false },
        gamma: { type: 'string' },
        a: { type: 'string' },
        'per-record': { type: 'boolean', default: false },
        scenario: { type: 'string', default: 'retrained' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
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
    if (!Number.isInteger(seed)) throw new InputError(`--seed expects an integer, got "${values.seed}"`);
    const flags: Flags = {
      out: values.out,
      cacheDir: values['cache-dir'],
      workers: positiveInt('workers', values.workers),
      cache: !values['no-cache'],
      bootstrap: positiveInt('bootstrap', values.bootstrap),
      seed,
      json: values.json,
      pdf: values.pdf,
      reveal: values.reveal,
      scores: values.scores,
    };
    const cmdline = ['privacy-audit', ...argv];
    switch (command) {
      case 'run':
        return await runConfig(path.resolve(rest[0] ?? 'privacy-audit.yml'), flags, cmdline);
      case 'demo': {
        const files: Record<string, string> = { retrained: 'privacy-audit.yml', unlearning: 'unlearning.yml' };
        if (values.scenario === 'tabular') {
          const out = path.resolve(flags.out ?? 'privacy-audit-report');
          const config = await prepareTabularDemo(path.join(out, 'demo-inputs'), flags.workers ?? defaultWorkers(), (s) => process.stderr.write(`${s}\n`));
          return await runConfig(config, { ...flags, out }, cmdline);
        }
        const file = files[values.scenario];
        if (!file) throw new InputError(`--scenario expects one of ${[...Object.keys(files), 'tabular'].join(', ')}, got "${values.scenario}"`);
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
          result = await evaluateScores(path.resolve(flags.scores), { seed: flags.seed, bootstrap: flags.bootstrap });
        } else throw new InputError('evaluate needs --scores <file.jsonl|file.csv> or --observations <file.jsonl> --attack lira|rmia');
        if (flags.out) await writeOutputs(path.resolve(flags.out), result);
        if (flags.pdf && flags.out) await writePdf(path.join(path.resolve(flags.out), 'report.html'), path.join(path.resolve(flags.out), 'report.pdf'));
        if (flags.json) process.stdout.write(renderJson(result));
        else printSummary(result, flags.out);
        return exitFor(result);
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
        if (result?.schemaVersion !== 1) throw new InputError('not a privacy-audit result (schemaVersion 1 expected)', { file, field: 'schemaVersion' });
        let run;
        try {
          run = JSON.parse(await readFile(path.join(path.dirname(file), 'run.json'), 'utf8'));
        } catch {
          run = undefined; // timings are optional: the report renders without them
        }
        const out = path.resolve(flags.out ?? path.dirname(file));
        await writeOutputs(out, result, run);
        if (flags.pdf) await writePdf(path.join(out, 'report.html'), path.join(out, 'report.pdf'));
        printSummary(result, out);
        return exitFor(result);
      }
      case 'verify': {
        const file = rest[0];
        if (!file) throw new InputError('verify needs the path of a report.html or result.json');
        const v = await verify(path.resolve(file));
        for (const c of v.checks) process.stderr.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}\n`);
        process.stdout.write(`${v.digest}\n`);
        process.stderr.write(v.ok ? 'verified: intact\n' : 'verification FAILED: the file was modified\n');
        return v.ok ? 0 : 1;
      }
      case 'cache':
        return await cacheCommand(rest, flags);
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return 2;
      default:
        throw new InputError(`unknown command "${command}" (expected run, demo, evaluate, report, verify or cache)`);
    }
  } catch (e) {
    if (isInputError(e)) {
      process.stderr.write(`privacy-audit: error: ${e.format()}\n`);
      return 2;
    }
    // A runtime failure: say what broke; the cache keeps every finished batch for the next run.
    if (isWorkerDied(e)) {
      process.stderr.write(`privacy-audit: runtime failure: ${e.message}\n`);
      return 3;
    }
    process.stderr.write(`privacy-audit: runtime failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 3;
  }
}
