import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configSchema, splitModelRef } from '../../src/config/schema.ts';
import { SCHEMA_FILE, schemaText, SYNTHETIC_SCHEMA_FILE, syntheticSchemaText } from '../../scripts/write-schema.ts';

describe('config schema', () => {
  it('schema/config.schema.json is up to date (run `npm run schema`)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(schemaText());
    expect(await readFile(SYNTHETIC_SCHEMA_FILE, 'utf8')).toBe(syntheticSchemaText());
  });

  it('JSON Schema: strict objects, attacks as an open map, model ref pattern', () => {
    const s = JSON.parse(schemaText());
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(['models', 'data']);
    expect(s.properties.data.additionalProperties).toBe(false);
    expect(s.properties.attacks.type).toBe('object');
    expect(s.properties.attacks.additionalProperties.anyOf[0].type).toBe('object');
    expect(s.properties.models.properties.before.anyOf[0].pattern).toBe('^(hf|onnx|tfjs|openai):.*\\S');
  });

  it('applies defaults', () => {
    const cfg = configSchema.parse({ models: { before: 'hf:m' }, data: { members: 'a.jsonl', forget: 'f.jsonl', holdout: 'h.csv' } });
    expect(cfg).toMatchObject({ version: 1, seed: 1, workers: 'auto' });
  });

  it('splits model refs', () => {
    expect(splitModelRef('hf:./x')).toEqual({ kind: 'hf', path: './x' });
    expect(splitModelRef('onnx:/a/b.onnx')).toEqual({ kind: 'onnx', path: '/a/b.onnx' });
    expect(splitModelRef('tfjs:m/model.json')).toEqual({ kind: 'tfjs', path: 'm/model.json' });
    expect(splitModelRef('./x')).toBeUndefined();
    expect(splitModelRef('s3://x')).toBeUndefined();
  });
});
