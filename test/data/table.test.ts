/**
 * Tables of a synthetic-data audit (src/data/table.ts) and its gates (src/assert/synthetic.ts):
 * column types declared or inferred, mistakes named with file, line and column, and the
 * three-valued rule on residual-risk intervals.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeTables, readTable, tableSchema } from '../../src/data/table.ts';
import { syntheticGates } from '../../src/assert/synthetic.ts';
import { InputError } from '../../src/errors.ts';
import type { SyntheticSummary } from '../../src/result/types.ts';
import { residualRisk, successRate } from '../../src/metrics/risk.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-table-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('tables', () => {
  it('reads CSV and JSONL, infers numeric and categorical columns, keeps missing values missing', async () => {
    const a = await readTable(file('a.csv', 'id,age,zip\n1,30,123\n2,,456\n'), 'synthetic');
    const b = await readTable(file('b.jsonl', '{"id":"x","age":41.5,"zip":"12a"}\n{"id":"y","age":null,"zip":"123"}\n'), 'members');
    const schema = tableSchema([a, b], {}, ['id']);
    expect(schema).toEqual([
      { name: 'age', kind: 'numeric', declared: false },
      { name: 'zip', kind: 'categorical', declared: false },
    ]);
    const { tables, encoding } = encodeTables([a, b], schema, 'id', undefined);
    expect(Number.isNaN(tables[0]!.data[2])).toBe(true);
    // categorical codes are shared: "123" in the CSV and in the JSONL are the same level
    expect(tables[0]!.data[1]).toBe(tables[1]!.data[3]);
    expect(encoding.levels.get(1)).toEqual(['123', '456', '12a']);
  });

  it('names file, line and column for a mistake', async () => {
    const a = await readTable(file('c.csv', 'id,age\n1,30\n'), 'synthetic');
    const b = await readTable(file('d.csv', 'id,height\n1,2\n'), 'members');
    expect(() => tableSchema([a, b], {}, ['id'])).toThrow(/the members table has no column "age"/);
    const c = await readTable(file('e.jsonl', '{"id":1,"age":3}\n{"id":2,"age":"old"}\n'), 'members');
    try {
      tableSchema([a, c], { age: 'numeric' }, ['id']);
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).format()).toBe(`${path.join(dir, 'e.jsonl')}:2: field "age": expected a number (column "age" is declared numeric in target.columns), got "old"`);
    }
    await expect(readTable(file('f.jsonl', '{"id":1,"age":[1,2]}\n'), 'members')).rejects.toThrow("expected a number, a string, a boolean or null in a table column, got a list");
  });
});

describe('synthetic gates', () => {
  const risk = (ka: number, kc: number, n = 500) => {
    const attackRate = successRate(ka, n);
    const controlRate = successRate(kc, n);
    return { attack: 'linkability', family: 'linkability' as const, variant: 'a | b', attacks: { requested: n, made: n }, attackRate, controlRate, baselineRate: successRate(0, n), residual: residualRisk(attackRate, controlRate)!, columns: [], scoredOn: { members: n, control: n }, hits: { people: ka, records: ka }, warnings: [] };
  };
  const summary = (r: ReturnType<typeof risk>): SyntheticSummary => ({ target: { kind: 'tabular', columns: [], records: {}, unit: 'subject' }, risks: [r], diagnostics: [], subjects: [], coverage: [] });
  it('passes only when the whole interval is at or below 0.05, fails only when wholly above', () => {
    const status = (ka: number, kc: number) => syntheticGates(summary(risk(ka, kc)), [], ['linkability'])[0]!;
    expect(status(5, 5).status).toBe('pass'); // R = 0 [0, 0.02]
    expect(status(150, 10).status).toBe('fail'); // R ≈ 0.28, wholly above
    expect(status(60, 40).status).toBe('inconclusive'); // R ≈ 0.04, interval straddles 0.05
    expect(status(150, 10).id).toBe('synthetic.linkability.risk');
  });
});
