// Errors of the storage engine layer (src/engine). Every class carries a stable upper-case
// `code` that callers may switch on; messages are for people and may change. Misuse of the
// API (a non-Buffer key, an index that is not a safe integer) is a plain TypeError or
// RangeError instead, because it is a bug in the caller, not a condition to handle.

/** Base class of every engine error; `code` is stable, the message is not. */
export abstract class EngineError extends Error {
  abstract readonly code: string;
}

/** An operation was started after `close()` was called on the engine. */
export class EngineClosedError extends EngineError {
  readonly code = 'ENGINE_CLOSED' as const;
  constructor(readonly op: string) {
    super(`storage engine is closed (${op} after close())`);
    this.name = 'EngineClosedError';
  }
}

/** A read on an `EngineSnapshot` after its `release()`. */
export class SnapshotReleasedError extends EngineError {
  readonly code = 'SNAPSHOT_RELEASED' as const;
  constructor(readonly op: string) {
    super(`engine snapshot was released (${op} after release())`);
    this.name = 'SnapshotReleasedError';
  }
}

/** The engine directory could not be opened: missing, not writable, or locked by another process. */
export class EngineOpenError extends EngineError {
  readonly code = 'ENGINE_OPEN_FAILED' as const;
  constructor(readonly path: string, detail: string, options?: { cause?: unknown }) {
    super(`cannot open storage engine at ${path}: ${detail}`, options);
    this.name = 'EngineOpenError';
  }
}

/** The underlying store failed a read or a write (disk error, corruption). */
export class EngineIoError extends EngineError {
  readonly code = 'ENGINE_IO' as const;
  constructor(readonly op: string, detail: string, options?: { cause?: unknown }) {
    super(`storage engine ${op} failed: ${detail}`, options);
    this.name = 'EngineIoError';
  }
}

/** Bytes read back from an engine do not have the layout `keys.ts` expects. */
export class EncodingError extends EngineError {
  readonly code = 'BAD_ENCODING' as const;
  constructor(message: string) {
    super(message);
    this.name = 'EncodingError';
  }
}
