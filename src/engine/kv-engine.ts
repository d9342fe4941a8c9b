// The storage engine contract (src/engine). A store keeps two engines: raftdb (raft log,
// RaftLocalState) and kvdb (user data, RaftApplyState, RegionLocalState); see keys.ts for
// what lives where. The raftstore sees storage only through KvEngine. Two implementations
// follow this contract and run the same compliance suite (engine-suite.ts):
// rocksdb-engine.ts (on disk) and memory-engine.ts (tests).

import { checkScanOptions } from './checks.js';
import { WriteBatch } from './write-batch.js';

export { WriteBatch, type BatchOp } from './write-batch.js';
export {
  EncodingError, EngineClosedError, EngineError, EngineIoError, EngineOpenError, SnapshotReleasedError,
} from './errors.js';

/**
 * A key range to read. Keys are compared as unsigned bytes (Buffer.compare).
 * - `start` is inclusive; an empty Buffer means "from the first key".
 * - `end` is exclusive; undefined means "to the last key". An empty `end` is a TypeError
 *   (it would be below every key, which is almost certainly a bug in the caller).
 * - `limit` caps the number of pairs (default: no cap); 0 returns nothing.
 * - `reverse` returns pairs in descending key order, starting from the largest key below
 *   `end`, so `limit` keeps the top of the range.
 */
export interface ScanOptions {
  readonly start: Buffer;
  readonly end?: Buffer | undefined;
  readonly limit?: number | undefined;
  readonly reverse?: boolean | undefined;
}

/** How durable a write must be before KvEngine.write resolves. */
export interface WriteOptions {
  /** When true the write is on stable storage (fsynced WAL) before the promise resolves. */
  readonly sync: boolean;
}

/** A key/value pair as returned by scans. Every Buffer returned is the caller's to keep. */
export type KvPair = [key: Buffer, value: Buffer];

/** Point and range reads; shared by the live engine and its snapshots. */
export interface EngineReader {
  /** The value stored under `key`, or undefined if there is none. */
  get(key: Buffer): Promise<Buffer | undefined>;
  /**
   * The pairs in the range, in key order (or reverse order). All of them come from one
   * consistent point-in-time view: a write that runs concurrently shows up entirely or not at all.
   */
  scan(opts: ScanOptions): Promise<KvPair[]>;
}

/**
 * A consistent point-in-time view of an engine. Every `get` and `scan` on it sees exactly the
 * state at the moment `snapshot()` was called: all writes whose promise had resolved by then,
 * none that were started after `snapshot()` resolved, and any write in flight at that moment
 * either entirely or not at all. The view holds on to old data (for RocksDB, an internal
 * snapshot pinning memtables and files), so release it promptly.
 *
 * Reads on one snapshot may be issued concurrently; implementations may serve them one at a
 * time. After `release()` (idempotent) reads reject with SNAPSHOT_RELEASED; after the engine is
 * closed they reject with ENGINE_CLOSED (closing the engine releases its snapshots).
 */
export interface EngineSnapshot extends EngineReader {
  release(): Promise<void>;
}

/**
 * An ordered byte-key/byte-value store with atomic batched writes.
 *
 * - Keys are non-empty Buffers; values are Buffers (empty allowed). Passing anything else
 *   rejects with a TypeError (RangeError for a bad limit), before any I/O.
 * - `write` applies the whole batch or none of it, and batches are applied in the order
 *   `write` was called. A read started after a write's promise resolved sees that write.
 * - `close()` is idempotent and returns the same promise every time. It waits for operations
 *   already started, then releases snapshots and closes the store. Any operation started after
 *   `close()` was called rejects with EngineClosedError (code ENGINE_CLOSED).
 * - I/O failures reject with EngineIoError (code ENGINE_IO).
 */
export interface KvEngine extends EngineReader {
  snapshot(): Promise<EngineSnapshot>;
  write(batch: WriteBatch, opts: WriteOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * Streams a range from a reader as an async iterator, `pageSize` pairs per underlying scan.
 * Use it on an EngineSnapshot: each page is then read from the same view, so the whole
 * stream is consistent. On a live engine every page is consistent in itself, but pages may
 * come from different moments.
 */
export async function* iterateRange(reader: EngineReader, opts: ScanOptions, pageSize = 256): AsyncGenerator<KvPair> {
  if (!(Number.isSafeInteger(pageSize) && pageSize > 0)) throw new RangeError('pageSize must be a positive integer');
  const r = checkScanOptions(opts);
  let start = r.start;
  let end = r.end;
  let left = r.limit;
  while (left > 0) {
    const page = await reader.scan({ start, end, reverse: r.reverse, limit: Math.min(pageSize, left) });
    for (const pair of page) yield pair;
    left -= page.length;
    if (page.length < pageSize) return;
    const last = page[page.length - 1]![0];
    // Forward: the next page starts just after `last` (its immediate successor, last + 0x00).
    // Reverse: the next page ends (exclusively) at `last`.
    if (r.reverse) end = last;
    else start = Buffer.concat([last, Buffer.of(0)]);
  }
}
