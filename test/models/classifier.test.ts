/**
 * Classifier adapters on real model files: the tabular fixture's ONNX MLPs (logits and probabilities
 * outputs) and tfjs model, and the ticket-classifier fixture's ONNX text classifier (token ids),
 * checked against the probabilities torch computed when it exported it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClassifier, looksLikeProbabilities, onnxClassifierInput, softmaxRows } from '../../src/models/classifier.ts';
import { loadLayersModel } from '../../src/models/tfjs-io.ts';
import { REPO, TABULAR } from '../helpers/paths.ts';

const TICKETS = path.join(REPO, 'fixtures/ticket-classifier');
const rows = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id: string; text: string; label: number; features: number[] });
const holdout = rows(path.join(TABULAR, 'data/holdout.jsonl')).slice(0, 50);
const X = Float32Array.from(holdout.flatMap((r) => r.features));
const DIM = holdout[0]!.features.length;

describe('softmax and output detection', () => {
  it('softmaxRows is a max-shifted softmax per row (no overflow for large logits)', () => {
    const p = softmaxRows(Float32Array.from([1000, 1000, 0, 1, 2, 3]), 2, 3);
    expect(Array.from(p.subarray(0, 3)).map((v) => +v.toFixed(6))).toEqual([0.5, 0.5, 0]);
    const e = [1, Math.E, Math.E ** 2];
    const z = e.reduce((a, b) => a + b, 0);
    p.subarray(3).forEach((v, i) => expect(v).toBeCloseTo(e[i]! / z, 6));
  });

  it('looksLikeProbabilities: non-negative rows summing to 1 (to 1e-3), else logits', () => {
    expect(looksLikeProbabilities(Float32Array.from([0.2, 0.8, 0.5, 0.5]), 2, 2)).toBe(true);
    expect(looksLikeProbabilities(Float32Array.from([0.2, 0.8, 0.5, 0.6]), 2, 2)).toBe(false);
    expect(looksLikeProbabilities(Float32Array.from([-0.2, 1.2]), 1, 2)).toBe(false);
    expect(looksLikeProbabilities(Float32Array.from([NaN, 1]), 1, 2)).toBe(false);
  });
});

describe('onnx: feature-vector classifiers', () => {
  it('reads the input kind from the graph', async () => {
    expect((await onnxClassifierInput(path.join(TABULAR, 'models/overfit.onnx'))).input).toBe('features');
    expect((await onnxClassifierInput(path.join(TICKETS, 'models/model.onnx'))).input).toBe('tokens');
  });

  it('logits output: "auto" applies softmax, the same as "logits"; "probabilities" would pass the raw logits through', async () => {
    const file = path.join(TABULAR, 'models/overfit.onnx');
    const auto = await (await loadClassifier({ kind: 'onnx', path: file, outputs: 'auto' })).predict(X, holdout.length, DIM);
    const logits = await (await loadClassifier({ kind: 'onnx', path: file, outputs: 'logits' })).predict(X, holdout.length, DIM);
    const raw = await (await loadClassifier({ kind: 'onnx', path: file, outputs: 'probabilities' })).predict(X, holdout.length, DIM);
    expect(auto.classes).toBe(20);
    expect(Array.from(auto.probs)).toEqual(Array.from(logits.probs));
    expect(looksLikeProbabilities(auto.probs, holdout.length, 20)).toBe(true);
    expect(looksLikeProbabilities(raw.probs, holdout.length, 20)).toBe(false);
    expect(Array.from(auto.probs)).toEqual(Array.from(softmaxRows(raw.probs, holdout.length, 20)));
  });

  it('probabilities output (softmax in the graph) is detected and not softmaxed twice', async () => {
    const file = path.join(TABULAR, 'models/disjoint.onnx');
    const auto = await (await loadClassifier({ kind: 'onnx', path: file, outputs: 'auto' })).predict(X, holdout.length, DIM);
    const forced = await (await loadClassifier({ kind: 'onnx', path: file, outputs: 'probabilities' })).predict(X, holdout.length, DIM);
    expect(Array.from(auto.probs)).toEqual(Array.from(forced.probs));
    // A second softmax would flatten the rows towards 1/20.
    expect(Math.max(...auto.probs)).toBeGreaterThan(0.5);
  });
});

describe('tfjs: classifiers', () => {
  it('gives the loaded LayersModel’s own predictions', async () => {
    const file = path.join(TABULAR, 'models/retrained/model.json');
    const c = await loadClassifier({ kind: 'tfjs', path: file, outputs: 'auto' });
    expect(c.dim).toBe(DIM);
    const { probs, classes } = await c.predict(X, holdout.length, DIM);
    const tf = await import('@tensorflow/tfjs');
    const model = await loadLayersModel(file);
    const direct = (model.predict(tf.tensor2d(X, [holdout.length, DIM])) as import('@tensorflow/tfjs').Tensor).dataSync();
    expect(classes).toBe(20);
    expect(Array.from(probs)).toEqual(Array.from(direct));
  });
});

describe('onnx: text classifier (input_ids, attention_mask)', () => {
  it('tokenizes, right-pads and masks like torch did: probabilities match its export to 1e-5', async () => {
    const ref = JSON.parse(readFileSync(path.join(TICKETS, 'models/reference-probs.json'), 'utf8')) as Record<string, number[]>;
    const records = rows(path.join(TICKETS, 'data/holdout.jsonl')).filter((r) => r.id in ref);
    expect(records).toHaveLength(8);
    const c = await loadClassifier({
      kind: 'onnx',
      path: path.join(TICKETS, 'models/model.onnx'),
      outputs: 'auto',
      tokenizer: path.join(REPO, 'fixtures/support-desk/models/before/tokenizer.json'),
    });
    expect(c.input).toBe('tokens');
    // Texts of different lengths in one batch: padding must not change a record's probabilities.
    const { probs, classes } = await c.predictTexts(records.map((r) => r.text));
    expect(classes).toBe(8);
    records.forEach((r, i) => ref[r.id]!.forEach((v, k) => expect(Math.abs(probs[i * 8 + k]! - v)).toBeLessThan(1e-5)));
    const alone = await c.predictTexts([records[3]!.text]);
    Array.from(alone.probs).forEach((v, k) => expect(Math.abs(v - probs[3 * 8 + k]!)).toBeLessThan(1e-6));
  });

  it('without a tokenizer it says what is missing', async () => {
    await expect(loadClassifier({ kind: 'onnx', path: path.join(TICKETS, 'models/model.onnx'), outputs: 'auto' })).rejects.toThrow(/needs a tokenizer/);
  });
});
