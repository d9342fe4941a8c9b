#!/usr/bin/env node
// Dependency-direction check (STYLE.md, "Layers only point down"). Scans the imports of
// every src/**/*.ts file and prints one line per import that breaks a rule:
//   <file>: imports <specifier> (<rule>)
// Exits 1 if there is any, 0 otherwise. Usage: node scripts/check-layers.mjs [project-root]
// test/layers.test.ts runs it on the project and on a fixture tree with known violations.

import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/**
 * @typedef {object} Import
 * @property {string} specifier  as written in the source
 * @property {string | null} target  for a relative import, the imported path from the root (posix)
 * @property {string | null} pkg  for a bare import, the package or builtin (`node:fs`, `@grpc/grpc-js`)
 */

/** @param {string} path @param {string} dir */
const under = (path, dir) => path === dir || path.startsWith(`${dir}/`);
/** @param {string | null} target @param {string[]} dirs */
const targetIn = (target, dirs) => target !== null && dirs.some((d) => under(target, d));

/** Each rule: which files it governs, and which of their imports break it. */
export const RULES = [
  {
    name: 'src/raft imports only src/raft and src/util',
    // Unit tests next to the code may use tap and Node.
    applies: (file) => under(file, 'src/raft') && !file.endsWith('.test.ts'),
    breaks: (imp) => imp.target === null || !targetIn(imp.target, ['src/raft', 'src/util']),
  },
  {
    name: 'only src/engine/rocksdb*.ts imports rocksdb',
    applies: (file) => !/^src\/engine\/rocksdb[^/]*\.ts$/.test(file),
    breaks: (imp) => imp.pkg === 'rocksdb',
  },
  {
    name: 'only src/node imports prom-client (the raftstore reports through StoreObserver)',
    applies: (file) => !under(file, 'src/node'),
    breaks: (imp) => imp.pkg === 'prom-client',
  },
  {
    name: 'src/raftstore does not import node, cli, orchestrator, config or gRPC',
    applies: (file) => under(file, 'src/raftstore'),
    breaks: (imp) =>
      targetIn(imp.target, ['src/node', 'src/cli', 'src/orchestrator', 'src/config']) ||
      (imp.pkg !== null && (imp.pkg.startsWith('@grpc/') || imp.pkg === 'grpc')),
  },
  {
    // Storage is a leaf: the raftstore depends on the engine's interfaces, never the reverse.
    name: 'src/engine imports only src/engine',
    applies: (file) => under(file, 'src/engine') && !file.endsWith('.test.ts'),
    breaks: (imp) => imp.target !== null && !under(imp.target, 'src/engine'),
  },
  {
    name: 'src/cli reaches stores only through client and orchestrator',
    applies: (file) => under(file, 'src/cli'),
    breaks: (imp) => targetIn(imp.target, ['src/raftstore', 'src/raft', 'src/node']),
  },
  {
    name: 'src/client speaks the wire vocabulary (src/api), not the store internals',
    applies: (file) => under(file, 'src/client'),
    breaks: (imp) => targetIn(imp.target, ['src/raftstore', 'src/raft', 'src/node', 'src/orchestrator', 'src/cli']),
  },
  {
    name: 'src/api imports only src/api and the generated protobuf code',
    applies: (file) => under(file, 'src/api') && !file.endsWith('.test.ts'),
    breaks: (imp) => imp.target === null ? !imp.pkg?.startsWith('node:') : !targetIn(imp.target, ['src/api', 'src/gen']),
  },
];

/**
 * Checks every .ts file under <root>/src (except generated src/gen).
 * @param {string} root
 * @returns {{ files: number, violations: { file: string, specifier: string, rule: string }[] }}
 */
export function checkLayers(root) {
  const files = listTsFiles(join(root, 'src'), join(root, 'src', 'gen')).map((abs) => relative(root, abs).split(sep).join('/'));
  const violations = [];
  for (const file of files) {
    const rules = RULES.filter((r) => r.applies(file));
    if (rules.length === 0) continue;
    for (const imp of importsOf(file, readFileSync(join(root, file), 'utf8'))) {
      for (const rule of rules) {
        if (rule.breaks(imp)) violations.push({ file, specifier: imp.specifier, rule: rule.name });
      }
    }
  }
  return { files: files.length, violations };
}

/** @param {{ file: string, specifier: string, rule: string }} v */
export function formatViolation(v) {
  return `${v.file}: imports ${v.specifier} (${v.rule})`;
}

/** @param {string} dir @param {string} skip  a directory left out @returns {string[]} */
function listTsFiles(dir, skip) {
  /** @type {string[]} */
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== skip) out.push(...listTsFiles(path, skip));
    } else if (entry.isFile() && entry.name.endsWith('.ts')) {
      out.push(path);
    }
  }
  return out.sort();
}

/**
 * Static imports, re-exports, `import x = require()`, dynamic import() and `import type`,
 * as found by TypeScript's own pre-processor (so comments and strings are not mistaken for imports).
 * @param {string} file  path from the root, posix
 * @param {string} source
 * @returns {Import[]}
 */
function importsOf(file, source) {
  return ts.preProcessFile(source, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (specifier.startsWith('.')) {
      return { specifier, target: posix.normalize(posix.join(posix.dirname(file), specifier)), pkg: null };
    }
    return { specifier, target: null, pkg: packageOf(specifier) };
  });
}

/**
 * `node:fs` and `fs` both give `node:fs`; `@grpc/grpc-js/build/x` gives `@grpc/grpc-js`.
 * @param {string} specifier
 */
function packageOf(specifier) {
  if (specifier.startsWith('node:')) return specifier.split('/')[0];
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtinModules.includes(name) ? `node:${name}` : name;
}

function main() {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { files, violations } = checkLayers(root);
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length > 0) {
    console.error(`check-layers: ${violations.length} violation(s); ${files} files checked`);
    process.exitCode = 1;
  } else {
    console.log(`check-layers: ${files} files, no violations`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
