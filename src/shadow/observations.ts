/**
 * Bring your own shadow outputs: one JSONL line per (model, record),
 * `{ "model": "target" | "<shadow name>", "id", "confidence": p, "member": true|false, "population"?: true }`.
 * `confidence` is the model's probability of the record's true label; `member` on a shadow row says
 * whether that shadow trained on the record, on a target row it is the ground truth for the metrics.
 * Rows with `"population": true` are RMIA's population points z (never scored).
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import type { RecordShadows } from './scores.ts';

export interface ShadowObservations {
  records: (RecordShadows & { member: boolean; line: number })[];
  population: { id: string; target: number; references: number[] }[];
}

export async function readObservations(file: string): Promise<ShadowObservations> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError('cannot read the observations file (does it exist?)', { file });
  }
  const targets = new Map<string, { confidence: number; member: boolean; line: number }>();
  const zTargets = new Map<string, number>();
  const inside = new Map<string, number[]>();
  const outside = new Map<string, number[]>();
  const zRefs = new Map<string, number[]>();
  const seen = new Map<string, number>();
  let rows = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    rows++;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(raw) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`not valid JSON (${(e as Error).message})`, { file, line });
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError('expected a JSON object', { file, line });
    const at = (field: string) => ({ file, line, field });
    if (typeof o.model !== 'string' || o.model === '') throw new InputError('expected "target" or a shadow model name', at('model'));
    if ((typeof o.id !== 'string' && typeof o.id !== 'number') || String(o.id) === '') throw new InputError('expected a non-empty id', at('id'));
    const id = String(o.id);
    const p = o.confidence;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new InputError(`expected a probability in [0, 1], got ${JSON.stringify(p)}`, at('confidence'));
    const population = o.population === true;
    if (o.population !== undefined && typeof o.population !== 'boolean') throw new InputError('expected true or false', at('population'));
    const key = `${o.model}\u0000${id}\u0000${population}`;
    const prev = seen.get(key);
    if (prev !== undefined) throw new InputError(`duplicate row for model "${o.model}" and id "${id}" (first on line ${prev})`, at('id'));
    seen.set(key, line);
    if (population) {
      if (o.model === 'target') zTargets.set(id, p);
      else zRefs.set(id, [...(zRefs.get(id) ?? []), p]);
      return;
    }
    if (typeof o.member !== 'boolean') throw new InputError('expected true or false (did the model train on this record?)', at('member'));
    if (o.model === 'target') targets.set(id, { confidence: p, member: o.member, line });
    else (o.member ? inside : outside).set(id, [...((o.member ? inside : outside).get(id) ?? []), p]);
  });
  if (rows === 0) throw new InputError('no observations (empty file)', { file });
  if (targets.size === 0) throw new InputError('no target rows: every scored record needs a row with "model": "target"', { file, field: 'model' });
  for (const id of new Set([...inside.keys(), ...outside.keys()]))
    if (!targets.has(id)) throw new InputError(`shadow rows for id "${id}" but no target row for it`, { file, field: 'id' });
  const records = [...targets].map(([id, t]) => ({ id, target: t.confidence, member: t.member, line: t.line, inside: inside.get(id) ?? [], outside: outside.get(id) ?? [] }));
  const population = [...zTargets].map(([id, target]) => ({ id, target, references: zRefs.get(id) ?? [] }));
  for (const z of population)
    if (z.references.length === 0) throw new InputError(`population point "${id(z)}" has no reference-model rows`, { file, field: 'population' });
  return { records, population };
}

const id = (z: { id: string }) => z.id;
