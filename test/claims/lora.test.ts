/**
 * LoRA provenance on the fixture (fixtures/support-desk/train_lora.py): the merged model is base +
 * (alpha/r)·B·A; a merged model built from another adapter, an edited adapter, an edited weight
 * outside the adapted layers and a pickled adapter are refused with the file, field and tensor named.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { verifyLora, type LoraSpec } from '../../src/claims/lora/provenance.ts';
import { readSafetensors } from '../../src/claims/lora/safetensors.ts';
import { readOnnxWeights } from '../../src/claims/lora/onnx-weights.ts';
import { configFromObject } from '../../src/config/load.ts';
import { attributeToAdapter } from '../../src/claims/lora/attribution.ts';
import { extractionSummaries } from '../../src/audit/measure.ts';
import type { ExtractionObservation, ExtractionTrial } from '../../attacks/types.ts';
import { FIXTURE, MODELS } from '../helpers/paths.ts';

const LORA = path.join(MODELS, 'lora');
let tmp: string;
const spec = (over: Partial<Record<'base' | 'adapter' | 'merged', string>> = {}): LoraSpec => {
  const s = { base: path.join(LORA, 'base'), adapter: path.join(LORA, 'adapter'), merged: path.join(LORA, 'merged'), ...over };
  return { ...s, raw: { base: 'hf:./base', adapter: './adapter', merged: 'hf:./merged' } };
};
const refusal = async (s: LoraSpec): Promise<InputError> => {
  try {
    await verifyLora(s, { field: 'models.before' });
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected the check to refuse');
};

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pa-lora-'));
});

describe('LoRA provenance', () => {
  it('the fixture: merged = base + (alpha/r)·B·A on all 8 adapted weights, the 21 others unchanged', async () => {
    const p = await verifyLora(spec(), { field: 'models.before' });
    expect(p).toMatchObject({ rank: 16, alpha: 32, rslora: false, targetModules: ['c_attn', 'c_proj', 'c_fc', 'mlp_proj'], adapterParameters: 65536 });
    expect(p.modules.map((m) => m.module)).toEqual(['h.0.c_attn', 'h.0.c_fc', 'h.0.c_proj', 'h.0.mlp_proj', 'h.1.c_attn', 'h.1.c_fc', 'h.1.c_proj', 'h.1.mlp_proj']);
    // torch.onnx folded each nn.Linear weight's transpose into an unnamed initializer: found by its MatMul's scope.
    expect(p.modules[0]).toMatchObject({ initializer: expect.stringMatching(/^onnx::MatMul_\d+$/), shape: [384, 128], scaling: 2 });
    for (const m of p.modules) {
      expect(m.maxAbsError).toBeLessThan(1e-6);
      expect(m.deltaNorm).toBeGreaterThan(0.01);
    }
    expect(p.otherWeights).toEqual({ count: 21, maxAbsDiff: 0 });
    // The retrained adapter fits its own merged model too.
    await verifyLora(spec({ adapter: path.join(LORA, 'adapter-retrained'), merged: path.join(LORA, 'merged-retrained') }), { field: 'models.after' });
  });

  it('a merged model built from another adapter is refused, naming the weight and the module', async () => {
    const e = await refusal(spec({ adapter: path.join(LORA, 'adapter-retrained') }));
    expect(e.where.field).toBe('models.before.merged');
    expect(e.where.file).toBe(path.join(LORA, 'merged', 'onnx', 'model.onnx'));
    expect(e.message).toMatch(/^merged weight "onnx::MatMul_\d+" \(module h\.0\.c_attn\) differs from base \+ \(lora_alpha\/r\)·B·A = base \+ 2\.000·B·A by up to .* the merged model was not built from this adapter on this base$/);
  });

  it('an adapter with one edited value is refused', async () => {
    const dir = path.join(tmp, 'edited-adapter');
    cpSync(path.join(LORA, 'adapter'), dir, { recursive: true });
    const file = path.join(dir, 'adapter_model.safetensors');
    const buf = readFileSync(file);
    const at = 8 + Number(buf.readBigUInt64LE(0)) + 4 * 7; // the 8th value of the first tensor
    buf.writeFloatLE(buf.readFloatLE(at) + 0.05, at);
    writeFileSync(file, buf);
    const e = await refusal(spec({ adapter: dir }));
    expect(e.message).toMatch(/not built from this adapter on this base/);
  });

  it('a merged model with another change outside the adapted layers is refused, naming the initializer', async () => {
    const dir = path.join(tmp, 'edited-merged');
    cpSync(path.join(LORA, 'merged'), dir, { recursive: true });
    const file = path.join(dir, 'onnx', 'model.onnx');
    const lnF = (await readOnnxWeights(file)).initializers.get('model.ln_f.weight')!;
    const buf = readFileSync(file);
    const at = buf.indexOf(Buffer.from(lnF.raw!));
    expect(at).toBeGreaterThan(0);
    buf.writeFloatLE(buf.readFloatLE(at) * 1.01, at);
    writeFileSync(file, buf);
    const e = await refusal(spec({ merged: dir }));
    expect(e.where.field).toBe('models.before.merged');
    expect(e.message).toMatch(/^initializer "model\.ln_f\.weight" differs between the base and the merged model by up to .*the adapter does not adapt it/);
  });

  it('a pickled adapter (adapter_model.bin) and an unsupported adapter type are refused', async () => {
    const dir = path.join(tmp, 'pickle');
    cpSync(path.join(LORA, 'adapter'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'adapter_model.bin'), 'not opened');
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dir, 'adapter_model.safetensors'));
    expect((await refusal(spec({ adapter: dir }))).message).toMatch(/Python pickle.*refused/);
    const dora = path.join(tmp, 'dora');
    cpSync(path.join(LORA, 'adapter'), dora, { recursive: true });
    const cfg = JSON.parse(readFileSync(path.join(dora, 'adapter_config.json'), 'utf8'));
    writeFileSync(path.join(dora, 'adapter_config.json'), JSON.stringify({ ...cfg, use_dora: true }));
    const e = await refusal(spec({ adapter: dora }));
    expect(e.where.field).toBe('models.before.adapter');
    expect(e.message).toMatch(/use_dora is true/);
  });

  it('safetensors: F16, BF16 and F32 values, and a header that lies about its size', async () => {
    const header = JSON.stringify({ __metadata__: { format: 'pt' }, h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] }, f: { dtype: 'F32', shape: [1], data_offsets: [6, 10] } });
    const data = Buffer.alloc(10);
    data.writeUInt16LE(0x3c00, 0); // 1.0
    data.writeUInt16LE(0xc000, 2); // -2.0
    data.writeUInt16LE(0x3fc0, 4); // 1.5 in bfloat16
    data.writeFloatLE(0.25, 6);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const file = path.join(tmp, 't.safetensors');
    writeFileSync(file, Buffer.concat([len, Buffer.from(header), data]));
    const { tensors } = await readSafetensors(file);
    expect([...tensors.get('h')!.data]).toEqual([1, -2]);
    expect([...tensors.get('b')!.data]).toEqual([1.5]);
    expect([...tensors.get('f')!.data]).toEqual([0.25]);
    len.writeBigUInt64LE(BigInt(header.length + 100));
    writeFileSync(file, Buffer.concat([len, Buffer.from(header), data]));
    await expect(readSafetensors(file)).rejects.toThrow(/header length .* exceeds the file/);
  });

  it('config: { kind: lora } runs the merged folder and makes the base the default reference', async () => {
    const cfg = await configFromObject(
      {
        models: { before: { kind: 'lora', base: 'hf:models/lora/base', adapter: 'models/lora/adapter', merged: 'hf:models/lora/merged' }, after: 'hf:models/lora/base' },
        data: { members: 'data/members.jsonl', forget: 'data/forget.jsonl', holdout: 'data/holdout.jsonl' },
      },
      FIXTURE,
      { attackOptions: () => undefined, knownAttacks: [] },
    );
    expect(cfg.models.before).toMatchObject({ kind: 'hf', path: path.join(LORA, 'merged'), lora: { base: path.join(LORA, 'base'), adapter: path.join(LORA, 'adapter') } });
    expect(cfg.models.reference).toMatchObject({ kind: 'hf', path: path.join(LORA, 'base'), raw: 'hf:models/lora/base' });
    // The adapter's and the base's files are part of before's identity.
    const before = cfg.inputs.filter((i) => i.role === 'model:before').map((i) => path.relative(LORA, i.path));
    expect(before).toEqual(expect.arrayContaining(['merged/onnx/model.onnx', 'base/onnx/model.onnx', 'adapter/adapter_model.safetensors', 'adapter/adapter_config.json']));
    const bad = await configFromObject({ models: { before: { kind: 'lora', base: 'onnx:x.onnx', adapter: 'a', merged: 'hf:m' } }, data: { members: 'a.jsonl', forget: 'b.jsonl', holdout: 'c.jsonl' } }, FIXTURE, { attackOptions: () => undefined, knownAttacks: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InputError);
    expect((bad as InputError).where.field).toBe('models.before.base');
    expect((bad as InputError).message).toMatch(/^expected an hf: model ref/);
  });
});

describe('extraction hits attributed to the adapter', () => {
  const trial = (recordId: string, subject: string, hit: boolean, near = hit): ExtractionTrial => ({ split: 'forget', recordId, subject, target: 'email', hit, near, similarity: hit ? 1 : 0, ...(hit ? { emitted: `${recordId}@x.test` } : {}) });
  const obs = (model: 'before' | 'reference', trials: ExtractionTrial[]): ExtractionObservation => ({ family: 'extraction', model, trials, skipped: {} });

  it('a value the base also emits from the same prompt is not the adapter’s; both counts are reported', () => {
    const target = obs('before', [trial('r1', 's1', true), trial('r2', 's1', true), trial('r3', 's2', true), trial('r4', 's3', false)]);
    const base = obs('reference', [trial('r1', 's1', true), trial('r2', 's1', false), trial('r3', 's2', true), trial('r4', 's3', true)]);
    const attributed = attributeToAdapter(target, base);
    expect(attributed.trials.map((t) => [t.recordId, t.hit, t.raw?.hit, t.emitted])).toEqual([
      ['r1', false, true, undefined],
      ['r2', true, true, 'r2@x.test'],
      ['r3', false, true, undefined],
      ['r4', false, false, undefined],
    ]);
    const [summary] = extractionSummaries('pii-extraction', [attributed]);
    expect(summary).toMatchObject({ hits: 1, subjects: { total: 3, leaked: 1 }, unattributed: { hits: 3, subjectsLeaked: 2, alsoFromBase: 2 } });
    // Prompts that do not line up (another split, record or order) are a bug, never a silent pairing.
    expect(() => attributeToAdapter(target, obs('reference', [...base.trials].reverse()))).toThrow(/prompt 0/);
  });
});
