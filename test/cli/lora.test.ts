/**
 * A LoRA audit end to end through the CLI on the fixture (fixtures/support-desk/train_lora.py), on
 * a subset of the people (time): the adapter is found leaking with its frozen base as the reference,
 * extraction hits are attributed against the base, dropping the adapter passes (structural gate),
 * and a merged model built from another adapter is exit 2 before any model work.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult } from '../../src/result/types.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE } from '../helpers/paths.ts';

const LORA = path.join(FIXTURE, 'models/lora');
let dir: string;

/** The first n people of a data file (records of a person are consecutive). */
function firstPeople(file: string, n: number, out: string): string {
  const rows = readFileSync(path.join(FIXTURE, 'data', file), 'utf8').trim().split('\n');
  const people = new Set<string>();
  const kept = rows.filter((l) => {
    const s = (JSON.parse(l) as { subject: string }).subject;
    if (!people.has(s) && people.size >= n) return false;
    people.add(s);
    return true;
  });
  const target = path.join(dir, out);
  writeFileSync(target, kept.join('\n') + '\n');
  return target;
}

const loraOf = (adapter: string, merged: string) => `{ kind: lora, base: hf:${path.join(LORA, 'base')}, adapter: ${path.join(LORA, adapter)}, merged: hf:${path.join(LORA, merged)} }`;
const config = (name: string, after: string, adapter = 'adapter') => {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `version: 1
seed: 5
models:
  before: ${loraOf(adapter, 'merged')}
  after: ${after}
data:
  members: ${path.join(FIXTURE, 'data/members.jsonl')}
  forget: ${path.join(dir, 'forget.jsonl')}
  holdout: ${path.join(dir, 'holdout.jsonl')}
  retainSample: 60
attacks:
  loss: {}
  reference: {}
  pii-extraction: { maxNewTokens: 20, types: [email] }
output: { dir: ./${name} }
`,
  );
  return file;
};
const run = async (file: string) => {
  const r = await cli(['run', file, '--cache-dir', path.join(dir, 'cache'), '--bootstrap', '200']);
  const out = path.join(dir, path.basename(file, '.yml'));
  return { r, out };
};
const resultOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pa-lora-cli-'));
  firstPeople('forget.jsonl', 40, 'forget.jsonl');
  firstPeople('holdout.jsonl', 60, 'holdout.jsonl');
});

describe('LoRA audit (CLI)', () => {
  it('adapter dropped: before leaks (reference attack with the base beats loss), after = base passes', async () => {
    const { r, out } = await run(config('dropped', `hf:${path.join(LORA, 'base')}`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const result = resultOf(out);
    const before = result.models.find((m) => m.role === 'before')!;
    expect(before.lora).toMatchObject({ rank: 16, alpha: 32, adapterParameters: 65536 });
    expect(result.models.find((m) => m.role === 'reference')!.ref).toBe(`hf:${path.join(LORA, 'base')}`);
    const auc = (attack: string, model: string) => result.findings.find((f) => f.attack === attack && f.model === model && f.positive === 'forget' && f.negative === 'holdout')!.auc;
    // The base as reference calibrates away what the base already finds easy or hard.
    expect(auc('reference', 'before').value).toBeGreaterThan(auc('loss', 'before').value);
    expect(auc('reference', 'before').lo!).toBeGreaterThan(0.5); // found: the interval is wholly above chance
    // after is the base: the reference attack's score is exactly 0 for every record.
    expect(auc('reference', 'after').value).toBe(0.5);
    const gate = result.gates.find((g) => g.id === 'after.lora.adapter-dropped')!;
    expect(gate).toMatchObject({ level: 'error', status: 'pass' });
    for (const g of result.gates.filter((x) => /^after\.forget\.(loss|reference)\.auc$/.test(x.id))) expect(g.level).toBe('warn');
    // Extraction on the base: whatever it emits is its own, not the adapter's.
    const ext = result.extraction.find((e) => e.model === 'after' && e.split === 'forget')!;
    expect(ext.hits).toBe(0);
    expect(ext.unattributed!.alsoFromBase).toBe(ext.unattributed!.hits);
    const extBefore = result.extraction.find((e) => e.model === 'before' && e.split === 'forget')!;
    expect(extBefore.unattributed!.hits).toBe(extBefore.hits + extBefore.unattributed!.alsoFromBase);
    expect(result.verdict).toBe('pass');
    expect(r.code).toBe(0);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('LoRA adapters');
    expect(html).toContain('after.lora.adapter-dropped');
    // The report re-verifies: the structural gate is recomputed from result.json.
    expect((await cli(['verify', path.join(out, 'report.html')])).code).toBe(0);
  }, 300_000);

  it('adapter retrained without the deleted people: checked like before, compared like any after model', async () => {
    const { r, out } = await run(config('retrained', loraOf('adapter-retrained', 'merged-retrained')));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const result = resultOf(out);
    expect(result.models.find((m) => m.role === 'after')!.lora).toMatchObject({ rank: 16, adapter: path.join(LORA, 'adapter-retrained') });
    expect(result.gates.some((g) => g.id === 'after.lora.adapter-dropped')).toBe(false);
    const f = (model: string) => result.findings.find((x) => x.attack === 'reference' && x.model === model && x.positive === 'forget' && x.negative === 'holdout')!.auc.value;
    // The retrained adapter never saw the deleted people: the base-referenced score no longer singles them out.
    expect(f('after')).toBeLessThan(f('before'));
    expect(result.comparisons.some((c) => c.attack === 'reference' && c.kind === 'auc-delta')).toBe(true);
    expect(r.code).toBe({ pass: 0, fail: 1, inconclusive: 4 }[result.verdict]);
  }, 300_000);

  it('a merged model built from another adapter: exit 2 naming the weight, before any model work', async () => {
    const { r, out } = await run(config('wrong-adapter', `hf:${path.join(LORA, 'base')}`, 'adapter-retrained'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "models\.before\.merged": merged weight "onnx::MatMul_\d+" \(module h\.0\.c_attn\) differs from base \+ \(lora_alpha\/r\)·B·A/);
    expect(r.stderr).toMatch(/not built from this adapter on this base/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(() => readFileSync(path.join(out, 'result.json'))).toThrow();
  }, 300_000);
});
