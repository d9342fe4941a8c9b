// Runs one invocation of the whole CLI (see run-program.ts). Never throws and never calls
// process.exit, so it can run inside tests.

import { processIo, type CliIo } from './io.js';
import { buildProgram } from './program.js';
import { runProgram } from './run-program.js';

/**
 * `argv` as in process.argv: the first two entries (node, script) are skipped. With
 * `fromProcess`, arguments Node altered (bytes that were not UTF-8) are refused first.
 */
export function run(argv: readonly string[], io: CliIo = processIo, fromProcess = false): Promise<number> {
  return runProgram(buildProgram, argv, io, fromProcess, (a, lineIo) => run(a, lineIo));
}
