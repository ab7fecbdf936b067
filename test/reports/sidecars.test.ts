/**
 * Sidecars (src/sidecars.ts): scores.jsonl.gz and subjects.csv beside result.json, named in it with
 * their SHA-256, pseudonymised like the report, deterministic, CSV-injection-safe, checked by verify
 * and carried over by `report`.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Deflate, ungzip } from 'pako';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MembershipObservation } from '../../attacks/types.ts';
import { sha256 } from '../../src/cache.ts';
import type { AuditResult } from '../../src/result/types.ts';
import { csvCell, scoresSidecar, subjectsSidecar } from '../../src/sidecars.ts';
import { verify } from '../../src/verify.ts';
import { cli } from '../helpers/cli.ts';
import { FIXTURE } from '../helpers/paths.ts';
import { smallAudit } from '../helpers/small-audit.ts';

describe('sidecar rendering (pure)', () => {
  const obs = (model: 'before' | 'after', shift: number): MembershipObservation => ({
    family: 'membership',
    model,
    splits: {
      holdout: { ids: ['h2', 'h1'], subjects: ['p9', undefined], scores: [0.25 + shift, -1e-9] },
      forget: { ids: ['f1'], subjects: ['p1'], scores: [1 / 3] },
    },
  });
  const names = { record: (id: string) => `R-${id}`, subject: (s: string) => `S-${s}` };

  it('scores.jsonl.gz: fixed gzip header, same bytes twice, one line per record in split order then by id', () => {
    const m = new Map([['loss', [obs('before', 0), obs('after', 1)]]]);
    const a = scoresSidecar(m, names);
    expect(scoresSidecar(m, names).bytes.equals(a.bytes)).toBe(true);
    // gzip header: magic, deflate, no flags, mtime 0, OS 255 (unknown)
    expect([...a.bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    expect(a.ref).toEqual({ file: 'scores.jsonl.gz', sha256: sha256(a.bytes), bytes: a.bytes.length, rows: 6 });
    const lines = new TextDecoder().decode(ungzip(a.bytes)).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 3)).toEqual([
      { attack: 'loss', model: 'before', split: 'forget', id: 'R-f1', subject: 'S-p1', score: 1 / 3 },
      { attack: 'loss', model: 'before', split: 'holdout', id: 'R-h1', score: -1e-9 },
      { attack: 'loss', model: 'before', split: 'holdout', id: 'R-h2', subject: 'S-p9', score: 0.25 },
    ]);
    expect(lines[5]).toEqual({ attack: 'loss', model: 'after', split: 'holdout', id: 'R-h2', subject: 'S-p9', score: 1.25 });
  });

  it('scores.jsonl.gz written in chunks is byte for byte the gzip of the whole text at once', () => {
    // 10,000 holdout records: more lines than one chunk, ids out of order.
    const n = 10_000;
    const ids = Array.from({ length: n }, (_, i) => `r${(i * 7919) % n}`);
    const o: MembershipObservation = { family: 'membership', model: 'before', splits: { holdout: { ids, subjects: ids.map((_, i) => (i % 5 === 0 ? undefined : `p${i % 977}`)), scores: ids.map((_, i) => Math.sin(i)) } } };
    const got = scoresSidecar(new Map([['loss', [o]]]), names);
    const order = ids.map((_, i) => i).sort((a, b) => (names.record(ids[a]!) < names.record(ids[b]!) ? -1 : 1));
    const text = order
      .map((i) => {
        const subject = o.splits.holdout!.subjects[i];
        return `${JSON.stringify({ attack: 'loss', model: 'before', split: 'holdout', id: names.record(ids[i]!), ...(subject !== undefined ? { subject: names.subject(subject) } : {}), score: Math.sin(i) })}\n`;
      })
      .join('');
    const whole = new Deflate({ gzip: true, level: 6, header: { time: 0, os: 255 } });
    whole.push(new TextEncoder().encode(text), true);
    expect(got.bytes.equals(Buffer.from(whole.result as Uint8Array))).toBe(true);
  });

  it('CSV cells: formulas defused, separators quoted, hidden characters named', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1 555')).toBe("'+1 555");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('line⟨U+000A⟩break');
    expect(csvCell('x\u202Ey')).toBe('x⟨U+202E⟩y');
    expect(csvCell(-3)).toBe('-3');
  });

  it('subjects.csv: every subject, one column group per role', () => {
    const s = subjectsSidecar(
      [
        { subject: 'S-a', records: 2, leakedBy: { before: ['pii-extraction'], after: [] }, flaggedBy: { before: ['loss', 'zlib'] }, emitted: { before: [{ type: 'email', value: 'j***@****.test' }] } },
        { subject: 'S-b', records: 1, leakedBy: {}, flaggedBy: {} },
      ],
      ['before', 'after'],
    );
    expect(s.bytes.toString('utf8')).toBe(
      'subject,records,before leaked by,before flagged by,before emitted,after leaked by,after flagged by,after emitted\n' +
        'S-a,2,pii-extraction,loss zlib,email j***@****.test,,,\n' +
        'S-b,1,,,,,,\n',
    );
    expect(s.ref.rows).toBe(2);
  });
});

describe('sidecars of a run', () => {
  let out: string;
  let result: AuditResult;
  const forgetRecords = readFileSync(path.join(FIXTURE, 'data/forget.jsonl'), 'utf8').trim().split('\n').slice(0, 6).map((l) => JSON.parse(l) as { id: string; subject: string; pii: { value: string }[] });
  beforeAll(async () => {
    const { dir, config } = smallAudit({ prefix: 'pa-sidecars-', forget: 6, holdout: 6, after: false, attacks: '  loss: {}\n  pii-extraction: { maxNewTokens: 8 }' });
    const r = await cli(['run', config, '--workers', '1', '--bootstrap', '50']);
    expect(r.stderr).not.toMatch(/runtime failure|Error:/);
    out = path.join(dir, 'out');
    result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as AuditResult;
  }, 120_000);

  it('result.json names both with their SHA-256; they hold pseudonyms and masked values only', () => {
    const refs = new Map((result.sidecars ?? []).map((s) => [s.file, s]));
    expect([...refs.keys()]).toEqual(['scores.jsonl.gz', 'subjects.csv']);
    const scores = readFileSync(path.join(out, 'scores.jsonl.gz'));
    const csv = readFileSync(path.join(out, 'subjects.csv'));
    expect(sha256(scores)).toBe(refs.get('scores.jsonl.gz')!.sha256);
    expect(sha256(csv)).toBe(refs.get('subjects.csv')!.sha256);
    const lines = new TextDecoder().decode(ungzip(scores)).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBe(refs.get('scores.jsonl.gz')!.rows);
    expect(new Set(lines.map((l) => l.split))).toEqual(new Set(['forget', 'retain', 'holdout']));
    for (const l of lines) {
      expect(l.id).toMatch(/^R-[0-9a-f]{16}$/);
      expect(l.subject).toMatch(/^S-[0-9a-f]{12}$/);
    }
    const text = csv.toString('utf8');
    const people = new Set(forgetRecords.map((r) => r.subject));
    expect(text.trimEnd().split('\n').length).toBe(people.size + 1);
    // no raw id, subject or PII value in either file
    const plain = `${text}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`;
    for (const r of forgetRecords) {
      expect(plain).not.toMatch(new RegExp(`\\b${r.subject}\\b`));
      expect(plain).not.toContain(`"${r.id}"`);
      for (const p of r.pii) expect(plain).not.toContain(p.value);
    }
    // the report lists the people who leaked or were flagged and counts the rest
    expect(result.subjects.length + result.subjectsNotListed!).toBe(people.size);
  });

  it('verify checks them: one changed byte in subjects.csv fails integrity', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'pa-sidecars-edit-'));
    cpSync(out, d, { recursive: true });
    const f = path.join(d, 'subjects.csv');
    writeFileSync(f, readFileSync(f, 'utf8').replace('S-', 'S_'));
    const v = await verify(path.join(d, 'report.html'));
    expect(v.ok).toBe(false);
    expect(v.checks.filter((c) => c.status === 'fail').map((c) => c.what)).toEqual(['subjects.csv beside it is the one the result names (SHA-256)']);
  }, 60_000);

  it('report re-renders into another folder with the sidecars carried over, and that folder verifies', async () => {
    const d = path.join(mkdtempSync(path.join(os.tmpdir(), 'pa-sidecars-report-')), 'again');
    await cli(['report', path.join(out, 'result.json'), '--out', d]);
    expect(readFileSync(path.join(d, 'scores.jsonl.gz')).equals(readFileSync(path.join(out, 'scores.jsonl.gz')))).toBe(true);
    expect(readFileSync(path.join(d, 'result.json'), 'utf8')).toBe(readFileSync(path.join(out, 'result.json'), 'utf8'));
    const v = await verify(path.join(d, 'report.html'));
    expect(v.checks.filter((c) => c.what.includes('beside it is the one the result names')).map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(v.ok).toBe(true);
  }, 60_000);
});
