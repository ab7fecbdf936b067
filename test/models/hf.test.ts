/** The hf adapter on a real fixture model: scoring and greedy decoding must not depend on batching. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { greedyBatch, loadCausalLM, loadTokenizer, scoreBatch, type CausalLM, type Tokenizer } from '../../src/models/hf.ts';
import { MODELS } from '../helpers/paths.ts';
import { forgetTexts } from '../helpers/texts.ts';

const dir = path.join(MODELS, 'before');
const texts = forgetTexts(6);

let lm: CausalLM;
let tok: Tokenizer;
beforeAll(async () => {
  lm = await loadCausalLM(dir, 1);
  tok = await loadTokenizer(dir);
});

describe('hf adapter', () => {
  it('round-trips text through the tokenizer and keeps the leading BOS', () => {
    const ids = tok.encode(texts[0]!);
    expect(tok.decode(ids)).toBe(texts[0]);
    expect(tok.leading).toBeGreaterThanOrEqual(0);
    expect(ids.length).toBeGreaterThan(tok.leading);
  });

  it('scores a sequence the same alone and inside a right-padded batch', async () => {
    const ids = texts.map((t) => tok.encode(t));
    const batch = await scoreBatch(lm, ids, { stats: true });
    for (let i = 0; i < ids.length; i++) {
      const [alone] = await scoreBatch(lm, [ids[i]!], { stats: true });
      expect(batch[i]!.logprobs.length).toBe(ids[i]!.length - 1);
      for (let t = 0; t < alone!.logprobs.length; t++) {
        expect(batch[i]!.logprobs[t]).toBeCloseTo(alone!.logprobs[t]!, 4);
        expect(batch[i]!.logprobs[t]).toBeLessThanOrEqual(0);
      }
      expect(batch[i]!.mu!.length).toBe(alone!.logprobs.length);
    }
  });

  it('matches the torch log-probabilities written by the fixture script (1e-4)', async () => {
    const ref = JSON.parse(readFileSync(path.join(dir, 'reference-logprobs.json'), 'utf8')) as {
      records: { text: string; input_ids: number[]; token_logprobs: number[] }[];
    };
    expect(ref.records.length).toBeGreaterThan(0);
    for (const r of ref.records) {
      expect(tok.encode(r.text)).toEqual(r.input_ids);
      const [ours] = await scoreBatch(lm, [r.input_ids]);
      expect(ours!.logprobs.length).toBe(r.token_logprobs.length);
      r.token_logprobs.forEach((lp, t) => expect(Math.abs(ours!.logprobs[t]! - lp)).toBeLessThan(1e-4));
    }
  });

  it('greedy decoding on the ONNX session equals transformers.js generate(), batched or alone', async () => {
    const prompts = texts.map((t, i) => tok.encode(t).slice(0, 20 + 7 * i)); // different lengths: left padding
    const direct = await greedyBatch(lm, prompts, 24);
    // transformers.js's own generate() as the reference implementation
    const { Tensor } = await import('@huggingface/transformers');
    for (let i = 0; i < prompts.length; i++) {
      const p = prompts[i]!;
      const out = (await lm.model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(p.map(BigInt)), [1, p.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(p.length).fill(1n), [1, p.length]),
        max_new_tokens: 24,
        do_sample: false,
      } as never)) as InstanceType<typeof Tensor>;
      let gen = Array.from((out.data as BigInt64Array).slice(p.length), Number);
      const eos = gen.indexOf(lm.eosId ?? -1);
      if (eos >= 0) gen = gen.slice(0, eos);
      expect(direct[i]).toEqual(gen);
      const [alone] = await greedyBatch(lm, [p], 24);
      expect(direct[i]).toEqual(alone);
    }
  });
});
