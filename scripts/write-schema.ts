/**
 * Also writes schema/result.schema.json, the JSON Schema of result.json, from its TypeScript type
 * (scripts/result-schema.ts).
 *
 * Writes schema/config.schema.json — the JSON Schema of the config file, for editors
 * (`# yaml-language-server: $schema=../schema/config.schema.json`, or `"$schema"` in a JSON config).
 * Generated from the zod schema in src/config/schema.ts; `test/config/schema.test.ts` fails when the
 * committed file is stale. Run with `npm run schema`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configJsonSchema, syntheticConfigJsonSchema } from '../src/config/schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/config.schema.json', import.meta.url));

export function schemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** The config of a synthetic-data audit (target: { synthetic }): schema/synthetic-config.schema.json. */
export const SYNTHETIC_SCHEMA_FILE = fileURLToPath(new URL('../schema/synthetic-config.schema.json', import.meta.url));

export function syntheticSchemaText(): string {
  return `${JSON.stringify(syntheticConfigJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(SCHEMA_FILE, schemaText());
  await writeFile(SYNTHETIC_SCHEMA_FILE, syntheticSchemaText());
  console.log(`wrote ${SCHEMA_FILE} and ${SYNTHETIC_SCHEMA_FILE}`);
  const { resultJsonSchema } = await import('./result-schema.ts');
  const result = fileURLToPath(new URL('../schema/result.schema.json', import.meta.url));
  await writeFile(result, `${JSON.stringify(resultJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${result}`);
}
