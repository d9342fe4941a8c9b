// Entry point of the key commands' bundle (dist/bundle/keys.cjs, see key-program.ts and
// scripts/bundle-cli.mjs): what bin/tinykv runs for put, get, delete and scan.

import { processIo } from './io.js';
import { buildKeyProgram } from './key-program.js';
import { runProgram } from './run-program.js';

// The key commands write only through processIo, which guards each stream on first use.
void runProgram(buildKeyProgram, process.argv, processIo, true).then((code) => {
  process.exitCode = code;
});
