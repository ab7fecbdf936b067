/**
 * Auditing served models end to end, through the CLI: the same audit of the support-desk models
 * through local vLLM-shaped servers (src/demo/vllm-server.ts, real fixture models) and through hf:
 * gives the same scores, hits and verdict; a server that dies mid-run stops the audit (exit 3) and
 * the rerun resumes from the cache without sending any answered request again; --dry-run prints the
 * plan and sends nothing; a budget smaller than the plan is exit 2 before anything is sent.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServedModel, type ServedModel as Server, type ServedModelOptions } from '../../src/demo/vllm-server.ts';
import { loadTokenizer } from '../../src/models/hf.ts';
import { PROBE_TEXT } from '../../src/models/served.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE, MODELS } from '../helpers/paths.ts';

const head = (file: string, n: number) => readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n').slice(0, n).join('\n');
const ATTACKS = `attacks:
  loss: {}
  min-k: {}
  min-k-plus-plus: {}
  prefix-extraction: { prefixTokens: 32, suffixTokens: 16 }
`;

let dir: string;
const servers: Server[] = [];
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-served-'));
  writeFileSync(path.join(dir, 'forget.jsonl'), head('forget.jsonl', 24));
  writeFileSync(path.join(dir, 'holdout.jsonl'), head('holdout.jsonl', 48));
  process.env.PRIVACY_AUDIT_PSEUDONYM_KEY ??= 'ab'.repeat(32);
});
beforeAll(async () => {
  probeIds = JSON.stringify((await loadTokenizer(path.join(MODELS, 'before'))).encode(PROBE_TEXT));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(model: string, o: Partial<ServedModelOptions> = {}): Promise<Server> {
  const s = await startServedModel({ modelDir: path.join(MODELS, model), servedName: model, ...o });
  servers.push(s);
  return s;
}
const served = (s: Server, model: string, extra = '') =>
  `{ kind: openai-compatible, baseURL: "${s.baseURL}", model: ${model}, tokenizer: ${path.join(MODELS, model)}, maxConcurrency: 4${extra} }`;
function config(name: string, before: string, after: string, extra = ''): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `version: 1
seed: 5
models:
  before: ${before}
  after: ${after}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
${ATTACKS}output: { dir: ./${name} }
${extra}`,
  );
  return file;
}
const read = (name: string) => ({
  result: JSON.parse(readFileSync(path.join(dir, name, 'result.json'), 'utf8')) as AuditResult,
});
let probeIds = '';
/** The probe's requests (they are sent on every run: they identify the deployment). */
const isProbe = (body: unknown) => {
  const j = JSON.stringify(body);
  return j.includes(JSON.stringify(PROBE_TEXT)) || j.includes(`"prompt":${probeIds}`);
};
/** What the audit itself sent: POSTs under /v1 other than the probe's, as JSON strings. */
const auditPosts = (reqs: Server['requests'], answered = false) =>
  reqs
    .filter((r) => r.method === 'POST' && r.path.startsWith('/v1/') && !isProbe(r.body) && (!answered || (r.status !== undefined && r.status < 300)))
    .map((r) => JSON.stringify(r.body));

describe('served models through the CLI', () => {
  it('the same audit through the server and through hf: gives the same scores, hits and verdict', async () => {
    const hf = await cli(['run', config('local', `hf:${path.join(MODELS, 'before')}`, `hf:${path.join(MODELS, 'after-retrained')}`), '--bootstrap', '200', '--no-cache']);
    expect([0, 1, 4], hf.stderr).toContain(hf.code);
    const [b, a] = [await serve('before'), await serve('after-retrained')];
    // A key from the environment: sent as the Authorization header, written nowhere.
    const KEY = 'sk-served-test-7f3a9c1e5b';
    process.env.PA_SERVED_TEST_KEY = KEY;
    const file = config('http', served(b, 'before', ', apiKeyEnv: PA_SERVED_TEST_KEY'), served(a, 'after-retrained'));
    // --dry-run first: the plan, and nothing sent, not even the probe.
    const dry = await cli(['run', file, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(b.requests.length + a.requests.length).toBe(0);
    const plan = /before: (\d+) requests, (\d+) tokens/.exec(dry.stdout);
    expect(plan, dry.stdout).not.toBeNull();
    const r = await cli(['run', file, '--bootstrap', '200', '--no-cache']);
    expect(r.code, r.stderr).toBe(hf.code);
    // The plan is what a cold run sends, request for request (repeat checks included).
    expect(auditPosts(b.requests).length).toBe(Number(plan![1]));
    expect(r.stderr).toContain(`before: ${plan![1]} requests sent (0 retries)`);
    const local = read('local').result;
    const remote = read('http').result;
    expect(remote.verdict).toBe(local.verdict);
    // Scores equal to float32 precision, so every AUC and interval is the same to 1e-4.
    const aucs = (x: AuditResult) => x.findings.filter((f) => f.attack !== 'min-k-plus-plus').map((f) => [f.attack, f.model, f.positive, f.negative, f.auc.value, f.auc.lo, f.auc.hi]);
    const [la, ra] = [aucs(local), aucs(remote)];
    expect(ra.map((x) => x.slice(0, 4))).toEqual(la.map((x) => x.slice(0, 4)));
    ra.forEach((row, i) => row.slice(4).forEach((v, j) => expect(Math.abs((v as number) - (la[i]![4 + j] as number))).toBeLessThan(1e-4)));
    expect(remote.extraction).toEqual(local.extraction);
    // Min-K%++ needs the whole next-token distribution: not applicable over HTTP, with the reason.
    const mkpp = remote.attacks.find((x) => x.id === 'min-k-plus-plus')!;
    expect(mkpp.status).toBe('not-applicable');
    expect(mkpp.reason).toMatch(/top 5–20 alternatives/);
    expect(remote.gates.filter((g) => !g.id.includes('min-k-plus-plus')).map((g) => [g.id, g.status])).toEqual(
      local.gates.filter((g) => !g.id.includes('min-k-plus-plus')).map((g) => [g.id, g.status]),
    );
    // What the probe found is in result.json; the report lists the endpoints.
    const sv = remote.models.find((m) => m.role === 'before')!.served!;
    expect(sv).toMatchObject({ model: 'before', scoring: 'echo', generation: 'completions', tokenizerCheck: 'tokenize-endpoint' });
    const html = readFileSync(path.join(dir, 'http', 'report.html'), 'utf8');
    expect(html).toContain('Served endpoints');
    expect(b.requests.filter((x) => x.path.startsWith('/v1/')).every((x) => x.headers.authorization)).toBe(true);
    for (const f of readdirSync(path.join(dir, 'http'))) {
      if (statSync(path.join(dir, 'http', f)).isFile()) expect(readFileSync(path.join(dir, 'http', f), 'utf8'), f).not.toContain(KEY);
    }
    expect(r.stderr + r.stdout).not.toContain(KEY);
  });

  it('a server that dies mid-run: exit 3; the rerun resumes from the cache and sends no answered request again', async () => {
    const cache = path.join(dir, 'resume-cache');
    const b1 = await serve('before', { faults: { dieAfter: 40 } });
    const a = await serve('after-retrained');
    const port = Number(new URL(b1.baseURL).port);
    const file = config('resume', served(b1, 'before', ', maxRetries: 1, timeoutSeconds: 5'), served(a, 'after-retrained'));
    const first = await cli(['run', file, '--bootstrap', '200', '--cache-dir', cache]);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/runtime failure: .*models\.before.*finished requests are cached: run again to resume/);
    const answered = new Set([...auditPosts(b1.requests, true), ...auditPosts(a.requests, true)]);
    expect(answered.size).toBeGreaterThan(20);
    // The same deployment comes back on the same address.
    const b2 = await serve('before', { port });
    const aSeen = a.requests.length;
    const second = await cli(['run', file, '--bootstrap', '200', '--cache-dir', cache]);
    expect([0, 1, 4], second.stderr).toContain(second.code);
    const resent = [...auditPosts(b2.requests), ...auditPosts(a.requests.slice(aSeen))].filter((body) => answered.has(body));
    expect(resent).toEqual([]);
    expect(auditPosts(b2.requests).length).toBeGreaterThan(0);
    const { result } = read('resume');
    expect(result.attacks.filter((x) => x.id !== 'min-k-plus-plus').every((x) => x.status === 'ok')).toBe(true);
  });

  it('a budget below what the run would send is exit 2 before any audit request', async () => {
    const [b, a] = [await serve('before'), await serve('after-retrained')];
    const file = config('budget', served(b, 'before', ', budget: { requests: 50 }'), served(a, 'after-retrained'));
    const r = await cli(['run', file, '--no-cache']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/field "models\.before\.budget".*would send models\.before \(before\) \d+ requests .*over its budget of 50 requests; nothing was sent/);
    expect(auditPosts(b.requests)).toEqual([]);
    expect(auditPosts(a.requests)).toEqual([]);
  });

  it('demo --scenario api starts its servers and writes its config (checked with --dry-run: the plan, nothing sent)', async () => {
    const out = path.join(dir, 'demo-api');
    const r = await cli(['demo', '--scenario', 'api', '--out', out, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/serving support-desk-before at http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(r.stdout).toMatch(/before: \d+ requests, \d+ tokens/);
    expect(r.stdout).toMatch(/after: \d+ requests, \d+ tokens/);
    const cfg = readFileSync(path.join(out, 'demo-inputs', 'api.yml'), 'utf8');
    expect(cfg).toContain('kind: openai-compatible');
  });
});
