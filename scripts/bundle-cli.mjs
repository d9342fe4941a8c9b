#!/usr/bin/env node
// Bundles the compiled CLI into one CommonJS file, dist/bundle/cli.cjs, and warms a V8
// code cache for it (cli.cjs.cache beside it), so that a `tinykv get` compiles almost nothing and reads two
// files instead of several hundred modules: start-up ~85 ms instead of ~240 ms on a 2-core
// machine (`node -e 0`: ~50 ms). bin/tinykv loads it (vm.Script with the cache) and falls
// back to dist/cli/main.js when the bundle is missing or older. rocksdb (a native addon,
// only used by store processes) stays outside. import.meta.url becomes the bundle's own URL;
// the bundle sits two folders below the project root like dist/cli, so paths computed from
// it (package.json, dist/node/main.js) resolve the same.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/bundle/cli.cjs`;
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
mkdirSync(`${root}dist/bundle`, { recursive: true });
await build({
  entryPoints: [`${root}dist/cli/bundle-entry.js`],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  external: ['rocksdb'],
  define: { 'import.meta.url': '__tinykvBundleUrl' },
  banner: { js: "const __tinykvBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// One run writes the code cache (bin/tinykv writes it when there is none): a command that
// loads the client and fails at once, as no store listens on port 1.
try {
  execFileSync(process.execPath, [`${root}bin/tinykv`, '--endpoints', '127.0.0.1:1', 'get', 'warm-up'], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
} catch {
  // exit 3 expected
}
