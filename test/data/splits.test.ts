import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, type LoadedData, type LoadOptions } from '../../src/config/load.ts';
import { recordSource, resolveFields } from '../../src/data/records.ts';
import { buildSplits, seededSample } from '../../src/data/splits.ts';
import { expectInputError, hfFolder, jsonl, put, tmpDir } from '../config/helpers.ts';

const opts: LoadOptions = { attackOptions: (id) => (id === 'loss' ? z.strictObject({}) : undefined), knownAttacks: ['loss'] };

let dir: string;
/** 40 members: m00..m39, subjects s0..s9 (4 records each); holdout h00..h19. */
const members = Array.from({ length: 40 }, (_, i) => ({
  id: `m${String(i).padStart(2, '0')}`,
  subject: `s${i % 10}`,
  text: `member text ${i}`,
}));
const holdout = Array.from({ length: 20 }, (_, i) => ({ id: `h${String(i).padStart(2, '0')}`, text: `holdout text ${i}` }));

beforeAll(async () => {
  dir = await tmpDir();
  await put(dir, 'members.jsonl', jsonl(members));
  await put(dir, 'members-shuffled.jsonl', jsonl([...members].reverse()));
  await put(dir, 'holdout.jsonl', jsonl(holdout));
  await put(dir, 'forget.jsonl', jsonl([members[3], { ...members[13]!, pii: [{ type: 'email', value: 'x@y.z' }] }]));
});

function data(over: Partial<LoadedData> = {}): LoadedData {
  return {
    members: path.join(dir, 'members.jsonl'),
    holdout: path.join(dir, 'holdout.jsonl'),
    forget: path.join(dir, 'forget.jsonl'),
    fields: resolveFields(),
    origin: { lines: {} },
    ...over,
  };
}

describe('buildSplits', () => {
  it('forget from a file: member records completed by the forget file, sources in the forget file', async () => {
    const s = await buildSplits(data(), 1);
    expect(s.members).toHaveLength(40);
    expect(s.holdout).toHaveLength(20);
    expect(s.forget).toEqual([
      { id: 'm03', subject: 's3', text: 'member text 3' },
      { id: 'm13', subject: 's3', text: 'member text 13', pii: [{ type: 'email', value: 'x@y.z' }] },
    ]);
    expect(s.forget.map((r) => recordSource(r)?.line)).toEqual([1, 2]);
    expect(recordSource(s.forget[0]!)?.file).toBe(path.join(dir, 'forget.jsonl'));
    expect(s.forgetSubjects).toEqual(['s3']);
    // Retain: default size = forget size, no record of a forget subject, sorted by id.
    expect(s.retain).toHaveLength(2);
    expect(s.retain.every((r) => r.subject !== 's3')).toBe(true);
    expect(s.retain.map((r) => r.id)).toEqual([...s.retain.map((r) => r.id)].sort());
    expect(s.population).toBeUndefined();
  });

  it('forget from subject ids', async () => {
    const s = await buildSplits(data({ forget: undefined, forgetSubjects: ['s1', 's2', 's1'] }), 1);
    expect(s.forgetSubjects).toEqual(['s1', 's2']);
    expect(s.forget.map((r) => r.id)).toEqual(['m01', 'm02', 'm11', 'm12', 'm21', 'm22', 'm31', 'm32']);
    expect(recordSource(s.forget[0]!)).toEqual({ file: path.join(dir, 'members.jsonl'), line: 2, record: 2 });
    expect(s.retain).toHaveLength(8);
    expect(s.retain.some((r) => r.subject === 's1' || r.subject === 's2')).toBe(false);
  });

  it('retain sampling is deterministic by seed, independent of file order, and sized by retainSample', async () => {
    const cfg = data({ retainSample: 10 });
    const a = await buildSplits(cfg, 123);
    const b = await buildSplits(cfg, 123);
    const shuffled = await buildSplits({ ...cfg, members: path.join(dir, 'members-shuffled.jsonl') }, 123);
    const other = await buildSplits(cfg, 124);
    const ids = (x: { retain: { id: string }[] }) => x.retain.map((r) => r.id);
    expect(ids(a)).toHaveLength(10);
    expect(ids(b)).toEqual(ids(a));
    expect(ids(shuffled)).toEqual(ids(a));
    expect(ids(other)).not.toEqual(ids(a));
    expect(ids(a)).toEqual([...ids(a)].sort());
    expect(new Set(ids(a)).size).toBe(10);

    // Capped at what exists (40 members minus the 4 records of subject s3), or all of them.
    expect((await buildSplits(data({ retainSample: 1000 }), 1)).retain).toHaveLength(36);
    expect((await buildSplits(data({ retainSample: 'all' }), 1)).retain).toHaveLength(36);
  });

  it('seededSample: without replacement, sorted, pinned values for seed 1', () => {
    const recs = members.map((m) => ({ id: m.id, text: m.text }));
    const s = seededSample(recs, 5, 1);
    expect(s.map((r) => r.id)).toEqual([...new Set(s.map((r) => r.id))].sort());
    // Pinned so an accidental change of the sampler (and so of every retain set) is noticed.
    expect(s.map((r) => r.id)).toMatchInlineSnapshot(`
      [
        "m06",
        "m25",
        "m29",
        "m34",
        "m39",
      ]
    `);
    expect(seededSample(recs, 0, 1)).toEqual([]);
  });

  it('reads population when given', async () => {
    await put(dir, 'pop.csv', 'id,text\np1,pop one\np2,pop two\n');
    const s = await buildSplits(data({ population: path.join(dir, 'pop.csv') }), 1);
    expect(s.population?.map((r) => r.id)).toEqual(['p1', 'p2']);
  });

  it('a forget record that is not a member names the forget file line and the id', async () => {
    const file = await put(dir, 'forget-bad.jsonl', jsonl([members[0], { id: 'zz', text: 'never trained on' }]));
    await expectInputError(
      buildSplits(data({ forget: file }), 1),
      { file, line: 2, field: 'id' },
      /forget record "zz" is not a member: .*members.jsonl has no record with this id/,
    );
  });

  it('a forget record whose text differs from the member with the same id', async () => {
    const file = await put(dir, 'forget-text.jsonl', jsonl([{ id: 'm05', text: 'other text' }]));
    await expectInputError(
      buildSplits(data({ forget: file }), 1),
      { file, line: 1, field: 'text' },
      /forget record "m05" has different text than the member record with the same id \(.*members.jsonl:6\)/,
    );
  });

  it('a holdout record that is a member (by id)', async () => {
    const file = await put(dir, 'holdout-id.jsonl', jsonl([holdout[0], holdout[1], { id: 'm07', text: 'something new' }]));
    await expectInputError(
      buildSplits(data({ holdout: file }), 1),
      { file, line: 3, field: 'id' },
      /holdout record "m07" is also a member \(.*members.jsonl:8\)/,
    );
  });

  it('a holdout record that is a member (by identical text)', async () => {
    const file = await put(dir, 'holdout-text.csv', `id,text\nh1,fresh\nh2,member text 9\n`);
    await expectInputError(
      buildSplits(data({ holdout: file }), 1),
      { file, line: 3, field: 'text' },
      /holdout record "h2" has the same text as member "m09" \(.*members.jsonl:10\)/,
    );
  });

  it('an unknown forget subject points at the config line', async () => {
    await hfFolder(dir, 'model');
    const cfgFile = await put(
      dir,
      'audit.yml',
      [
        'models:',
        '  before: hf:./model',
        'data:',
        '  members: members.jsonl',
        '  holdout: holdout.jsonl',
        '  forgetSubjects:',
        '    - s1',
        '    - s99',
        '',
      ].join('\n'),
    );
    const cfg = await loadConfig(cfgFile, opts);
    await expectInputError(
      buildSplits(cfg.data, cfg.seed),
      { file: cfgFile, line: 8, field: 'data.forgetSubjects[1]' },
      /unknown forget subject "s99": no record in .*members.jsonl has this subject \(members has 10 subjects, e.g. "s0", "s1", "s2"\)/,
    );
  });

  it('a member file without subjects says so', async () => {
    const file = await put(dir, 'nosubj.jsonl', jsonl([{ id: 'a', text: 'x' }, { id: 'b', text: 'y' }]));
    await expectInputError(
      buildSplits(data({ members: file, forget: undefined, forgetSubjects: ['s1'] }), 1),
      { field: 'data.forgetSubjects[0]' },
      /no member record has a "subject" field/,
    );
  });

  it('no retain records left', async () => {
    const m = await put(dir, 'two.jsonl', jsonl([{ id: 'a', subject: 's', text: 'x' }, { id: 'b', subject: 's', text: 'y' }]));
    await expectInputError(
      buildSplits(data({ members: m, forget: undefined, forgetSubjects: ['s'] }), 1),
      { file: m },
      /members has no records outside the forget set/,
    );
  });

  it('errors from the data files propagate with their location', async () => {
    const file = await put(dir, 'holdout-bad.jsonl', `${jsonl([holdout[0]])}{"id":"h9"}\n`);
    await expectInputError(buildSplits(data({ holdout: file }), 1), { file, line: 2, field: 'text' }, /record "h9" has no text/);
  });
});
