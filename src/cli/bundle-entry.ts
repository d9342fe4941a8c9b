// Entry point of the bundled CLI (dist/bundle/cli.cjs, see scripts/bundle-cli.mjs): main.ts
// without top-level await, which a CommonJS bundle cannot hold.

import { guardProcessStreams } from './io.js';
import { run } from './run.js';

guardProcessStreams();
void run(process.argv, undefined, true).then((code) => {
  process.exitCode = code;
});
