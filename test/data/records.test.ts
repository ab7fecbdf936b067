import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRecords, recordSource, whereOf } from '../../src/data/records.ts';
import { expectInputError, jsonl, put, tmpDir } from '../config/helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await tmpDir();
});

describe('readRecords: JSONL', () => {
  it('reads records, converts numeric ids, skips blank lines, keeps source lines', async () => {
    const file = await put(
      dir,
      'ok.jsonl',
      [
        JSON.stringify({ id: 'a', subject: 's1', text: 'hello', pii: [{ type: 'email', value: 'a@b.c' }], extra: 1 }),
        '',
        '   ',
        JSON.stringify({ id: 7, subject: 42, text: 'world' }),
        JSON.stringify({ id: 'c', text: 'x', subject: null, pii: null }),
      ].join('\r\n'),
    );
    const recs = await readRecords(file);
    expect(recs).toEqual([
      { id: 'a', subject: 's1', text: 'hello', pii: [{ type: 'email', value: 'a@b.c' }] },
      { id: '7', subject: '42', text: 'world' },
      { id: 'c', text: 'x' },
    ]);
    expect(recs.map((r) => recordSource(r))).toEqual([
      { file, line: 1, record: 1 },
      { file, line: 4, record: 2 },
      { file, line: 5, record: 3 },
    ]);
    expect(whereOf(recs[1]!, 'text')).toEqual({ file, line: 4, record: 2, field: 'text' });
    expect(recordSource({ ...recs[0]! })).toBeUndefined();
  });

  it('.ndjson and a UTF-8 BOM', async () => {
    const file = await put(dir, 'bom.ndjson', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(jsonl([{ id: 'a', text: 't' }]))]));
    expect(await readRecords(file)).toEqual([{ id: 'a', text: 't' }]);
  });

  it('maps field names', async () => {
    const file = await put(dir, 'mapped.jsonl', jsonl([{ uid: 1, person: 'p', body: 'b', secrets: [{ type: 'phone', value: '555' }] }]));
    const recs = await readRecords(file, { id: 'uid', subject: 'person', text: 'body', pii: 'secrets' });
    expect(recs).toEqual([{ id: '1', subject: 'p', text: 'b', pii: [{ type: 'phone', value: '555' }] }]);
  });

  it('malformed JSON line gives the line number', async () => {
    const file = await put(dir, 'bad.jsonl', `${jsonl([{ id: 'a', text: 't' }])}\n{"id": "b", "text": }\n`);
    await expectInputError(readRecords(file), { file, line: 3 }, /^malformed JSON: .*\(each line must be one JSON object\)/);
  });

  it('a line that is not an object', async () => {
    const file = await put(dir, 'arr.jsonl', `${jsonl([{ id: 'a', text: 't' }])}[1, 2]\n`);
    await expectInputError(readRecords(file), { file, line: 2 }, /expected a JSON object on each line, got a list/);
  });

  it('missing, empty and non-scalar ids', async () => {
    let file = await put(dir, 'noid.jsonl', jsonl([{ id: 'a', text: 't' }, { text: 'u' }]));
    await expectInputError(readRecords(file), { file, line: 2, field: 'id' }, /record has no id: field "id" is missing/);
    file = await put(dir, 'emptyid.jsonl', jsonl([{ id: ' ', text: 'u' }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'id' }, /record has an empty id/);
    file = await put(dir, 'boolid.jsonl', jsonl([{ id: true, text: 'u' }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'id' }, /id must be a string or a number, got true/);
    file = await put(dir, 'mappedid.jsonl', jsonl([{ id: 'x', text: 'u' }]));
    await expectInputError(
      readRecords(file, { id: 'uid' }),
      { file, line: 1, field: 'uid' },
      /field "uid" \(the id field, per data.fields.id\) is missing/,
    );
  });

  it('records without text: missing, empty, not a string', async () => {
    let file = await put(dir, 'notext.jsonl', jsonl([{ id: 'a', text: 't' }, { id: 'b', txt: 'oops' }]));
    await expectInputError(readRecords(file), { file, line: 2, field: 'text' }, /record "b" has no text: field "text" is missing/);
    file = await put(dir, 'emptytext.jsonl', jsonl([{ id: 'a', text: '  ' }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'text' }, /record "a" has empty text/);
    file = await put(dir, 'numtext.jsonl', jsonl([{ id: 'a', text: 3 }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'text' }, /record "a": text must be a string, got an integer/);
  });

  it('bad pii lists', async () => {
    let file = await put(dir, 'pii1.jsonl', jsonl([{ id: 'a', text: 't', pii: 'a@b.c' }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'pii' }, /pii must be a list of \{type, value\} objects, got a string/);
    file = await put(dir, 'pii2.jsonl', jsonl([{ id: 'a', text: 't', pii: [{ type: 'email', value: 'x' }, { type: 'email', value: '' }] }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'pii[1].value' }, /pii item needs "value", a non-empty string, got an empty string/);
    file = await put(dir, 'pii3.jsonl', jsonl([{ id: 'a', text: 't', pii: [{ value: 'x' }] }]));
    await expectInputError(readRecords(file), { file, line: 1, field: 'pii[0].type' }, /pii item needs "type"/);
  });

  it('duplicate ids name both lines', async () => {
    const file = await put(dir, 'dup.jsonl', jsonl([{ id: 'a', text: 't' }, { id: 'b', text: 'u' }, { id: 'a', text: 'v' }]));
    await expectInputError(readRecords(file), { file, line: 3, field: 'id' }, /duplicate id "a": already used on line 1/);
    // A number and a string that convert to the same id are duplicates too.
    const file2 = await put(dir, 'dup2.jsonl', jsonl([{ id: 1, text: 't' }, { id: '1', text: 'u' }]));
    await expectInputError(readRecords(file2), { file: file2, line: 2, field: 'id' }, /duplicate id "1": already used on line 1/);
  });

  it('empty file, missing file, unsupported type', async () => {
    let file = await put(dir, 'empty.jsonl', '\n\n');
    await expectInputError(readRecords(file), { file }, /no records: the file is empty/);
    file = path.join(dir, 'missing.jsonl');
    await expectInputError(readRecords(file), { file }, /data file not found/);
    file = await put(dir, 'x.json', '[]');
    await expectInputError(readRecords(file), { file }, /unsupported data file type ".json"; expected .jsonl, .ndjson, .csv/);
  });
});

describe('readRecords: CSV', () => {
  it('reads rows with a header, JSON pii column, empty cells as absent, multi-line cells', async () => {
    const file = await put(
      dir,
      'ok.csv',
      [
        'id,subject,text,pii,other',
        'a,s1,hello,"[{""type"":""email"",""value"":""a@b.c""}]",x',
        '',
        'b,,"two',
        'lines",,y',
        '3,s2,plain,,z',
        '',
      ].join('\r\n'),
    );
    const recs = await readRecords(file);
    expect(recs).toEqual([
      { id: 'a', subject: 's1', text: 'hello', pii: [{ type: 'email', value: 'a@b.c' }] },
      { id: 'b', text: 'two\r\nlines' },
      { id: '3', subject: 's2', text: 'plain' },
    ]);
    expect(recs.map((r) => recordSource(r)?.line)).toEqual([2, 4, 6]);
  });

  it('maps field names to columns', async () => {
    const file = await put(dir, 'mapped.csv', 'uid,body\nu1,hello\n');
    expect(await readRecords(file, { id: 'uid', text: 'body' })).toEqual([{ id: 'u1', text: 'hello' }]);
  });

  it('a row without text gives the line of the row', async () => {
    const file = await put(dir, 'notext.csv', 'id,text\na,"multi\nline"\nb,\nc,ok\n');
    await expectInputError(readRecords(file), { file, line: 4, field: 'text' }, /record "b" has no text: field "text" is missing/);
  });

  it('a header without the text column', async () => {
    const file = await put(dir, 'nocol.csv', 'id,body\na,hello\n');
    await expectInputError(readRecords(file), { file, line: 1, field: 'text' }, /CSV header has no "text" column; columns: id, body/);
  });

  it('malformed CSV rows and pii cells', async () => {
    let file = await put(dir, 'cols.csv', 'id,text\r\na,"x\r\ny"\r\nb,c,d\r\n');
    await expectInputError(readRecords(file), { file, line: 4 }, /^malformed CSV: Invalid Record Length: expect 2, got 3$/);
    file = await put(dir, 'pii.csv', 'id,text,pii\na,t,not json\n');
    await expectInputError(readRecords(file), { file, line: 2, field: 'pii' }, /the "pii" column must be a JSON array/);
  });

  it('duplicate ids and header-only files', async () => {
    let file = await put(dir, 'dup.csv', 'id,text\na,t\nb,u\na,v\n');
    await expectInputError(readRecords(file), { file, line: 4, field: 'id' }, /duplicate id "a": already used on line 2/);
    file = await put(dir, 'header.csv', 'id,text\n');
    await expectInputError(readRecords(file), { file }, /no records: the CSV file has no rows after the header/);
  });
});
