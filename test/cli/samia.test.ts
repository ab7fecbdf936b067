/**
 * SaMIA through the CLI against a chat-only endpoint (the vLLM-shaped server in mode 'chat-only',
 * real fixture model): it runs where no likelihood attack can, separates the fixture's members from
 * holdout, warns that it is a lower bound, answers a rerun from the cache without sending anything,
 * and gives the same scores for the same seed (the server samples with the per-prompt seed it is sent).
 * Locally (hf:), the same audit gives the same scores with 1 worker or 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_WARNING } from '../../attacks/samia/index.ts';
import { startServedModel, type ServedModel as Server } from '../../src/demo/vllm-server.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE, MODELS } from '../helpers/paths.ts';

const lines = (file: string) => readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n');
let dir: string;
const servers: Server[] = [];
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-samia-'));
  const forget = lines('forget.jsonl').slice(0, 12);
  const ids = new Set(forget.map((l) => (JSON.parse(l) as { id: string }).id));
  const retain = lines('members.jsonl').filter((l) => !ids.has((JSON.parse(l) as { id: string }).id)).slice(0, 12);
  writeFileSync(path.join(dir, 'forget.jsonl'), forget.join('\n'));
  writeFileSync(path.join(dir, 'members.jsonl'), [...forget, ...retain].join('\n'));
  writeFileSync(path.join(dir, 'holdout.jsonl'), lines('holdout.jsonl').slice(0, 12).join('\n'));
  process.env.PRIVACY_AUDIT_PSEUDONYM_KEY ??= 'ab'.repeat(32);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * 4 samples of 48 new tokens: the fixture's tokenizer has one token per byte, so 48 tokens are about
 * half of a record's second half (16 tokens, 2–3 words, gave forget AUCs of 0.70 served, 0.68 local).
 */
const TOKENS = 48;
function config(name: string, before: string, seed = 5): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `version: 1
seed: ${seed}
models:
  before: ${before}
data:
  members: ./members.jsonl
  forget: ./forget.jsonl
  holdout: ./holdout.jsonl
attacks:
  loss: {}
  samia: { samples: 4, maxNewTokens: ${TOKENS} }
output: { dir: ./${name} }
`,
  );
  return file;
}
const result = (name: string) => JSON.parse(readFileSync(path.join(dir, name, 'result.json'), 'utf8')) as AuditResult;
const samiaFindings = (r: AuditResult) => r.findings.filter((f) => f.attack === 'samia').map((f) => [f.model, f.positive, f.negative, f.auc.value, f.histogram]);
/** Chat requests of the audit (the probe asks for max_tokens 1). */
const samplingPosts = (s: Server) => s.requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions' && (r.body as { max_tokens?: number }).max_tokens !== 1);

describe("attack 'samia' on a chat-only endpoint, through the CLI", () => {
  it('runs where loss cannot, separates members from holdout, warns, is cached and is the same for the same seed', async () => {
    const s = await serve();
    const served = `{ kind: openai-compatible, baseURL: "${s.baseURL}", model: before, tokenizer: ${path.join(MODELS, 'before')}, maxConcurrency: 4 }`;
    const cache = path.join(dir, 'cache');
    const file = config('chat', served);
    const first = await cli(['run', file, '--bootstrap', '200', '--cache-dir', cache]);
    expect([0, 1, 4], first.stderr).toContain(first.code);
    const r = result('chat');
    const loss = r.attacks.find((a) => a.id === 'loss')!;
    expect(loss.status).toBe('not-applicable');
    expect(loss.reason).toMatch(/^needs per-token log-probabilities/);
    const samia = r.attacks.find((a) => a.id === 'samia')!;
    expect(samia.status, samia.reason).toBe('ok');
    expect(samia.warnings).toEqual([`models.before: ${CHAT_WARNING}`]);
    // One request per record (n = 4 continuations in it), each sampled with a seed, at temperature 1.
    const posts = samplingPosts(s);
    expect(posts.length).toBe(36);
    expect(posts[0]!.body).toMatchObject({ n: 4, temperature: 1, max_tokens: TOKENS });
    expect(typeof (posts[0]!.body as { seed?: unknown }).seed).toBe('number');
    const auc = (pos: string) => r.findings.find((f) => f.attack === 'samia' && f.model === 'before' && f.positive === pos && f.negative === 'holdout')!.auc.value;
    // Seen with seed 5: forget 0.861, retain 0.899 (12 records a side; loss on the same records: ~1).
    expect(auc('forget')).toBeGreaterThan(0.75);
    expect(auc('retain')).toBeGreaterThan(0.75);

    // A rerun is answered from the cache: nothing but the probe is sent.
    const seen = s.requests.length;
    const again = await cli(['run', file, '--bootstrap', '200', '--cache-dir', cache]);
    expect(again.code, again.stderr).toBe(first.code);
    expect(samplingPosts({ ...s, requests: s.requests.slice(seen) })).toEqual([]);
    expect(samiaFindings(result('chat'))).toEqual(samiaFindings(r));

    // The same seed without the cache: the server draws the same samples, so the same scores.
    const fresh = await cli(['run', config('chat-fresh', served), '--bootstrap', '200', '--no-cache']);
    expect(fresh.code, fresh.stderr).toBe(first.code);
    expect(samiaFindings(result('chat-fresh'))).toEqual(samiaFindings(r));
  }, 120_000);

  it('locally (hf:), the same seed gives the same scores with 1 worker or 2', async () => {
    const hf = `hf:${path.join(MODELS, 'before')}`;
    const one = await cli(['run', config('hf1', hf), '--bootstrap', '200', '--no-cache', '--workers', '1']);
    expect([0, 1, 4], one.stderr).toContain(one.code);
    const two = await cli(['run', config('hf2', hf), '--bootstrap', '200', '--no-cache', '--workers', '2']);
    expect(two.code, two.stderr).toBe(one.code);
    const [a, b] = [result('hf1'), result('hf2')];
    expect(a.attacks.find((x) => x.id === 'samia')!.warnings).toBeUndefined();
    expect(samiaFindings(b)).toEqual(samiaFindings(a));
    const auc = a.findings.find((f) => f.attack === 'samia' && f.positive === 'forget')!.auc.value;
    // Seen with seed 5: 0.882 (the local sampler draws other random numbers than the server).
    expect(auc).toBeGreaterThan(0.75);
  }, 120_000);
});

async function serve(): Promise<Server> {
  const s = await startServedModel({ modelDir: path.join(MODELS, 'before'), servedName: 'before', mode: 'chat-only' });
  servers.push(s);
  return s;
}
