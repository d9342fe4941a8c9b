// The one place in the CLI that decides the process exit code (and the error line on
// stderr) for whatever a command threw, by the table in src/api/exit-status.ts that the
// store process uses too. Commands never pick exit codes themselves.

import { isErrorCode } from '../api/codes.js';
import { ExitStatus, exitStatusOf } from '../api/exit-status.js';
import { CommanderError } from 'commander';
import { ExitAsError } from './errors.js';
import type { CliIo } from './io.js';

/** The exit statuses (one table for the CLI and the store process: src/api/exit-status.ts). */
export const ExitCode = ExitStatus;

export interface ExitDecision {
  readonly code: number;
  /** One line for stderr, without the trailing newline; absent if already printed. */
  readonly line?: string;
}

/** Maps anything a command threw to an exit code and at most one line of text. */
export function exitFor(err: unknown): ExitDecision {
  if (err instanceof CommanderError) {
    // Commander has already printed its message, the help or the version. It exits 0 for
    // --help, --version and `help <command>`; its 1 (for every usage error) is our 2.
    return { code: err.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
  }
  if (err instanceof ExitAsError) return { code: err.exitCode };
  if (err instanceof Error) {
    if (isErrorCode((err as { code?: unknown }).code)) return { code: exitStatusOf(err), line: oneLine(err.message) };
    return { code: ExitCode.internal, line: `internal error: ${oneLine(err.message || err.name)}` };
  }
  return { code: ExitCode.internal, line: `internal error: ${oneLine(String(err))}` };
}

/** Joins the lines of a message into one. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Ends the process now, with the exit code and line exitFor gives `err`: for a command
 * told to quit at once (a second Ctrl-C), which must not wait for its work to unwind.
 * Everything else returns its error to run(), which never exits the process itself.
 */
export function exitNow(err: Error, io: CliIo, exit: (code: number) => never = process.exit): never {
  const { code, line } = exitFor(err);
  if (line !== undefined) io.stderr(`tinykv: ${line}\n`);
  return exit(code);
}
