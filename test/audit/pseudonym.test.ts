/**
 * Keyed pseudonyms (src/pseudonym.ts): the key decides the pseudonym, the key file is private and
 * reused, and redaction replaces ids and PII values as whole words only.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskValue } from '../../src/audit/run.ts';
import { InputError } from '../../src/errors.ts';
import { loadPseudonymKey, parseKey, pseudonym, PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_FILE, redaction, replaceWords } from '../../src/pseudonym.ts';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'pa-pseudonym-'));

describe('pseudonym', () => {
  it('same key and id → same pseudonym; another key → another', () => {
    expect(pseudonym(k1, 's003')).toBe(pseudonym(Buffer.from(k1), 's003'));
    expect(pseudonym(k1, 's003')).toMatch(/^S-[0-9a-f]{12}$/);
    expect(pseudonym(k2, 's003')).not.toBe(pseudonym(k1, 's003'));
    expect(pseudonym(k1, 's004')).not.toBe(pseudonym(k1, 's003'));
  });

  it('is HMAC-SHA-256 of the id under the key (not a hash of a published salt)', async () => {
    const { createHmac } = await import('node:crypto');
    expect(pseudonym(k1, 'Ana')).toBe(`S-${createHmac('sha256', k1).update('Ana').digest('hex').slice(0, 12)}`);
  });

  it('parses hex and base64 keys of 32+ bytes, refuses short or malformed ones', () => {
    const hex = 'ab'.repeat(32);
    expect(parseKey(hex)?.toString('hex')).toBe(hex);
    expect(parseKey(`${hex}\n`)?.length).toBe(32);
    expect(parseKey(Buffer.alloc(32, 7).toString('base64'))).toEqual(Buffer.alloc(32, 7));
    expect(parseKey(Buffer.alloc(48, 0xfb).toString('base64url'))).toEqual(Buffer.alloc(48, 0xfb));
    expect(parseKey('ab'.repeat(16))).toBeUndefined();
    expect(parseKey('not a key!')).toBeUndefined();
    expect(parseKey('')).toBeUndefined();
  });
});

describe('the key', () => {
  it('is created 0600 in the output folder on first use and reused after', async () => {
    const dir = path.join(tmp(), 'out');
    const a = await loadPseudonymKey(dir, {});
    expect(a.from).toBe('created');
    const file = path.join(dir, PSEUDONYM_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(a.key.toString('hex'));
    const b = await loadPseudonymKey(dir, {});
    expect(b.from).toBe('file');
    expect(b.key.equals(a.key)).toBe(true);
    const other = await loadPseudonymKey(path.join(tmp(), 'out'), {});
    expect(other.key.equals(a.key)).toBe(false); // a fresh random key per output folder
  });

  it('two runs starting together agree on one key', async () => {
    const dir = tmp();
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadPseudonymKey(dir, {})));
    for (const k of keys) expect(k.key.equals(keys[0]!.key)).toBe(true);
    expect(keys.filter((k) => k.from === 'created').length).toBe(1);
  });

  it('the environment variable wins and writes no file', async () => {
    const dir = tmp();
    const k = await loadPseudonymKey(dir, { [PSEUDONYM_KEY_ENV]: k2.toString('base64') });
    expect(k).toEqual({ key: k2, from: 'env' });
    expect(() => statSync(path.join(dir, PSEUDONYM_KEY_FILE))).toThrow();
  });

  it('a malformed key is an input error that never repeats the key', async () => {
    const bad = 'deadbeef'.repeat(3);
    const e1 = await loadPseudonymKey(tmp(), { [PSEUDONYM_KEY_ENV]: bad }).catch((e) => e);
    expect(e1).toBeInstanceOf(InputError);
    expect((e1 as InputError).format()).toContain(PSEUDONYM_KEY_ENV);
    expect((e1 as InputError).format()).not.toContain(bad);
    const dir = tmp();
    writeFileSync(path.join(dir, PSEUDONYM_KEY_FILE), 'oops\n');
    const e2 = await loadPseudonymKey(dir, {}).catch((e) => e);
    expect(e2).toBeInstanceOf(InputError);
    expect((e2 as InputError).where.file).toBe(path.join(dir, PSEUDONYM_KEY_FILE));
  });

  it('an output path that is a file is an input error naming it', async () => {
    const file = path.join(tmp(), 'not-a-folder');
    writeFileSync(file, 'x');
    const e = await loadPseudonymKey(file, {}).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).format()).toContain(file);
  });
});

describe('redaction', () => {
  it('replaces whole words only, longer ids first', () => {
    const m = new Map([
      ['s3', 'A'],
      ['s3-b', 'B'],
    ]);
    expect(replaceWords('request of s3, s3-b and s31 (ms3) s3', m)).toBe('request of A, B and s31 (ms3) A');
    expect(replaceWords('a.b+c', new Map([['a.b+c', 'X']]))).toBe('X'); // regex characters are literal
  });

  it('pseudonymises forget ids and masks PII in the config echo, forgetSubjects sorted', () => {
    const r = redaction(k1, ['s003', '17'], ['Ludwig Keebler', 'argkd73@example.com'], maskValue);
    const raw = {
      data: { members: './m.jsonl', forgetSubjects: ['s003', 17] },
      deletion: { reference: 'DSR for s003 (Ludwig Keebler, argkd73@example.com), subject 17; not s0031 or 170' },
      attacks: { loss: {} },
    };
    const out = r.config(raw) as typeof raw;
    expect(out.data.forgetSubjects).toEqual([pseudonym(k1, 's003'), pseudonym(k1, '17')].sort());
    expect(out.deletion.reference).toBe(
      `DSR for ${pseudonym(k1, 's003')} (${maskValue('Ludwig Keebler')}, ${maskValue('argkd73@example.com')}), subject ${pseudonym(k1, '17')}; not s0031 or 170`,
    );
    expect(out.attacks).toEqual({ loss: {} });
    expect(raw.data.forgetSubjects).toEqual(['s003', 17]); // the loaded config is not changed
  });
});
