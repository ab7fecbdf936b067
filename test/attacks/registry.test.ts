/**
 * Meta-test of the attack registry: every registered attack is complete (folder, index.ts, tasks.ts,
 * README.md with a reference, a test of its own) and its metadata and options follow the contract.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTACKS, attackIds, getAttack, getSyntheticAttack, SYNTHETIC_ATTACKS } from '../../attacks/index.ts';
import type { Capability } from '../../attacks/types.ts';

const ATTACKS_DIR = fileURLToPath(new URL('../../attacks/', import.meta.url));
const TESTS_DIR = fileURLToPath(new URL('./', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

const CAPABILITIES: readonly Capability[] = ['tokenLogprobs', 'tokenStats', 'generate', 'probabilities', 'featureVectors', 'sample'];
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Every *.test.ts under test/attacks except this one, with its contents. */
function testFiles(dir = TESTS_DIR): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts') && p !== THIS_FILE) out.push({ file: p, text: readFileSync(p, 'utf8') });
  }
  return out;
}

/** The option keys of a zod object schema (zod 4 exposes `.shape`). */
const optionKeys = (schema: unknown): string[] => Object.keys((schema as { shape?: Record<string, unknown> }).shape ?? {});

describe('attack registry', () => {
  it('has at least one attack, and ids are unique', () => {
    const ids = attackIds();
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('getAttack finds every registered attack by id and nothing else', () => {
    for (const a of ATTACKS) expect(getAttack(a.meta.id)).toBe(a);
    expect(getAttack('no-such-attack')).toBeUndefined();
  });

  it('registers every attack folder (a folder with an index.ts but no registry line is an error)', () => {
    const folders = readdirSync(ATTACKS_DIR).filter(
      (d) => statSync(path.join(ATTACKS_DIR, d)).isDirectory() && existsSync(path.join(ATTACKS_DIR, d, 'index.ts')),
    );
    expect(folders.sort()).toEqual([...attackIds(), ...SYNTHETIC_ATTACKS.map((a) => a.meta.id)].sort());
  });

  it('has a README.md listing every attack', () => {
    const readme = readFileSync(path.join(ATTACKS_DIR, 'README.md'), 'utf8');
    for (const id of [...attackIds(), ...SYNTHETIC_ATTACKS.map((a) => a.meta.id)]) expect(readme, id).toContain(`\`${id}\``);
  });
});

// Attacks on a released synthetic dataset: no model, so no tasks.ts; the rest of the contract holds.
describe.each(SYNTHETIC_ATTACKS.map((a) => [a.meta.id, a] as const))('synthetic-data attack %s', (id, attack) => {
  const dir = path.join(ATTACKS_DIR, id);
  it('is found by id, has a kebab-case id equal to its folder, index.ts and README.md', () => {
    expect(getSyntheticAttack(id)).toBe(attack);
    expect(getAttack(id)).toBeUndefined();
    expect(id).toMatch(KEBAB);
    for (const f of ['index.ts', 'README.md']) expect(existsSync(path.join(dir, f)), `${id}/${f}`).toBe(true);
  });
  it('has complete metadata and a README citing meta.reference with every option', () => {
    const m = attack.meta;
    expect(['singling-out', 'linkability', 'inference', 'membership', 'diagnostic']).toContain(m.family);
    for (const field of ['title', 'failureTitle', 'description', 'reference'] as const) expect(m[field].trim().length, field).toBeGreaterThan(0);
    expect(m.title).not.toBe(m.failureTitle);
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^#{1,3} .*References/im);
    expect(readme).toContain(m.reference.split(/[ ,.]/)[0]!);
    expect(readme).toMatch(/\b(19|20)\d\d\b/);
    for (const key of optionKeys(attack.options)) expect(readme, `option ${key}`).toContain(`\`${key}\``);
  });
  it('has a test file under test/attacks that names it', () => {
    expect(testFiles().filter(({ text }) => text.includes(`'${id}'`)).length).toBeGreaterThan(0);
  });
});

describe.each(ATTACKS.map((a) => [a.meta.id, a] as const))('attack %s', (id, attack) => {
  const dir = path.join(ATTACKS_DIR, id);

  it('has a kebab-case id equal to its folder name', () => {
    expect(id).toMatch(KEBAB);
    expect(existsSync(dir) && statSync(dir).isDirectory()).toBe(true);
  });

  it('has index.ts, tasks.ts and README.md in its folder', () => {
    for (const f of ['index.ts', 'tasks.ts', 'README.md']) expect(existsSync(path.join(dir, f)), `${id}/${f}`).toBe(true);
  });

  it('has complete metadata', () => {
    const m = attack.meta;
    expect(['membership', 'extraction']).toContain(m.family);
    expect(m.requires.length).toBeGreaterThan(0);
    for (const c of m.requires.flat()) expect(CAPABILITIES).toContain(c);
    for (const field of ['title', 'failureTitle', 'description', 'reference'] as const) {
      expect(m[field].trim().length, field).toBeGreaterThan(0);
    }
    expect(m.title).not.toBe(m.failureTitle);
  });

  it('has a README with references, naming the paper of meta.reference, and every option', () => {
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^#{1,3} .*References/im);
    // The first author's surname of meta.reference ("Yeom, Giacomelli, …" / "Carlini et al. …").
    const firstAuthor = attack.meta.reference.split(/[ ,.]/)[0]!;
    expect(firstAuthor.length).toBeGreaterThan(1);
    expect(readme).toContain(firstAuthor);
    expect(readme).toMatch(/\b(19|20)\d\d\b/); // a year: a citation, not just a name
    for (const key of optionKeys(attack.options)) expect(readme, `option ${key}`).toContain(`\`${key}\``);
  });

  it('has a test file under test/attacks that names it', () => {
    const named = testFiles().filter(
      ({ file, text }) => path.basename(file) === `${id}.test.ts` || text.includes(`'${id}'`) || text.includes(`"${id}"`),
    );
    expect(named.map((n) => path.relative(TESTS_DIR, n.file))).not.toEqual([]);
  });

  // Attacks whose options have no sensible default: the smallest valid options object.
  const MINIMAL: Record<string, Record<string, unknown>> = {
    'canary-exposure': { canaries: [{ format: 'the code is {secret}', secret: '123456' }] },
  };

  it('options parse the minimal object to their defaults and reject an unknown key', () => {
    const minimal = MINIMAL[attack.meta.id] ?? {};
    expect(attack.options.safeParse(minimal).success).toBe(true);
    const parsed = attack.options.parse(minimal) as Record<string, unknown>;
    expect(typeof parsed).toBe('object');
    expect(attack.options.safeParse({ ...minimal, notAnOption: 1 }).success).toBe(false);
    if (!(attack.meta.id in MINIMAL)) expect(Object.keys(minimal)).toEqual([]);
  });
});
