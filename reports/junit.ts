/** `junit.xml`: one test case per gate, so CI systems show gates as tests. */
import type { AuditResult } from '../src/result/types.ts';
import { fmt, visible } from './format.ts';
import { resultDigest } from './json.ts';

/**
 * Text from the result as XML character data or attribute value: hidden and control characters
 * shown as `⟨U+001B⟩` first (so also none of the characters XML 1.0 forbids survive: C0 controls
 * but tab and line feed, lone surrogates, U+FFFE/U+FFFF), then markup escaped.
 */
const xml = (s: string): string =>
  visible(String(s)).replace(/[<>&"'\n\t]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\t': '&#9;' })[c]!);

export function renderJunit(result: AuditResult): string {
  const failures = result.gates.filter((g) => g.level === 'error' && g.status === 'fail').length;
  const skipped = result.gates.filter((g) => g.status === 'inconclusive').length;
  const cases = result.gates.map((g) => {
    const head = `    <testcase classname="privacy-audit.${xml(result.gateModel)}" name="${xml(g.id)}">`;
    // The gate's own three-valued status, for tools that read properties (JUnit has two states and "skipped").
    const props = `\n      <properties><property name="status" value="${g.status}"/><property name="level" value="${g.level}"/></properties>`;
    let body = '';
    if (g.status === 'fail' && g.level === 'error')
      body = `\n      <failure message="${xml(g.message)}" type="${g.level}">expected ${xml(g.expected)}, actual ${xml(fmt(g.actual, 6))}</failure>\n    `;
    // A failed warning is reported, not failed: JUnit has no warning state.
    else if (g.status === 'fail') body = `\n      <system-out>WARNING: ${xml(g.message)} (expected ${xml(g.expected)})</system-out>\n    `;
    else if (g.status === 'inconclusive') body = `\n      <skipped message="${xml(`INCONCLUSIVE: ${g.message}`)}"/>\n    `;
    return `${head}${props}${body || '\n    '}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="privacy-audit" tests="${result.gates.length}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="privacy-audit gates" tests="${result.gates.length}" failures="${failures}" skipped="${skipped}">`,
    // The run id (SHA-256 of result.json) ties this file to the rest of the run's evidence.
    `    <properties>\n      <property name="privacy-audit.run-id" value="${resultDigest(result)}"/>\n    </properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
