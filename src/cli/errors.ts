// Errors raised by the CLI layer itself. Each carries a stable upper-case `code`;
// exit-codes.ts turns these codes (and those of the layers below) into exit codes.

import type { ErrorCode } from '../api/codes.js';

export class CliError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The arguments parse one by one but do not make sense together. */
export class UsageError extends CliError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** `get` found no value for the key. */
export class KeyNotFoundError extends CliError {
  constructor(readonly key: string) {
    super('KEY_NOT_FOUND', `key not found: ${JSON.stringify(key)}`);
  }
}

/**
 * Exit with this code, having said why already (a child process printed its error, or a
 * shell answered the failed line).
 */
export class ExitAsError extends Error {
  constructor(readonly exitCode: number) {
    super('');
  }
}
