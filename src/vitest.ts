/**
 * `import 'privacy-audit/vitest'` (e.g. in a vitest setup file) adds `toPassPrivacyGates()` and
 * `toShowNoLeakFor(split)` to vitest's `expect`, with their types. See src/matchers.ts.
 */
import { expect } from 'vitest';
import { matchers, type PrivacyAuditMatchers } from './matchers.ts';

expect.extend(matchers);

declare module 'vitest' {
  interface Assertion<T = any> extends PrivacyAuditMatchers<T> {}
  interface AsymmetricMatchersContaining extends PrivacyAuditMatchers {}
}

export { gateTable, matchers, toPassPrivacyGates, toShowNoLeakFor, type PrivacyAuditMatchers } from './matchers.ts';
