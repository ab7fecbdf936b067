/**
 * `privacy-audit verify report.html|result.json`: is this the evidence the tool wrote, and does it
 * still hold?
 * - integrity: report.html must be exactly what its embedded result (and run info) render to, and
 *   show that result's SHA-256; result.json must be in canonical form. The other outputs beside it
 *   (result.json, junit.xml, summary.md, run.json) must belong to the same run (same run id), and
 *   the sidecars it names (scores.jsonl.gz, subjects.csv) must have the SHA-256 it records.
 * - consistency: the verdict must follow from the gates, and the gates from the findings (re-run
 *   with the config's assertions). A result edited from fail to pass is "inconsistent".
 * - inputs: every input the result names (config, data files, every model file) is hashed again when
 *   it is at hand (`--inputs DIR`, else found next to the report) and must match; a file that is not
 *   at hand is "not checked", never "ok". The cache entries the result rests on are checked against
 *   cache-manifest.txt and the cache (`--cache-dir`, else <folder>/.cache) the same way.
 * - signature: with `--key PUBLIC.pem`, the Ed25519 signature (report.html's embedded one,
 *   result.json.sig) must verify; without a key, a signature present is reported, not trusted.
 */
import { syntheticGates } from './assert/synthetic.ts';
import { syntheticAssertSchema, type SyntheticAssertConfig } from './assert/synthetic-names.ts';
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from '../reports/html.ts';
import { renderJson, resultDigest } from '../reports/json.ts';
import { renderJunit } from '../reports/junit.ts';
import { renderMarkdown } from '../reports/markdown.ts';
import { assertSchema, type AssertConfig } from './assert/index.ts';
import { defaultGates, verdictOf, type AttackStatus, type GateResult } from './audit/gates.ts';
import { dpGateStatuses } from './claims/dp/claim.ts';
import { sisaGates } from './claims/sisa/checks.ts';
import { cacheSecret, checkEntry, entryPath, SECRET_FILE, sha256 } from './cache.ts';
import { InputError } from './errors.ts';
import { CACHE_MANIFEST, parseCacheManifest, valueDigest } from './evidence.ts';
import { SCHEMA_VERSION, type AuditResult, type RunInfo } from './result/types.ts';
import { SIDECAR_FILES } from './sidecars.ts';
import { keyIdOf, parseDetachedSignature, splitHtmlSignature, verifySignature } from './sign.ts';

export type CheckKind = 'integrity' | 'consistency' | 'inputs' | 'signature';
export type CheckStatus = 'ok' | 'fail' | 'not checked';

export interface Check {
  kind: CheckKind;
  what: string;
  status: CheckStatus;
  /** Why it failed or was not checked. */
  detail?: string;
}

export interface Verification {
  /** No check failed (checks not made do not fail). */
  ok: boolean;
  /** SHA-256 of result.json (the run id). */
  digest: string;
  checks: Check[];
}

export interface VerifyOptions {
  /** The folder the result's input paths are relative to (the config's folder), or the config file. */
  inputs?: string;
  /** The cache the run used, when not <folder>/.cache. */
  cacheDir?: string;
  /** Public key for the signatures. */
  key?: KeyObject;
  /**
   * The gates the result's own findings give, to compare with its recorded gates; undefined when they
   * cannot be recomputed. The default re-runs `defaultGates` for `run` results.
   */
  recomputeGates?: (r: AuditResult) => GateResult[] | undefined;
  /** Reads one cache entry's value without changing the cache; undefined when absent. */
  readCacheEntry?: (dir: string, key: string) => Promise<unknown>;
}

const check = (kind: CheckKind, what: string, ok: boolean, detail?: string): Check => ({ kind, what, status: ok ? 'ok' : 'fail', ...(ok || !detail ? {} : { detail }) });
const notChecked = (kind: CheckKind, what: string, detail: string): Check => ({ kind, what, status: 'not checked', detail });

// consistency -----------------------------------------------------------------------------------

/** The gates of a `run` result re-evaluated from its findings with its config's `assert` block. */
export function defaultRecomputeGates(r: AuditResult): GateResult[] | undefined {
  if (r.kind !== 'run') return undefined; // `evaluate` gates its findings by its own rule
  const raw = (r.config as { assert?: unknown } | null | undefined)?.assert;
  if (r.synthetic) {
    // A synthetic-data audit: its own gates, from its risks, diagnostics and findings.
    const parsed = raw === undefined ? undefined : syntheticAssertSchema.safeParse(raw);
    if (parsed && !parsed.success) return undefined;
    return syntheticGates(r.synthetic, r.findings, r.attacks.filter((a) => a.status === 'ok').map((a) => a.id), parsed?.data as SyntheticAssertConfig | undefined);
  }
  let assert: AssertConfig | undefined;
  if (raw !== undefined) {
    const parsed = assertSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    assert = parsed.data as AssertConfig;
  }
  const attacks: AttackStatus[] = r.attacks.map(({ id, family, status, reason }) => ({ id, family, status, ...(reason ? { reason } : {}) }));
  const gates = defaultGates({ gateModel: r.gateModel, attacks, findings: r.findings, extraction: r.extraction, comparisons: r.comparisons ?? [], models: r.models }, assert);
  // A DP claim's gates follow from the result's claims.dp section (src/claims/dp).
  if (r.claims?.dp) for (const g of dpGateStatuses(r.claims.dp)) gates.push({ ...g, expected: '', actual: null, message: '' });
  // A SISA claim's gates follow from the result's claims.sisa section (src/claims/sisa).
  if (r.claims?.sisa) gates.push(...sisaGates(r.claims.sisa));
  return gates;
}

/** Does the verdict follow from the gates, and the gates from the findings? */
export function checkConsistency(r: AuditResult, recompute: (r: AuditResult) => GateResult[] | undefined = defaultRecomputeGates): Check[] {
  if (!Array.isArray(r.gates)) return [check('consistency', 'the result has its gates', false, 'no gates array')];
  const implied = verdictOf(r.gates);
  const checks = [check('consistency', `the verdict (${r.verdict}) follows from the gates`, implied === r.verdict, `the gates give "${implied}"`)];
  let again: GateResult[] | undefined;
  try {
    again = recompute(r);
  } catch (e) {
    checks.push(check('consistency', 'the gates follow from the findings', false, `re-evaluating them failed: ${(e as Error).message}`));
    return checks;
  }
  if (!again) {
    checks.push(notChecked('consistency', 'the gates follow from the findings', r.kind === 'run' ? "the config's assert block does not parse with this version" : `gates of an "${r.kind}" result are not re-evaluated`));
    return checks;
  }
  checks.push(check('consistency', 'the gates follow from the findings', gatesDiffer(r.gates, again) === undefined, gatesDiffer(r.gates, again)));
  return checks;
}

function gatesDiffer(recorded: GateResult[], again: GateResult[]): string | undefined {
  const byId = new Map(recorded.map((g) => [g.id, g]));
  for (const g of again) {
    const r = byId.get(g.id);
    if (!r) return `gate "${g.id}" (${g.status}) is missing from the result`;
    if (r.level !== g.level || r.status !== g.status) return `gate "${g.id}" is recorded as ${r.level} ${r.status}, the findings give ${g.level} ${g.status}`;
    byId.delete(g.id);
  }
  const extra = [...byId.keys()][0];
  return extra === undefined ? undefined : `gate "${extra}" does not follow from any finding or assertion`;
}

// inputs and cache ------------------------------------------------------------------------------

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')));
  });
}

const kindOf = async (f: string) => {
  const s = await stat(f).catch(() => undefined);
  return s?.isDirectory() ? 'dir' : s?.isFile() ? 'file' : undefined;
};

/**
 * Where the result's input paths resolve: --inputs; else the first folder near the report (its
 * parent, itself, the working folder) where at least one input is found with its recorded SHA-256,
 * so that an unrelated config of the same name elsewhere is not taken for an edited one.
 */
async function inputsBase(r: AuditResult, reportDir: string, given: string | undefined, hashOf: (f: string) => Promise<string>): Promise<string | undefined> {
  if (given !== undefined) {
    const k = await kindOf(given);
    if (!k) throw new InputError('not found (--inputs expects the config file or the folder its paths are relative to)', { file: given });
    return k === 'file' ? path.dirname(given) : given;
  }
  for (const dir of new Set([path.dirname(reportDir), reportDir, process.cwd()])) {
    for (const i of r.inputs) {
      const f = path.resolve(dir, i.path);
      if ((await kindOf(f)) === 'file' && (await hashOf(f)) === i.sha256) return dir;
    }
  }
  return undefined;
}

async function checkInputs(r: AuditResult, reportDir: string, opts: VerifyOptions): Promise<Check[]> {
  if (!Array.isArray(r.inputs) || r.inputs.length === 0) return [];
  const hashes = new Map<string, Promise<string>>();
  const hashOf = (f: string) => {
    let h = hashes.get(f);
    if (!h) hashes.set(f, (h = sha256File(f)));
    return h;
  };
  const base = await inputsBase(r, reportDir, opts.inputs, hashOf);
  const checks: Check[] = [];
  for (const i of r.inputs) {
    const what = `input ${i.role} ${i.path} has the SHA-256 the result records`;
    if (!base) {
      checks.push(notChecked('inputs', what, "not at hand (none of the inputs was found unchanged near the report; give --inputs with the config's folder)"));
      continue;
    }
    const f = path.resolve(base, i.path);
    if ((await kindOf(f)) !== 'file') {
      checks.push(notChecked('inputs', what, `not at hand: ${f}`));
      continue;
    }
    const now = await hashOf(f);
    checks.push(check('inputs', what, now === i.sha256, `${f} has changed since the report (SHA-256 now ${now})`));
  }
  return checks;
}

async function checkCache(r: AuditResult, reportDir: string, opts: VerifyOptions): Promise<Check[]> {
  const ev = r.evidence?.cache;
  if (!ev) return [];
  const what = `the ${ev.entries} cache entries the result rests on are unchanged`;
  let text: string;
  try {
    text = await readFile(path.join(reportDir, CACHE_MANIFEST), 'utf8');
  } catch {
    return [notChecked('inputs', what, `${CACHE_MANIFEST} is not beside the report`)];
  }
  const entries = parseCacheManifest(text);
  const listed = entries !== undefined && sha256(text) === ev.sha256 && entries.size === ev.entries;
  const checks = [check('integrity', `${CACHE_MANIFEST} is the list of cache entries the result names`, listed, `its SHA-256 is ${sha256(text)}, the result names ${ev.sha256}`)];
  if (!listed) return checks;
  const dir = opts.cacheDir ?? path.join(reportDir, '.cache');
  if ((await kindOf(dir)) !== 'dir') return [...checks, notChecked('inputs', what, `no cache at ${dir} (give --cache-dir)`)];
  // An entry is read as stored and checked with the cache's own secret; one that fails its check
  // counts as changed (never as "not there").
  const read =
    opts.readCacheEntry ??
    (async (d: string, key: string): Promise<unknown> => {
      const bytes = await readFile(entryPath(d, key)).catch(() => undefined);
      if (bytes === undefined) return undefined;
      // the cache's own secret, read the way the cache reads it (never created here)
      const secret = (await kindOf(path.join(d, SECRET_FILE))) === 'file' ? await cacheSecret(d).catch(() => undefined) : undefined;
      const c = secret ? checkEntry(secret, key, bytes) : undefined;
      return c?.ok ? c.value : { unverifiable: c ? c.reason : 'no cache secret' };
    });
  let missing = 0;
  const changed: string[] = [];
  for (const [key, digest] of entries!) {
    const v = await read(dir, key);
    if (v === undefined) missing++;
    else if (valueDigest(v) !== digest) changed.push(key);
  }
  if (missing === entries!.size) return [...checks, notChecked('inputs', what, `none of them is in ${dir}`)];
  const note = missing > 0 ? ` (${missing} not in the cache, not checked)` : '';
  checks.push(check('inputs', `${what}${note}`, changed.length === 0, `${changed.length} changed since the report: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}`));
  return checks;
}

// the outputs beside the file -------------------------------------------------------------------

async function readIfFile(f: string): Promise<string | undefined> {
  return (await kindOf(f)) === 'file' ? readFile(f, 'utf8') : undefined;
}

/** junit.xml, summary.md and run.json beside the file must be this run's (same run id). */
async function checkSiblings(result: AuditResult, dir: string, digest: string, run: RunInfo | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const junit = await readIfFile(path.join(dir, 'junit.xml'));
  if (junit !== undefined) checks.push(check('integrity', 'junit.xml beside it is this run’s, unedited', junit === renderJunit(result)));
  const md = await readIfFile(path.join(dir, 'summary.md'));
  if (md !== undefined) checks.push(check('integrity', 'summary.md beside it is this run’s, unedited', md === renderMarkdown(result)));
  const runText = await readIfFile(path.join(dir, 'run.json'));
  if (runText !== undefined) {
    let same = false;
    try {
      const parsed = JSON.parse(runText) as RunInfo;
      same = parsed.runId === digest && (run === undefined || JSON.stringify(parsed) === JSON.stringify(run));
    } catch {
      same = false;
    }
    checks.push(check('integrity', 'run.json beside it is this run’s', same));
  }
  return checks;
}

/**
 * The sidecars the result names (scores.jsonl.gz, subjects.csv) must be the files beside it, byte
 * for byte (their SHA-256 is in the result). One that is absent is not checked, never "ok".
 */
async function checkSidecars(result: AuditResult, dir: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const ref of result.sidecars ?? []) {
    const what = `${ref.file} beside it is the one the result names (SHA-256)`;
    if (!SIDECAR_FILES.includes(ref.file)) {
      checks.push(check('integrity', what, false, `"${ref.file}" is not a sidecar's name`));
      continue;
    }
    const f = path.join(dir, ref.file);
    if ((await kindOf(f)) !== 'file') {
      checks.push(notChecked('integrity', what, `not at hand: ${f}`));
      continue;
    }
    const now = await sha256File(f);
    checks.push(check('integrity', what, now === ref.sha256, `its SHA-256 is ${now}, the result names ${ref.sha256}`));
  }
  return checks;
}

// signatures ------------------------------------------------------------------------------------

function checkHtmlSignature(unsigned: string, sig: { keyId: string; value: string } | undefined, key: KeyObject | undefined): Check[] {
  if (!sig) return key ? [check('signature', 'report.html is signed', false, 'it carries no signature')] : [];
  const what = `report.html's signature (key ${sig.keyId})`;
  if (!key) return [notChecked('signature', what, 'give --key PUBLIC.pem to check it')];
  const id = keyIdOf(key);
  if (sig.keyId !== id) return [check('signature', what, false, `signed with key ${sig.keyId}, not with the given key ${id}`)];
  return [check('signature', what, verifySignature(unsigned, sig.value, key), 'the signature does not match the page')];
}

async function checkResultSignature(resultFile: string, bytes: string, key: KeyObject | undefined): Promise<Check[]> {
  const text = await readIfFile(`${resultFile}.sig`);
  if (text === undefined) return key ? [check('signature', 'result.json is signed', false, `${path.basename(resultFile)}.sig not found`)] : [];
  const sig = parseDetachedSignature(text);
  if (!sig) return [check('signature', `${path.basename(resultFile)}.sig is a signature`, false, 'not a privacy-audit signature file')];
  const what = `result.json's signature (key ${sig.keyId})`;
  if (!key) return [notChecked('signature', what, 'give --key PUBLIC.pem to check it')];
  const id = keyIdOf(key);
  if (sig.keyId !== id) return [check('signature', what, false, `signed with key ${sig.keyId}, not with the given key ${id}`)];
  return [check('signature', what, verifySignature(bytes, sig.signature, key), 'the signature does not match result.json')];
}

// the two entry points --------------------------------------------------------------------------

function embeddedJson(html: string, id: string): unknown | undefined {
  const m = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(html);
  if (!m) return undefined;
  return JSON.parse(m[1]!); // the `\u003c` escapes written for `<` are ordinary JSON escapes
}

const isResult = (r: unknown): r is AuditResult => (r as AuditResult | null)?.schemaVersion === SCHEMA_VERSION && Array.isArray((r as AuditResult).gates);

async function verifyReport(file: string, html: string, opts: VerifyOptions): Promise<Verification> {
  let result: AuditResult;
  let run: RunInfo | undefined;
  try {
    const r = embeddedJson(html, 'privacy-audit-result');
    if (!r) throw new Error('no embedded result');
    if (!isResult(r)) throw new Error(`the embedded result is not schemaVersion ${SCHEMA_VERSION}`);
    result = r;
    run = embeddedJson(html, 'privacy-audit-run') as RunInfo | undefined;
  } catch (e) {
    throw new InputError(`not a privacy-audit report (${(e as Error).message})`, { file });
  }
  const { unsigned, signature } = splitHtmlSignature(html);
  const shown = /<meta name="privacy-audit-result-sha256" content="([0-9a-f]{64})">/.exec(html)?.[1];
  const digest = resultDigest(result);
  const dir = path.dirname(file);
  const checks = [
    check('integrity', 'the SHA-256 shown in the report matches its embedded result', shown === digest),
    check('integrity', 'the page is exactly what its embedded result renders to', (await renderHtml(result, run)) === unsigned),
  ];
  const beside = path.join(dir, 'result.json');
  const besideBytes = await readIfFile(beside);
  if (besideBytes !== undefined) checks.push(check('integrity', 'result.json beside it has the same SHA-256', sha256(besideBytes) === digest));
  checks.push(...(await checkSiblings(result, dir, digest, run)), ...(await checkSidecars(result, dir)));
  checks.push(...checkConsistency(result, opts.recomputeGates));
  checks.push(...checkHtmlSignature(unsigned, signature, opts.key));
  checks.push(...(await checkInputs(result, dir, opts)), ...(await checkCache(result, dir, opts)));
  return { ok: checks.every((c) => c.status !== 'fail'), digest, checks };
}

async function verifyResult(file: string, text: string, opts: VerifyOptions): Promise<Verification> {
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not JSON: ${(e as Error).message}`, { file });
  }
  if (!isResult(result)) throw new InputError(`not a privacy-audit result of this version (schemaVersion ${SCHEMA_VERSION} expected, found ${JSON.stringify((result as { schemaVersion?: unknown } | null)?.schemaVersion)})`, { file, field: 'schemaVersion' });
  const digest = sha256(text);
  const dir = path.dirname(file);
  const checks = [check('integrity', 'result.json is in the canonical form the tool writes', renderJson(result) === text)];
  const html = await readIfFile(path.join(dir, 'report.html'));
  if (html !== undefined) {
    const shown = /<meta name="privacy-audit-result-sha256" content="([0-9a-f]{64})">/.exec(html)?.[1];
    checks.push(check('integrity', 'report.html beside it shows the same SHA-256', shown === digest));
  }
  checks.push(...(await checkSiblings(result, dir, digest, undefined)), ...(await checkSidecars(result, dir)));
  checks.push(...checkConsistency(result, opts.recomputeGates));
  checks.push(...(await checkResultSignature(file, text, opts.key)));
  checks.push(...(await checkInputs(result, dir, opts)), ...(await checkCache(result, dir, opts)));
  return { ok: checks.every((c) => c.status !== 'fail'), digest, checks };
}

export async function verify(file: string, opts: VerifyOptions = {}): Promise<Verification> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError('cannot read the file (does it exist?)', { file });
  }
  return /\.html?$/i.test(file) ? verifyReport(file, text, opts) : verifyResult(file, text, opts);
}

/** The one-line outcome: which kinds of check failed, in the words a reader expects. */
export function verdictLine(v: Verification): string {
  const failed = new Set(v.checks.filter((c) => c.status === 'fail').map((c) => c.kind));
  if (failed.size === 0) {
    const skipped = v.checks.filter((c) => c.status === 'not checked').length;
    return `verified: intact${skipped > 0 ? ` (${skipped} check(s) not made: see above)` : ''}`;
  }
  const words: Record<CheckKind, string> = {
    integrity: 'the file was modified',
    consistency: 'inconsistent: the verdict does not follow from its own evidence',
    inputs: 'the inputs or cache entries differ from those the report was computed from',
    signature: 'the signature does not verify',
  };
  return `verification FAILED: ${(['integrity', 'consistency', 'signature', 'inputs'] as CheckKind[]).filter((k) => failed.has(k)).map((k) => words[k]).join('; ')}`;
}
