/**
 * Every symbol `src/index.ts` exports (what `import * as sd from "sdkit"` sees, and what the
 * TypeDoc reference lists) carries a TSDoc comment. Read with the TypeScript compiler API, the
 * same way TypeDoc reads it: aliases are followed to the declaration, and a comment on any
 * declaration of the symbol (an overload, a merged interface) counts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "../helpers/spawn.js";

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  types: ["node"],
};

/** A symbol's own doc text (its comment, plus the text of any block tag such as `@module`-free `@returns`). */
function docText(sym: ts.Symbol, checker: ts.TypeChecker): string {
  const text = ts.displayPartsToString(sym.getDocumentationComment(checker)).trim();
  if (text) return text;
  // A comment that is only tags (`@deprecated use x`) still documents the symbol.
  return sym.getJsDocTags(checker).map((t) => `${t.name} ${ts.displayPartsToString(t.text ?? [])}`.trim()).join(" ").trim();
}

/** The exports of `entry` without a TSDoc comment, as "name (file)". */
function undocumentedExports(program: ts.Program, entry: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  assert.ok(source, `${entry} is not part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol, `${entry} is not a module`);
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (docText(sym, checker)) continue;
    const file = sym.declarations?.[0]?.getSourceFile().fileName ?? "?";
    missing.push(`${exported.name} (${file.startsWith(ROOT) ? file.slice(ROOT.length + 1) : file})`);
  }
  return missing.sort();
}

/** The number of exports of `entry` (to be sure the check looked at something). */
function exportCount(program: ts.Program, entry: string): number {
  const checker = program.getTypeChecker();
  return checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!).length;
}

test("every export of src/index.ts has a TSDoc comment", () => {
  const entry = join(ROOT, "src", "index.ts");
  const program = ts.createProgram([entry], OPTIONS);
  assert.ok(exportCount(program, entry) > 100, "the public API was read (it has well over 100 exports)");
  const missing = undocumentedExports(program, entry);
  assert.deepEqual(missing, [], `exports without a TSDoc comment (add /** ... */ above the declaration):\n  ${missing.join("\n  ")}`);
});

test("the check finds an undocumented export, through re-exports and aliases", (t) => {
  // A small package on disk: documented and undocumented exports, re-exported as src/index.ts does.
  const dir = mkdtempSync(join(tmpdir(), "sdkit-docs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "a.ts"), [
    "/** Documented function. */",
    "export function good(): void {}",
    "export function bad(): void {}",
    "/** Documented constant. */",
    "export const GOOD = 1;",
    "export const BAD = 2;",
    "/** Documented class. */",
    "export class Good {}",
    "export class Bad {}",
    "/** @deprecated use good */",
    "export function tagOnly(): void {}",
    "export interface BadShape { x: number }",
    "",
  ].join("\n"));
  writeFileSync(join(dir, "index.ts"), 'export { good, bad, GOOD, BAD, Good, Bad as Renamed, tagOnly } from "./a.js";\nexport type { BadShape } from "./a.js";\n');
  const entry = join(dir, "index.ts");
  const program = ts.createProgram([entry], { ...OPTIONS, types: [] });
  assert.equal(exportCount(program, entry), 8);
  const missing = undocumentedExports(program, entry).map((m) => m.split(" ")[0]);
  assert.deepEqual(missing, ["BAD", "BadShape", "Renamed", "bad"]);
});
