#!/usr/bin/env node
// Documented surfaces (the model: raft-rs's #![deny(missing_docs)]). Every symbol a
// layer's public surface exports (src/<folder>/index.ts for the folders LAYERS in
// check-layers.mjs marks with `surface`) must carry a doc comment (/** ... */) at its
// declaration, wherever that is: a re-export counts where the symbol is declared. A
// namespace export (`export * as keys`) needs one on the export and on each member.
// Prints one line per undocumented symbol:
//   <file>:<line>: <name> (exported by <surface>) has no doc comment
// Exits 1 if there is any, 0 otherwise. Usage: node scripts/check-docs.mjs [project-root]
// test/layers.test.ts runs it on the project and on a fixture tree with known gaps.

import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { LAYERS } from './check-layers.mjs';

/**
 * @param {string} root
 * @returns {{ symbols: number, missing: string[] }}
 */
export function checkDocs(root) {
  const surfaces = Object.entries(LAYERS)
    .filter(([, l]) => l.surface)
    .map(([folder]) => join(root, 'src', folder, 'index.ts'))
    .filter((p) => existsSync(p));
  // Only the surfaces and what they reach are parsed; no lib or @types are needed to follow
  // exports to their declarations, so none are loaded (fast, and the same on any tree).
  const program = ts.createProgram(surfaces, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    noLib: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const rel = (/** @type {string} */ p) => relative(root, p).split(sep).join('/');
  /** @type {Set<ts.Node>} */
  const seen = new Set();
  /** @type {string[]} */
  const missing = [];

  /**
   * @param {ts.Symbol} exported  as the surface (or a namespace) exports it
   * @param {string} name  as a user writes it: `seededRng`, `keys.dataKey`
   * @param {string} surface
   */
  const visit = (exported, name, surface) => {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decls = target.declarations ?? [];
    const module = decls.find(ts.isSourceFile);
    if (module !== undefined) {
      // `export * as keys from './keys.js'`: the doc goes on the export, then each member.
      const nsExport = (exported.declarations ?? []).find(ts.isNamespaceExport);
      if (nsExport !== undefined) report([nsExport], name, surface);
      for (const member of checker.getExportsOfModule(target)) visit(member, `${name}.${member.name}`, surface);
      return;
    }
    report(decls, name, surface);
  };

  /** @param {readonly ts.Declaration[]} decls @param {string} name @param {string} surface */
  const report = (decls, name, surface) => {
    const first = decls[0];
    if (first === undefined || seen.has(first)) return;
    seen.add(first);
    if (decls.some(hasDocComment)) return;
    const sf = first.getSourceFile();
    const line = sf.getLineAndCharacterOfPosition(first.getStart(sf)).line + 1;
    missing.push(`${rel(sf.fileName)}:${line}: ${name} (exported by ${surface}) has no doc comment`);
  };

  for (const path of surfaces) {
    const sf = program.getSourceFile(path);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (moduleSymbol === undefined) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) visit(exported, exported.name, rel(path));
  }
  return { symbols: seen.size, missing };
}

/**
 * A `/** ... *\/` comment right before the declaration's statement (a variable's comment
 * sits before `export const`, a namespace export's before `export * as`).
 * @param {ts.Node} decl
 */
function hasDocComment(decl) {
  let node = decl;
  if (ts.isVariableDeclaration(node)) node = node.parent.parent;
  if (ts.isNamespaceExport(node)) node = node.parent;
  const text = node.getSourceFile().text;
  const comments = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  return comments.some((c) => c.kind === ts.SyntaxKind.MultiLineCommentTrivia && /^\/\*\*[^*/]/.test(text.slice(c.pos, c.end)) && text.slice(c.pos + 3, c.end - 2).trim() !== '');
}

function main() {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { symbols, missing } = checkDocs(root);
  for (const m of missing) console.error(m);
  if (missing.length > 0) {
    console.error(`check-docs: ${missing.length} of ${symbols} surface symbols have no doc comment`);
    process.exitCode = 1;
  } else {
    console.log(`check-docs: ${symbols} surface symbols, all documented`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
