/** `privacy-audit verify`: the report and result.json are checked byte for byte; one changed byte is caught. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

let out: string;
beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-verify-'));
  const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ id: `r${i}`, score: (i * 7) % 13 + (i < 30 ? 2 : 0), member: i < 30, subject: `</script><b>${i}` }));
  writeFileSync(path.join(dir, 's.jsonl'), lines.join('\n'));
  out = path.join(dir, 'out');
  await cli(['evaluate', '--scores', path.join(dir, 's.jsonl'), '--out', out]);
});

const copy = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'pa-verify-copy-'));
  cpSync(out, d, { recursive: true });
  return d;
};

/** Changes one byte (a digit to another digit) somewhere after `from`. */
function flipDigit(file: string, from: string): void {
  const s = readFileSync(file, 'utf8');
  let i = s.indexOf(from);
  while (!/[0-9]/.test(s[i]!)) i++;
  writeFileSync(file, s.slice(0, i) + (s[i] === '7' ? '8' : '7') + s.slice(i + 1));
}

describe('verify', () => {
  it('an untouched report.html and result.json verify (exit 0) and print the same SHA-256', async () => {
    const a = await cli(['verify', path.join(out, 'report.html')]);
    const b = await cli(['verify', path.join(out, 'result.json')]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(a.stdout).toBe(b.stdout);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain(a.stdout.trim());
  });

  it('one changed byte in a number shown in the report is caught (exit 1)', async () => {
    const d = copy();
    flipDigit(path.join(d, 'report.html'), '<td>scores</td>');
    const r = await cli(['verify', path.join(d, 'report.html')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAIL the page is exactly what its embedded result renders to');
  });

  it('one changed byte in result.json is caught, against the report beside it (exit 1)', async () => {
    const d = copy();
    flipDigit(path.join(d, 'result.json'), '"auc"');
    const r = await cli(['verify', path.join(d, 'result.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAIL report.html beside it shows the same SHA-256');
    const h = await cli(['verify', path.join(d, 'report.html')]);
    expect(h.code).toBe(1);
    expect(h.stderr).toContain('FAIL result.json beside it has the same SHA-256');
  });

  it('a file that is not a report is exit 2', async () => {
    const d = copy();
    writeFileSync(path.join(d, 'x.html'), '<html>hello</html>');
    const r = await cli(['verify', path.join(d, 'x.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a privacy-audit report');
  });
});

describe('report --pdf', () => {
  it('prints the report to an A4 PDF with chromium', async () => {
    const d = copy();
    const r = await cli(['report', path.join(d, 'result.json'), '--pdf']);
    expect([0, 1, 4]).toContain(r.code);
    const pdf = readFileSync(path.join(d, 'report.pdf'));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(10_000);
  });
});
