/**
 * The runtime-side scoring reduction (src/models/scoring-graph.ts) on the fixture model: the same
 * numbers as the float64 JavaScript path and as torch, independent of batching and of the number of
 * intra-op threads; generation unchanged; and a graph that cannot take it is scored in JavaScript
 * with the reason said.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greedyBatch, loadCausalLM, loadTokenizer, scoreBatch, scoreInJs, type CausalLM, type TokenSignals } from '../../src/models/hf.ts';
import { augmentForScoring, OUT_LOGPROBS } from '../../src/models/scoring-graph.ts';
import { validateCausalLM } from '../../src/models/validate.ts';
import { MODELS } from '../helpers/paths.ts';
import { forgetTexts } from '../helpers/texts.ts';

const dir = path.join(MODELS, 'before');
let runtime: CausalLM;
let js: CausalLM;
let ids: number[][];
beforeAll(async () => {
  [runtime, js] = await Promise.all([loadCausalLM(dir, 1, 'cpu', 'runtime'), loadCausalLM(dir, 1, 'cpu', 'js')]);
  const tok = await loadTokenizer(dir);
  // Different lengths (right padding inside the batch), one of a single token (nothing to score).
  ids = [...forgetTexts(5).map((t) => tok.encode(t)), [tok.eosId ?? 0]];
});
afterAll(async () => {
  await Promise.all([runtime?.model.dispose(), js?.model.dispose()]);
});

const maxDiff = (a: TokenSignals[], b: TokenSignals[], k: 'logprobs' | 'mu' | 'sigma') =>
  Math.max(0, ...a.flatMap((s, i) => Array.from(s[k]!, (v, t) => Math.abs(v - b[i]![k]![t]!))));

describe('runtime-side scoring reduction', () => {
  it('loads of one folder at once, on both paths, each get their own graph (the substitute is per load)', async () => {
    const lms = await Promise.all([loadCausalLM(dir, 1, 'cpu', 'runtime'), loadCausalLM(dir, 1, 'cpu', 'js'), loadCausalLM(dir, 1, 'cpu', 'runtime')]);
    try {
      const inputs = (lm: CausalLM) => (lm.model as unknown as { sessions: { model: { inputNames: string[] } } }).sessions.model.inputNames;
      expect(lms.map((lm) => lm.session?.outputNames.includes(OUT_LOGPROBS) ?? false)).toEqual([true, false, true]);
      expect(inputs(lms[1]!).some((n) => n.startsWith('privacy_audit'))).toBe(false);
    } finally {
      await Promise.all(lms.map((lm) => lm.model.dispose()));
    }
  });

  it('loads the augmented graph once and hides its extra input from transformers.js', () => {
    expect(runtime.scoring).toBe('runtime');
    expect(runtime.session?.outputNames).toContain(OUT_LOGPROBS);
    expect((runtime.model as unknown as { sessions: { model: { inputNames: string[] } } }).sessions.model.inputNames.some((n) => n.startsWith('privacy_audit'))).toBe(false);
  });

  it('equals the float64 JavaScript reduction to float32 rounding, log-probabilities and Min-K%++ statistics', async () => {
    const ours = await scoreBatch(runtime, ids, { stats: true });
    const theirs = await scoreInJs(js, ids, { stats: true });
    expect(ours.map((s) => s.logprobs.length)).toEqual(ids.map((x) => x.length - 1));
    expect(maxDiff(ours, theirs, 'logprobs')).toBeLessThan(1e-5);
    expect(maxDiff(ours, theirs, 'mu')).toBeLessThan(1e-5);
    expect(maxDiff(ours, theirs, 'sigma')).toBeLessThan(1e-5);
    // Without statistics: the same log-probabilities, nothing else.
    const plain = await scoreBatch(runtime, ids);
    expect(plain[0]!.mu).toBeUndefined();
    expect(maxDiff(plain, ours, 'logprobs')).toBe(0);
  });

  it('matches the torch log-probabilities written by the fixture script (1e-4)', async () => {
    const ref = JSON.parse(readFileSync(path.join(dir, 'reference-logprobs.json'), 'utf8')) as { records: { input_ids: number[]; token_logprobs: number[] }[] };
    const ours = await scoreBatch(runtime, ref.records.map((r) => r.input_ids));
    ref.records.forEach((r, i) => r.token_logprobs.forEach((lp, t) => expect(Math.abs(ours[i]!.logprobs[t]! - lp)).toBeLessThan(1e-4)));
  });

  it('gives a record the same bits alone or in a batch, with 1 or 2 intra-op threads', async () => {
    const two = await loadCausalLM(dir, 2, 'cpu', 'runtime');
    try {
      const batch = await scoreBatch(runtime, ids, { stats: true });
      const threaded = await scoreBatch(two, ids, { stats: true });
      for (const k of ['logprobs', 'mu', 'sigma'] as const) expect(maxDiff(batch, threaded, k)).toBe(0);
      const [alone] = await scoreBatch(runtime, [ids[1]!], { stats: true });
      for (const k of ['logprobs', 'mu', 'sigma'] as const) expect(maxDiff([alone!], [batch[1]!], k)).toBe(0);
    } finally {
      await two.model.dispose();
    }
  });

  it('leaves greedy decoding token for token as on the plain graph', async () => {
    const prompts = ids.slice(0, 4).map((x, i) => x.slice(0, 12 + 5 * i));
    expect(await greedyBatch(runtime, prompts, 16)).toEqual(await greedyBatch(js, prompts, 16));
  });

  it('refuses graphs it cannot extend, saying why', () => {
    expect(augmentForScoring(new Uint8Array([0xff, 0xff, 0xff]), 10)).toMatchObject({ problem: expect.stringMatching(/cannot be parsed/) });
    // device.ts's probe model: opset 13, one Identity node, output "y".
    const probe = Buffer.from('CAg6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN', 'base64');
    expect(augmentForScoring(probe, 10)).toEqual({ problem: 'the graph has no "logits" output' });
  });

  it('falls back to the JavaScript reduction (and says why) when the graph cannot take it', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pa-scoring-'));
    try {
      cpSync(dir, tmp, { recursive: true });
      // An unused initializer that takes one of the reduction's output names, appended as a
      // protobuf fragment (merged into the graph): onnxruntime still runs the model.
      const root = protobuf.Root.fromJSON({
        nested: {
          M: { fields: { graph: { type: 'G', id: 7 } } },
          G: { fields: { initializer: { rule: 'repeated', type: 'T', id: 5 } } },
          T: { fields: { dims: { rule: 'repeated', type: 'int64', id: 1 }, dataType: { type: 'int32', id: 2 }, name: { type: 'string', id: 8 }, rawData: { type: 'bytes', id: 9 } } },
        },
      });
      const M = root.lookupType('M');
      const fragment = M.encode(M.fromObject({ graph: { initializer: [{ dims: [1], dataType: 1, name: OUT_LOGPROBS, rawData: Buffer.alloc(4) }] } })).finish();
      const file = path.join(tmp, 'onnx/model.onnx');
      writeFileSync(file, Buffer.concat([readFileSync(file), fragment]));
      const info = await validateCausalLM(tmp, 'models.before');
      expect(info.scoring).toBe('js');
      expect(info.scoringNote).toMatch(/already has a value named "privacy_audit.logprobs"/);
      expect((await validateCausalLM(dir, 'models.before')).scoring).toBe('runtime');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
