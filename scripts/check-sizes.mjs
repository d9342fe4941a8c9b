#!/usr/bin/env node
// Size check for the folders a newcomer must be able to read (issue 22): every module of
// src/raftstore under MAX_FILE_LINES lines and no function in it over MAX_FUNCTION_LINES.
// Prints one line per excess:
//   <file>: <n> lines (the most is <max>)
//   <file>:<line> <function>: <n> lines (the most is <max>)
// and exits 1 if there is any. Test files are not counted. Usage:
//   node scripts/check-sizes.mjs [project-root]
// test/sizes.test.ts runs it on the project and on a fixture that breaks both limits.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The folders held to the limits (relative to the project root). */
export const GOVERNED = ['src/raftstore'];
export const MAX_FILE_LINES = 350;
export const MAX_FUNCTION_LINES = 50;

/**
 * @param {string} root
 * @returns {{ files: number, excesses: string[] }}
 */
export function checkSizes(root) {
  const excesses = [];
  let files = 0;
  for (const dir of GOVERNED) {
    for (const name of readdirSync(join(root, dir)).sort()) {
      if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
      files++;
      const path = join(root, dir, name);
      const rel = relative(root, path).split(sep).join('/');
      excesses.push(...fileExcesses(rel, readFileSync(path, 'utf8')));
    }
  }
  return { files, excesses };
}

/** @param {string} rel @param {string} text @returns {string[]} */
function fileExcesses(rel, text) {
  const out = [];
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE_LINES) out.push(`${rel}: ${lines} lines (the most is ${MAX_FILE_LINES})`);
  const sf = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const visit = (/** @type {ts.Node} */ node) => {
    const body = functionBody(node);
    if (body) {
      const first = sf.getLineAndCharacterOfPosition(body.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(body.getEnd()).line;
      // The body from its opening to its closing brace, both included.
      const n = last - first + 1;
      if (n > MAX_FUNCTION_LINES) out.push(`${rel}:${first + 1} ${functionName(node)}: ${n} lines (the most is ${MAX_FUNCTION_LINES})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The block body of a function-like node (an arrow function with an expression body counts as its expression). */
function functionBody(/** @type {ts.Node} */ node) {
  if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node)) {
    return node.body;
  }
  return undefined;
}

function functionName(/** @type {ts.Node} */ node) {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const name = /** @type {{ name?: ts.Node }} */ (node).name;
  if (name) return name.getText();
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  return '(anonymous function)';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(process.argv[2] ?? join(fileURLToPath(import.meta.url), '..', '..'));
  const { files, excesses } = checkSizes(root);
  for (const e of excesses) console.log(e);
  if (excesses.length > 0) {
    console.error(`check-sizes: ${excesses.length} excess(es) in ${files} files of ${GOVERNED.join(', ')}`);
    process.exit(1);
  }
  console.log(`check-sizes: ${files} files of ${GOVERNED.join(', ')} within ${MAX_FILE_LINES} lines and ${MAX_FUNCTION_LINES}-line functions`);
}
