// Runs one CLI invocation with a given command tree: parse argv, run the command, and turn
// the outcome into an exit code. Never throws and never calls process.exit, so it can run
// inside tests. run.ts runs the whole tree; key-bundle-entry.ts only the key commands.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkArgvIsUtf8 } from './bytes.js';
import { exitFor, ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import type { ProgramOptions } from './program-root.js';

/**
 * `argv` as in process.argv: the first two entries (node, script) are skipped. With
 * `fromProcess`, arguments Node altered (bytes that were not UTF-8) are refused first.
 */
export async function runProgram(
  build: (o: ProgramOptions) => Command,
  argv: readonly string[],
  io: CliIo,
  fromProcess: boolean,
  runAnother?: ProgramOptions['run'],
): Promise<number> {
  try {
    if (fromProcess) checkArgvIsUtf8(argv.slice(2));
    const program = build({ io, version: packageVersion(), ...(runAnother ? { run: runAnother } : {}) });
    await program.parseAsync([...argv], { from: 'node' });
    return ExitCode.ok;
  } catch (err) {
    const { code, line } = exitFor(err);
    if (line !== undefined) io.stderr(`tinykv: ${line}\n`);
    return code;
  }
}

/** The `version` field of package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
