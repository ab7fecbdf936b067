/**
 * The JSON Schema of result.json (schema/result.schema.json), generated from the TypeScript type
 * `AuditResult` (src/result/types.ts) with the TypeScript compiler's own type checker: the type stays
 * the one source, so the schema cannot drift from it (`npm run schema` writes both schemas;
 * test/library.test.ts checks a real result against it). Named interfaces and aliases become
 * `$defs`; doc comments become descriptions; `unknown` (attack options, the config as given) is
 * left open. Only the type shapes the result uses are handled; another shape stops the script.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
type Schema = Record<string, unknown>;

export function resultJsonSchema(): Schema {
  const file = path.join(ROOT, 'src/result/types.ts');
  const program = ts.createProgram([file], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'AuditResult')!;
  const defs: Record<string, Schema> = {};

  const doc = (sym: ts.Symbol | undefined) => {
    const text = sym ? ts.displayPartsToString(sym.getDocumentationComment(checker)).trim() : '';
    return text ? { description: text } : {};
  };
  const nameOf = (t: ts.Type): string | undefined => {
    const sym = t.aliasSymbol ?? t.getSymbol();
    if (!sym || t.aliasTypeArguments?.length) return undefined;
    const d = sym.declarations?.[0];
    return d && (ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d)) ? sym.getName() : undefined;
  };

  function convert(t: ts.Type, where: string): Schema {
    const f = t.flags;
    if (f & ts.TypeFlags.Unknown || f & ts.TypeFlags.Any) return {};
    if (f & ts.TypeFlags.StringLiteral) return { const: (t as ts.StringLiteralType).value };
    if (f & ts.TypeFlags.NumberLiteral) return { const: (t as ts.NumberLiteralType).value };
    if (f & ts.TypeFlags.BooleanLiteral) return { const: checker.typeToString(t) === 'true' };
    if (f & ts.TypeFlags.String) return { type: 'string' };
    if (f & ts.TypeFlags.Number) return { type: 'number' };
    if (f & ts.TypeFlags.Boolean) return { type: 'boolean' };
    if (f & ts.TypeFlags.Null) return { type: 'null' };
    if (t.isUnion()) {
      const parts = t.types.filter((u) => !(u.flags & ts.TypeFlags.Undefined));
      const bools = parts.filter((u) => u.flags & ts.TypeFlags.BooleanLiteral);
      const rest = parts.filter((u) => !(u.flags & ts.TypeFlags.BooleanLiteral));
      const all = [...rest.map((u) => convert(u, where)), ...(bools.length === 2 ? [{ type: 'boolean' }] : bools.map((u) => convert(u, where)))];
      if (all.every((s) => 'const' in s && Object.keys(s).length === 1)) return { enum: all.map((s) => s.const) };
      return all.length === 1 ? all[0]! : { anyOf: all };
    }
    if (checker.isArrayType(t)) return { type: 'array', items: convert(checker.getTypeArguments(t as ts.TypeReference)[0]!, `${where}[]`) };
    if (f & ts.TypeFlags.Object) {
      const name = nameOf(t);
      if (name && name !== '__type') {
        if (!(name in defs)) {
          defs[name] = {}; // placeholder: a recursive reference finds it
          defs[name] = { ...doc(t.aliasSymbol ?? t.getSymbol()), ...objectSchema(t, name) };
        }
        return { $ref: `#/$defs/${name}` };
      }
      return objectSchema(t, where);
    }
    // One object with the properties of every part (allOf would let each part refuse the others' keys).
    if (t.isIntersection()) return objectSchema(t, where);
    throw new Error(`result schema: ${where}: type ${checker.typeToString(t)} is not handled`);
  }

  function objectSchema(t: ts.Type, where: string): Schema {
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const p of checker.getPropertiesOfType(t)) {
      const pt = checker.getTypeOfSymbol(p);
      properties[p.getName()] = { ...convert(pt, `${where}.${p.getName()}`), ...doc(p) };
      if (!(p.flags & ts.SymbolFlags.Optional)) required.push(p.getName());
    }
    const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    return {
      type: 'object',
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: index ? convert(index.type, `${where}[string]`) : false,
    };
  }

  const root = objectSchema(checker.getTypeAtLocation(decl), 'AuditResult');
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://privacy-audit.dev/schema/result.schema.json',
    title: 'privacy-audit result.json',
    ...doc(checker.getSymbolAtLocation(decl.name)),
    ...root,
    $defs: Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b))),
  };
}
