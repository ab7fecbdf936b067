import { sha256 } from '../src/cache.ts';
import type { AuditResult } from '../src/result/types.ts';
import { jsonVisible } from './format.ts';

/**
 * The canonical bytes of result.json: the report shows their SHA-256 so a reader can verify it.
 * Hidden characters from the data (bidi overrides, zero-width, C1 controls) are `\uXXXX` escapes:
 * the same value for a parser, nothing invisible for someone reading the file.
 */
export const renderJson = (result: AuditResult): string => `${jsonVisible(JSON.stringify(result, null, 2))}\n`;

export const resultDigest = (result: AuditResult): string => sha256(renderJson(result));
