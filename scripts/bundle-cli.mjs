#!/usr/bin/env node
// Bundles the compiled CLI into two CommonJS files and warms a V8 code cache for each
// (<bundle>.cache beside it), so that a command compiles almost nothing and reads two
// files instead of several hundred modules:
//   dist/bundle/keys.cjs  put, get, delete and scan (src/cli/key-bundle-entry.ts): what
//                         scripts call most, so it carries nothing else;
//   dist/bundle/cli.cjs   the whole CLI (src/cli/bundle-entry.ts).
// bin/tinykv picks one by the command in argv (vm.Script with the cache) and falls back to
// dist/cli/main.js when the bundles are missing or older. rocksdb (a native addon, only
// used by store processes) stays outside. import.meta.url becomes the bundle's own URL;
// the bundles sit two folders below the project root like dist/cli, so paths computed
// from it (package.json, dist/node/main.js) resolve the same. docs/performance.md has the
// start-up figures.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// commander loads node:child_process when it is loaded, for subcommands that are separate
// executables, which tinykv has none of; loading it costs a key command ~2 ms of its
// start-up. Inside the bundle, commander gets it on first use instead.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
      loader: 'js',
    }));
  },
};

// protobufjs picks up the `long` package when it can; the generated code switches it off
// again (scripts/gen-proto.mjs: 64-bit integers decode as numbers), so the bundle leaves
// it out rather than load it for nothing (~0.5 ms).
const withoutLong = {
  name: 'without-long',
  setup(b) {
    b.onResolve({ filter: /^long$/ }, () => ({ path: 'long', namespace: 'without-long' }));
    b.onLoad({ filter: /.*/, namespace: 'without-long' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
  },
};

const bundles = [
  { entry: 'key-bundle-entry.js', out: 'keys.cjs', warmUp: ['get', 'warm-up'] },
  { entry: 'bundle-entry.js', out: 'cli.cjs', warmUp: ['cluster', 'status'] },
];
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
mkdirSync(`${root}dist/bundle`, { recursive: true });
for (const b of bundles) {
  await build({
    entryPoints: [`${root}dist/cli/${b.entry}`],
    outfile: `${root}dist/bundle/${b.out}`,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    keepNames: true,
    // ASCII only (non-ASCII characters escaped), which bin/tinykv reads as latin1.
    charset: 'ascii',
    external: ['rocksdb'],
    plugins: [lazyChildProcessForCommander, withoutLong],
    define: { 'import.meta.url': '__tinykvBundleUrl' },
    banner: { js: "const __tinykvBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
}
// One run of each bundle writes its code cache (bin/tinykv writes it when there is none),
// through a cluster file whose stores all refuse the connection (nothing listens on ports
// 1-3): a `get` for the key bundle, so that its cache holds what a key command compiles on
// its way (the cluster file's YAML parser, the client and its transport), and a
// `cluster status` for the whole CLI.
const warmDir = mkdtempSync(join(tmpdir(), 'tinykv-warm-'));
try {
  const file = join(warmDir, 'cluster.yaml');
  writeFileSync(file, [
    '# warm-up of the code cache', 'data_dir: ./data', 'stores:',
    ...[1, 2, 3].map((id) => `  - id: ${id}\n    addr: 127.0.0.1:${id}`),
    'raft:', '  tick_ms: 100', '',
  ].join('\n'));
  for (const b of bundles) {
    try {
      execFileSync(process.execPath, [`${root}bin/tinykv`, '-c', file, ...b.warmUp], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
    } catch {
      // exit 3 expected: no store answers
    }
  }
} finally {
  rmSync(warmDir, { recursive: true, force: true });
}
