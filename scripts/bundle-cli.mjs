#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/: one entry file and lazily
// loaded chunks, so that `tinykv get` reads a few files instead of several hundred modules
// (start-up from ~240 ms to ~150 ms on a 2-core machine, `node -e 0` being ~70 ms).
// Chunks split at the CLI's dynamic imports: a `get` loads no orchestrator code. rocksdb
// (a native addon, only used by `store start --foreground`) stays outside. The bundle
// sits two folders below the project root like dist/cli, so paths computed from
// import.meta.url (package.json, dist/node/main.js) resolve the same.

import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/cli/main.js`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['rocksdb'],
  // CommonJS dependencies (gRPC, protobufjs) call require() and may read __dirname; give
  // the ESM bundle both.
  banner: {
    js: "import { createRequire as __tinykvRequire } from 'node:module'; import { fileURLToPath as __tinykvPath } from 'node:url'; " +
      "const require = __tinykvRequire(import.meta.url); const __filename = __tinykvPath(import.meta.url); const __dirname = __tinykvPath(new URL('.', import.meta.url));",
  },
  logLevel: 'warning',
});
