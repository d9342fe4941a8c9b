#!/usr/bin/env node
// Dependency-direction check (STYLE.md, "Layers only point down"). Scans the imports of
// every src/**/*.ts and test/**/*.ts file and prints one line per problem:
//   <file>: imports <specifier> (<rule>)          an import that breaks a rule
//   src/<folder>: no layer rule (...)             a folder under src/ missing from LAYERS
//   cycle between folders: src/a -> src/b -> src/a (...)
// Exits 1 if there is any, 0 otherwise. Usage: node scripts/check-layers.mjs [project-root]
// test/layers.test.ts runs it on the project and on a fixture tree with known violations.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/**
 * The layering: every folder under src/, bottom up, with the folders it may import (besides
 * itself and src/util). It must stay a DAG; docs/design.md draws it. `surface`: the folder
 * has a public surface, index.ts, and code outside it imports only that (see SURFACE_RULES).
 * A new folder under src/ must be added here, or the check fails.
 * @type {Record<string, { imports: string[], surface?: boolean, what: string }>}
 */
export const LAYERS = {
  util: { imports: [], what: 'dependency-free helpers (the seeded RNG); every folder may import it' },
  gen: { imports: [], what: 'protobuf code generated from proto/ (scripts/gen-proto.mjs); not scanned' },
  engine: { imports: [], surface: true, what: 'storage: KvEngine over RocksDB or memory, key layout, snapshot files' },
  checker: { imports: [], surface: true, what: 'the linearizability checker' },
  raft: { imports: [], surface: true, what: 'the Raft core, a deterministic state machine' },
  api: { imports: ['gen'], what: 'the wire vocabulary: ids, errors, requests, their protobuf forms' },
  rpc: { imports: ['gen'], what: 'gRPC service definitions over the generated messages' },
  config: { imports: ['api'], what: 'cluster.yaml: types, loading, editing' },
  raftstore: { imports: ['raft', 'engine', 'api', 'gen'], surface: true, what: 'a Store: regions, peers, Ready loop, apply, snapshots' },
  client: { imports: ['api', 'rpc', 'gen', 'config'], surface: true, what: 'KvClient, AdminClient and the gRPC channels' },
  node: { imports: ['raftstore', 'raft', 'engine', 'client', 'api', 'rpc', 'gen', 'config'], what: 'the store process: gRPC services, transport, metrics' },
  harness: { imports: ['raftstore', 'raft', 'engine', 'client', 'api'], what: 'an in-process cluster for tests and benchmarks' },
  orchestrator: { imports: ['client', 'config', 'api'], what: 'local store processes: spawn, stop, fault, inspect' },
  loadgen: { imports: ['client', 'config'], what: 'load generation for tinykv bench' },
  'chaos-run': { imports: ['orchestrator', 'checker', 'client', 'config', 'api'], what: 'tinykv chaos run: nemesis, workload, judge, report' },
  bench: { imports: ['harness', 'orchestrator', 'loadgen', 'raftstore', 'engine', 'client', 'config', 'api'], what: 'benchmarks (npm run bench*)' },
  cli: { imports: ['chaos-run', 'loadgen', 'orchestrator', 'client', 'config', 'api'], what: 'the tinykv command' },
};

/** Folders every other folder may import (leaves that import nothing themselves). */
const EVERYWHERE = ['util'];

/**
 * A test folder under test/ tests the internals of one src/ folder and may import them:
 * test/<name> tests src/<name>, except where this map says otherwise.
 */
const TEST_DIR_TESTS = { 'raft-sim': 'raft' };

/** @param {string} path @param {string} dir */
const under = (path, dir) => path === dir || path.startsWith(`${dir}/`);
/** @param {string | null} target @param {string[]} dirs */
const targetIn = (target, dirs) => target !== null && dirs.some((d) => under(target, d));
/** The folder under src/ a path is in (`src/raft/x.ts` → `raft`), or null outside src/. */
const folderOf = (/** @type {string | null} */ path) => (path !== null && path.startsWith('src/') ? path.split('/')[1] ?? null : null);
/** A path without its .js/.ts extension, to compare import targets with files. */
const stem = (/** @type {string} */ path) => path.replace(/\.(js|ts)$/, '');
/** Test code: unit tests next to the code and everything under test/. */
const isTest = (/** @type {string} */ file) => file.endsWith('.test.ts') || under(file, 'test');

/** One rule per folder: it imports only the folders LAYERS allows it. */
const DIRECTION_RULES = Object.entries(LAYERS).map(([folder, layer]) => {
  const allowed = [...layer.imports, ...EVERYWHERE.filter((f) => f !== folder)];
  return {
    name: allowed.length === 0
      ? `src/${folder} imports no other folder of src`
      : `src/${folder} may import only ${allowed.map((f) => `src/${f}`).join(', ')}`,
    applies: (/** @type {string} */ file) => under(file, `src/${folder}`),
    breaks: (/** @type {Import} */ imp) => {
      const to = folderOf(imp.target);
      return to !== null && to !== folder && !allowed.includes(to);
    },
  };
});

/**
 * For each folder with a surface: outside it, import only its index.ts. Its testing entry
 * (testing/index.ts, the deliberate bugs and test tools) is for test code and src/harness.
 * test/<name> may import the internals of the folder it tests. Inside the folder, import
 * the modules themselves: going through index.ts would make every module a cycle.
 */
const SURFACE_RULES = Object.entries(LAYERS).filter(([, l]) => l.surface).flatMap(([folder]) => {
  const dir = `src/${folder}`;
  const testsIt = (/** @type {string} */ file) => {
    const m = /^test\/([^/]+)\//.exec(file);
    return m !== null && (TEST_DIR_TESTS[m[1]] ?? m[1]) === folder;
  };
  return [
    {
      name: `outside ${dir}, import only ${dir}/index.ts`,
      applies: (/** @type {string} */ file) => !under(file, dir) && !testsIt(file),
      breaks: (/** @type {Import} */ imp) =>
        imp.target !== null && under(imp.target, dir) && stem(imp.target) !== `${dir}/index` && stem(imp.target) !== `${dir}/testing/index`,
    },
    {
      name: `only test code and src/harness import ${dir}/testing/index.ts`,
      applies: (/** @type {string} */ file) => !under(file, dir) && !isTest(file) && !under(file, 'src/harness'),
      breaks: (/** @type {Import} */ imp) => imp.target !== null && stem(imp.target) === `${dir}/testing/index`,
    },
    {
      name: `inside ${dir}, import its modules, not ${dir}/index.ts`,
      applies: (/** @type {string} */ file) => under(file, dir) && file !== `${dir}/index.ts`,
      breaks: (/** @type {Import} */ imp) => imp.target !== null && stem(imp.target) === `${dir}/index`,
    },
  ];
});

/** Each rule: which files it governs, and which of their imports break it. */
export const RULES = [
  ...DIRECTION_RULES,
  ...SURFACE_RULES,
  {
    name: 'src/raft and src/util import no package',
    // Unit tests next to the code may use tap and Node.
    applies: (file) => (under(file, 'src/raft') || under(file, 'src/util')) && !file.endsWith('.test.ts'),
    breaks: (imp) => imp.pkg !== null,
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
    name: 'src/raftstore does not import gRPC (src/node carries its messages)',
    applies: (file) => under(file, 'src/raftstore'),
    breaks: (imp) => imp.pkg !== null && (imp.pkg.startsWith('@grpc/') || imp.pkg === 'grpc'),
  },
  {
    name: 'src/api imports only Node builtins among packages',
    applies: (file) => under(file, 'src/api') && !file.endsWith('.test.ts'),
    breaks: (imp) => imp.pkg !== null && !imp.pkg.startsWith('node:'),
  },
];

/**
 * Checks every .ts file under <root>/src (except generated src/gen) and <root>/test.
 * @param {string} root
 * @returns {{ files: number, problems: string[] }}
 */
export function checkLayers(root) {
  const tsFiles = (/** @type {string} */ dir) => (existsSync(join(root, dir)) ? listTsFiles(join(root, dir), join(root, 'src', 'gen')) : []);
  const files = [...tsFiles('src'), ...tsFiles('test')].map((abs) => relative(root, abs).split(sep).join('/'));
  const problems = [];
  /** Folder graph of src/: from → to → the first import that makes the edge. */
  /** @type {Map<string, Map<string, string>>} */
  const graph = new Map();
  for (const file of files) {
    const rules = RULES.filter((r) => r.applies(file));
    for (const imp of importsOf(file, readFileSync(join(root, file), 'utf8'))) {
      for (const rule of rules) {
        if (rule.breaks(imp)) problems.push(formatViolation({ file, specifier: imp.specifier, rule: rule.name }));
      }
      const from = folderOf(file);
      const to = folderOf(imp.target);
      if (from === null || to === null || from === to) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from)?.has(to)) graph.get(from)?.set(to, `${file} imports ${imp.specifier}`);
    }
  }
  for (const entry of readdirSync(join(root, 'src'), { withFileTypes: true })) {
    if (entry.isDirectory() && !Object.hasOwn(LAYERS, entry.name)) {
      problems.push(`src/${entry.name}: no layer rule (add the folder to LAYERS in scripts/check-layers.mjs)`);
    } else if (entry.isFile()) {
      problems.push(`src/${entry.name}: not in a folder (every file under src/ belongs to a layer's folder)`);
    }
  }
  for (const cycle of findCycles(graph)) {
    const edges = cycle.slice(1).map((to, i) => graph.get(cycle[i])?.get(to));
    problems.push(`cycle between folders: ${cycle.map((f) => `src/${f}`).join(' -> ')} (${edges.join('; ')})`);
  }
  // The table itself must be a DAG, or it would allow a cycle the code may then grow into.
  const declared = new Map(Object.entries(LAYERS).map(([f, l]) => [f, new Map(l.imports.map((t) => [t, '']))]));
  for (const cycle of findCycles(declared)) problems.push(`LAYERS allows a cycle: ${cycle.join(' -> ')}`);
  return { files: files.length, problems };
}

/**
 * One cycle through each strongly connected component of more than one folder (Tarjan),
 * as a path that starts and ends at the same folder.
 * @param {Map<string, Map<string, unknown>>} graph
 * @returns {string[][]}
 */
export function findCycles(graph) {
  const succ = (/** @type {string} */ v) => [...(graph.get(v)?.keys() ?? [])].sort();
  /** @type {Map<string, number>} */ const index = new Map();
  /** @type {Map<string, number>} */ const low = new Map();
  /** @type {string[]} */ const stack = [];
  /** @type {Set<string>} */ const onStack = new Set();
  /** @type {string[][]} */ const components = [];
  const visit = (/** @type {string} */ v) => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of succ(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      /** @type {string[]} */ const comp = [];
      let w;
      do {
        w = /** @type {string} */ (stack.pop());
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) components.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  // Within a component every folder reaches every other: walk from its first folder
  // (alphabetically) back to it, breadth first, for the shortest such cycle.
  return components.map((comp) => {
    const members = new Set(comp);
    const start = [...comp].sort()[0] ?? '';
    /** @type {Map<string, string>} */ const parent = new Map();
    const queue = [start];
    while (queue.length > 0) {
      const v = /** @type {string} */ (queue.shift());
      for (const w of succ(v).filter((x) => members.has(x))) {
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(/** @type {string} */ (parent.get(path[0] ?? '')));
          return [...path, start];
        }
        if (!parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start, start];
  });
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
  const { files, problems } = checkLayers(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-layers: ${problems.length} violation(s); ${files} files checked`);
    process.exitCode = 1;
  } else {
    console.log(`check-layers: ${files} files, no violations`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
