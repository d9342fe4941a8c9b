// Process entry point of the `tinykv` command when the bundles are missing (bin/tinykv then
// imports the compiled file; see bundle-entry.ts and key-bundle-entry.ts for the bundles).

import { guardProcessStreams } from './io.js';
import { run } from './run.js';

guardProcessStreams();

process.exitCode = await run(process.argv, undefined, true);
