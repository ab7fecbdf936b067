import { sha256 } from '../src/cache.ts';
import type { AuditResult } from '../src/result/types.ts';

/** The canonical bytes of result.json: the report shows their SHA-256 so a reader can verify it. */
export const renderJson = (result: AuditResult): string => `${JSON.stringify(result, null, 2)}\n`;

export const resultDigest = (result: AuditResult): string => sha256(renderJson(result));
