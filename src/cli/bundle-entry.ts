// Entry point of the bundled CLI (dist/cli.cjs, see scripts/bundle-cli.mjs): main.ts
// without top-level await, which a CommonJS bundle cannot hold.

import { ExitCode } from './exit-codes.js';
import { run } from './run.js';

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.exitCode = ExitCode.internal;
  });
}

void run(process.argv, undefined, true).then((code) => {
  process.exitCode = code;
});
