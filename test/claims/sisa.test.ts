/**
 * SISA structural checks (src/claims/sisa) on constructed manifests: a correct deletion passes every
 * gate; each fault fails exactly its own gate, naming the shard, the slice and the pseudonym; a
 * malformed manifest is an InputError naming the JSON path. No models, no training: pure hashing.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSisa, sisaGates, type SisaRoleInput } from '../../src/claims/sisa/checks.ts';
import { artefactDigest, canonicalJson, merkleRoot, recordDigest } from '../../src/claims/sisa/digest.ts';
import { validateSisaManifest, type SisaManifest } from '../../src/claims/sisa/manifest.ts';
import { aggregateProbabilities } from '../../src/models/classifier.ts';
import { InputError } from '../../src/errors.ts';
import type { DataRecord } from '../../src/types.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const records: DataRecord[] = Array.from({ length: 8 }, (_, i) => ({ id: `r${i}`, subject: `subj-${i}`, text: '', features: [i, i / 10], label: i % 2 }));
const byId = new Map(records.map((r) => [r.id, r]));
const config = { optimizer: 'adam', epochs: 4 };
const configSha256 = sha(canonicalJson(config));
// Two shards of two slices; the forget record r6 is in shard 1, slice 1.
const LAYOUT = [
  [['r0', 'r1'], ['r2', 'r3']],
  [['r4', 'r5'], ['r6', 'r7']],
];
const forget = [byId.get('r6')!];
const members = records;

/** A manifest for `layout`; checkpoint digests from `ckpt`, parents chained unless `parent` says otherwise. */
function manifest(layout: string[][][], ckpt: (k: number, r: number) => string, parent: (k: number, r: number) => string | null | undefined = () => undefined, deletion?: SisaManifest['deletion']): SisaManifest {
  const digest = (id: string) => recordDigest(byId.get(id) ?? { text: `content of ${id}` });
  return {
    format: 'privacy-audit/sisa-manifest',
    version: 1,
    aggregation: 'mean-softmax',
    training: { config, configSha256 },
    records: layout.flat(2).map((id) => ({ id, subject: byId.get(id)?.subject ?? id, sha256: digest(id) })),
    shards: layout.map((slices, k) => {
      const roots = slices.map((ids) => merkleRoot(ids.map(digest)));
      return {
        shard: k,
        slices: slices.map((ids, r) => ({ slice: r, records: ids, root: roots[r]! })),
        checkpoints: slices.map((_, r) => ({ slice: r, sha256: ckpt(k, r), parent: parent(k, r) !== undefined ? parent(k, r)! : r === 0 ? null : ckpt(k, r - 1), dataRoot: merkleRoot(roots.slice(0, r + 1)), configSha256 })),
        model: `tfjs:shard-${k}/model.json`,
      };
    }),
    ...(deletion ? { deletion } : {}),
  };
}

const beforeCkpt = (k: number, r: number) => sha(`before ${k} ${r}`);
const afterLayout = [LAYOUT[0]!, [['r4', 'r5'], ['r7']]];
// Correct: shard 1 keeps its checkpoint after slice 0 and retrains slice 1.
const afterCkpt = (k: number, r: number) => (k === 1 && r === 1 ? sha('after 1 1') : beforeCkpt(k, r));
const superseded = { records: ['r6'], superseded: [beforeCkpt(1, 1)], destroyedAt: '2026-12-01T00:00:00Z' };

const role = (m: SisaManifest, audited?: (k: number) => string): SisaRoleInput => ({
  manifest: m,
  file: 'm.json',
  sha256: sha(JSON.stringify(m)),
  audited: m.shards.map((s) => ({ shard: s.shard, model: s.model, digest: audited ? audited(s.shard) : s.checkpoints.at(-1)!.sha256 })),
});
const alias = (s: string) => `S-${sha(`key ${s}`).slice(0, 12)}`;
const record = (id: string) => `R-${sha(`rec ${id}`).slice(0, 16)}`;
const run = (before: SisaManifest, after: SisaManifest, audited?: (k: number) => string) => checkSisa({ before: role(before), after: role(after, audited), forget, members, alias, record });
const failing = (s: ReturnType<typeof checkSisa>) => s.checks.filter((c) => c.status !== 'pass').map((c) => c.id);
const S6 = alias('subj-6');

describe('SISA digests', () => {
  it('Merkle roots follow RFC 6962 (empty tree, one leaf, split at the largest power of two)', () => {
    expect(merkleRoot([])).toBe(sha(''));
    const d = sha('a');
    const leaf = (h: string) => createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(h, 'hex')])).digest();
    expect(merkleRoot([d])).toBe(leaf(d).toString('hex'));
    const [a, b, c] = [sha('a'), sha('b'), sha('c')];
    const node = (x: Buffer, y: Buffer) => createHash('sha256').update(Buffer.concat([Buffer.from([1]), x, y])).digest();
    expect(merkleRoot([a, b, c])).toBe(node(node(leaf(a), leaf(b)), leaf(c)).toString('hex'));
    expect(merkleRoot([b, a])).not.toBe(merkleRoot([a, b]));
  });

  it('a record digest covers its content (features, label, text), not its id or subject', () => {
    expect(canonicalJson({ b: 1, a: [0.5, 'x'], c: undefined })).toBe('{"a":[0.5,"x"],"b":1}');
    const r: DataRecord = { id: 'x', subject: 's', text: '', features: [1, 0.1], label: 2 };
    expect(recordDigest(r)).toBe(sha('{"features":[1,0.1],"label":2}'));
    const renamed: DataRecord = { ...r, id: 'y', subject: 't' };
    expect(recordDigest(renamed)).toBe(recordDigest(r));
    expect(recordDigest({ ...r, label: 3 })).not.toBe(recordDigest(r));
  });

  it('an artefact digest is the file digest, or the sorted sha256sum listing of several files', () => {
    expect(artefactDigest([{ rel: 'm.onnx', sha256: sha('m') }])).toBe(sha('m'));
    const files = [{ rel: 'weights.bin', sha256: sha('w') }, { rel: 'model.json', sha256: sha('j') }];
    expect(artefactDigest(files)).toBe(sha(`${sha('j')}  model.json\n${sha('w')}  weights.bin\n`));
  });
});

describe('SISA structural checks', () => {
  const before = manifest(LAYOUT, beforeCkpt);

  it('a correct deletion passes every gate, with plain lines', () => {
    const s = run(before, manifest(afterLayout, afterCkpt, undefined, superseded));
    expect(failing(s)).toEqual([]);
    expect(s.checks.map((c) => c.id)).toEqual(['manifest-consistent', 'ensemble-before', 'ensemble-after', 'forget-absent', 'retained-unchanged', 'retrained-from-checkpoint', 'other-shards-untouched', 'superseded-destroyed']);
    expect(s.affected).toEqual([{ shard: 1, firstSlice: 1, records: 1, subjects: 1, retrainedFrom: expect.stringContaining('the checkpoint after slice 0') }]);
    const gates = sisaGates(s);
    expect(gates.map((g) => [g.id, g.level, g.status])).toContainEqual(['claims.sisa.superseded-destroyed', 'warn', 'pass']);
    expect(gates.find((g) => g.id === 'claims.sisa.other-shards-untouched')!.message).toMatch(/shard that held no deleted record \(0\)/);
    // The gates are a function of the summary alone (verify re-derives them from result.json).
    expect(sisaGates(JSON.parse(JSON.stringify(s)))).toEqual(gates);
  });

  it('retraining from the checkpoint that saw the record fails retrained-from-checkpoint only, naming shard, slice and pseudonym', () => {
    const s = run(before, manifest(afterLayout, afterCkpt, (k, r) => (k === 1 && r === 1 ? beforeCkpt(1, 1) : undefined), superseded));
    expect(failing(s)).toEqual(['retrained-from-checkpoint']);
    const c = s.checks.find((x) => x.id === 'retrained-from-checkpoint')!;
    expect(c.message).toContain(`shard 1 was retrained from the checkpoint after slice 1, which was trained on slice 1 holding the record of ${S6}`);
    expect(c.message).not.toMatch(/subj-|r6/);
  });

  it('a shard not retrained at all fails retrained-from-checkpoint', () => {
    const s = run(before, manifest(afterLayout, beforeCkpt, undefined, superseded));
    expect(failing(s)).toContain('retrained-from-checkpoint');
    expect(s.checks.find((x) => x.id === 'retrained-from-checkpoint')!.message).toContain(`shard 1: the checkpoint after slice 1 is unchanged, so it is still the one trained on slice 1 with the record of ${S6}`);
  });

  it('a forget record left in a slice fails forget-absent only, naming shard, slice and pseudonym', () => {
    const s = run(before, manifest(LAYOUT, afterCkpt, undefined, superseded));
    expect(failing(s)).toEqual(['forget-absent']);
    expect(s.checks.find((x) => x.id === 'forget-absent')!.message).toBe(`Deleted data is still in the training log of after: shard 1 slice 1 still holds the record of ${S6}`);
  });

  it("a forget record's content under a new id fails forget-absent and retained-unchanged (an addition)", () => {
    const copy: DataRecord = { ...byId.get('r6')!, id: 'r6-copy', subject: 'someone' };
    byId.set('r6-copy', copy);
    try {
      const s = run(before, manifest([LAYOUT[0]!, [['r4', 'r5'], ['r7', 'r6-copy']]], afterCkpt, undefined, superseded));
      expect(failing(s)).toEqual(['forget-absent', 'retained-unchanged']);
      expect(s.checks.find((x) => x.id === 'forget-absent')!.message).toContain(`shard 1 slice 1 holds the content of the record of ${S6} under another id (record ${record('r6-copy')})`);
    } finally {
      byId.delete('r6-copy');
    }
  });

  it('a record removed that was not asked for fails retained-unchanged only', () => {
    const layout = [[['r0', 'r1'], ['r2']], afterLayout[1]!];
    const s = run(before, manifest(layout, (k, r) => (k === 0 && r === 1 ? sha('x') : afterCkpt(k, r)), undefined, superseded));
    expect(failing(s)).toEqual(['retained-unchanged', 'other-shards-untouched']);
    expect(s.checks.find((x) => x.id === 'retained-unchanged')!.message).toContain(`shard 0 slice 1: record ${record('r3')} was removed although it is not a forget record`);
  });

  it('a shard added after the deletion: its records are named as added, the layout change as inconsistent', () => {
    byId.set('r8', { id: 'r8', subject: 'subj-8', text: '', features: [8, 0.8], label: 0 });
    try {
      const s = run(before, manifest([...afterLayout, [['r8']]], afterCkpt, undefined, superseded));
      expect(failing(s)).toEqual(['manifest-consistent', 'retained-unchanged']);
      expect(s.checks.find((x) => x.id === 'retained-unchanged')!.message).toContain(`shard 2 slice 0: record ${record('r8')} was added`);
      expect(s.checks.find((x) => x.id === 'manifest-consistent')!.message).toContain('after has 3 shards, before 2');
    } finally {
      byId.delete('r8');
    }
  });

  it('a shard without forget records that changed fails other-shards-untouched only', () => {
    const s = run(before, manifest(afterLayout, (k, r) => (k === 0 && r === 1 ? sha('retrained 0') : afterCkpt(k, r)), undefined, superseded));
    expect(failing(s)).toEqual(['other-shards-untouched']);
    expect(s.checks.find((x) => x.id === 'other-shards-untouched')!.message).toMatch(/^A shard that held no deleted record changed: shard 0 held no deleted record, but its checkpoint after slice 1 changed/);
  });

  it('an audited constituent that is not the final checkpoint fails ensemble-after only', () => {
    const after = manifest(afterLayout, afterCkpt, undefined, superseded);
    const s = run(before, after, (k) => (k === 1 ? sha('other file') : after.shards[k]!.checkpoints.at(-1)!.sha256));
    expect(failing(s)).toEqual(['ensemble-after']);
    expect(s.checks.find((x) => x.id === 'ensemble-after')!.message).toContain('shard 1: the audited model tfjs:shard-1/model.json has digest');
  });

  it('a slice root that is not its records’ Merkle root fails manifest-consistent', () => {
    const after = manifest(afterLayout, afterCkpt, undefined, superseded);
    after.shards[0]!.slices[1]!.root = sha('forged');
    expect(failing(run(before, after))).toEqual(['manifest-consistent', 'other-shards-untouched']);
  });

  it('old checkpoints not recorded as destroyed: a warning, inconclusive when nothing is recorded', () => {
    const none = run(before, manifest(afterLayout, afterCkpt));
    const c = none.checks.find((x) => x.id === 'superseded-destroyed')!;
    expect([c.level, c.status]).toEqual(['warn', 'inconclusive']);
    const partial = run(before, manifest(afterLayout, afterCkpt, undefined, { records: ['r6'], superseded: [] }));
    expect(partial.checks.find((x) => x.id === 'superseded-destroyed')!.message).toContain(`shard 1: the old checkpoint after slice 1`);
  });

  it('a first deleted record in slice 0: the shard restarts from what slice 0 started from (fresh, or a pre-trained model)', () => {
    const f0 = [byId.get('r0')!];
    const layout = [[['r1'], ['r2', 'r3']], LAYOUT[1]!];
    const ckpt = (k: number, r: number) => (k === 0 ? sha(`after 0 ${r}`) : beforeCkpt(k, r));
    const del = { records: ['r0'], superseded: [beforeCkpt(0, 0), beforeCkpt(0, 1)] };
    const check = (b: SisaManifest, a: SisaManifest) => checkSisa({ before: role(b), after: role(a), forget: f0, members, alias, record });
    expect(failing(check(before, manifest(layout, ckpt, undefined, del)))).toEqual([]);
    const resumed = check(before, manifest(layout, ckpt, (k, r) => (k === 0 && r === 0 ? beforeCkpt(0, 0) : undefined), del));
    expect(failing(resumed)).toEqual(['retrained-from-checkpoint']);
    expect(resumed.checks.find((x) => x.id === 'retrained-from-checkpoint')!.message).toContain(`shard 0 was retrained from the checkpoint after slice 0, which was trained on slice 0 holding the record of ${alias('subj-0')}; it had to restart from a fresh initialisation`);
    // Transfer learning: every shard starts from a pre-trained model, and so must the retraining.
    const base = sha('pre-trained');
    const fromBase = (k: number, r: number) => (r === 0 ? base : undefined);
    const pre = manifest(LAYOUT, beforeCkpt, fromBase);
    expect(failing(check(pre, manifest(layout, ckpt, fromBase, del)))).toEqual([]);
    const fresh = check(pre, manifest(layout, ckpt, (k, r) => (r === 0 ? (k === 0 ? null : base) : undefined), del));
    expect(fresh.checks.find((x) => x.id === 'retrained-from-checkpoint')!.message).toContain('shard 0 was retrained from a fresh initialisation, not from the initial model slice 0 started from before');
  });

  it('only before: consistency and the ensemble, no deletion gates', () => {
    const s = checkSisa({ before: role(before), forget, members, alias, record });
    expect(s.checks.map((c) => [c.id, c.status])).toEqual([
      ['manifest-consistent', 'pass'],
      ['ensemble-before', 'pass'],
    ]);
  });
});

describe('SISA manifest form', () => {
  const good = () => JSON.parse(JSON.stringify(manifest(LAYOUT, beforeCkpt))) as Record<string, unknown> & { shards: { checkpoints: unknown[]; slices: { records: string[] }[] }[] };
  const fieldOf = (raw: unknown): string | undefined => {
    try {
      validateSisaManifest(raw, 'before.manifest.json');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).exitCode).toBe(2);
      expect((e as InputError).where.file).toBe('before.manifest.json');
      return `${(e as InputError).where.field}: ${(e as Error).message}`;
    }
    return undefined;
  };

  it('accepts the constructed manifest', () => expect(fieldOf(good())).toBeUndefined());

  it('names the JSON path and what was expected', () => {
    expect(fieldOf({ ...good(), format: 'sisa' })).toMatch(/^format: expected "privacy-audit\/sisa-manifest"/);
    expect(fieldOf({ ...good(), aggregation: 'max' })).toMatch(/^aggregation: expected "mean-softmax" .* or "vote"/);
    const m = good();
    (m.shards[0]!.checkpoints[1] as { sha256: string }).sha256 = 'abc';
    expect(fieldOf(m)).toMatch(/^shards\[0\]\.checkpoints\[1\]\.sha256: expected .*64 lower-case hex digits/);
    const unknown = good();
    unknown.shards[1]!.slices[0]!.records[1] = 'nobody';
    expect(fieldOf(unknown)).toBe('shards[1].slices[0].records[1]: record id "nobody" is not in the manifest\'s records list');
    const twice = good();
    twice.shards[1]!.slices[0]!.records[0] = 'r0';
    expect(fieldOf(twice)).toMatch(/^shards\[1\]\.slices\[0\]\.records\[0\]: record id "r0" is also in shard 0 slice 0: SISA's shards and slices are disjoint/);
    const short = good();
    short.shards[0]!.checkpoints.pop();
    expect(fieldOf(short)).toMatch(/^shards\[0\]\.checkpoints: expected at least 2 checkpoints/);
    expect(fieldOf({ ...good(), shards: [{ ...good().shards[0], model: 'hf:./x' }] })).toMatch(/^shards\[0\]\.model: expected a tfjs:<model\.json> or onnx:<file\.onnx> ref/);
  });
});

describe('SISA aggregation', () => {
  it('mean-softmax averages the rows; vote gives each constituent’s top class one vote', () => {
    const a = Float32Array.from([0.6, 0.4, 0.2, 0.8]);
    const b = Float32Array.from([0.2, 0.8, 0.4, 0.6]);
    const c = Float32Array.from([0.7, 0.3, 0.1, 0.9]);
    const close = (got: Float32Array, want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
    close(aggregateProbabilities([a, b], 2, 2, 'mean-softmax'), [0.4, 0.6, 0.3, 0.7]);
    close(aggregateProbabilities([a, b, c], 2, 2, 'vote'), [2 / 3, 1 / 3, 0, 1]);
  });
});
