// The logger interface the Raft core writes to. Injected through Config; the core never
// reaches for a global logger or the console.

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/** Where the core (and the raftstore) write their logs; given in the Config, never global. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A Logger that drops everything (the default). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
