// Process entry point of the `tinykv` command (bin/tinykv imports the compiled file).
// The only place that touches process.argv, process.exitCode and the process's streams.

import { ExitCode } from './exit-codes.js';
import { run } from './run.js';

// `tinykv --help | head` closes the pipe early: end quietly rather than crash with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.exitCode = ExitCode.internal;
  });
}

process.exitCode = await run(process.argv, undefined, true);
