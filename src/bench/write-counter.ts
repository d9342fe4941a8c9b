// Counts engine writes during a benchmark (src/bench), to compare raftdb fsyncs with puts
// (how well proposals group-commit) without touching the engine's source.
//
// It wraps RocksEngine.prototype.write for the life of this process only: every engine the
// in-process cluster opens shares that prototype. A write counts as an fsync when it asks
// for {sync: true} and its batch is non-empty (RocksEngine skips empty batches). RocksEngine
// runs one write at a time per database, so RocksDB cannot merge two synced writes into one
// WAL sync: one counted synced write is one fsync of that database's WAL.

import { resolve } from 'node:path';
import type { WriteOptions } from '../engine/index.js';
import { RocksEngine } from '../engine/index.js';
import type { WriteBatch } from '../engine/index.js';

/** Writes per database directory (resolved path), split by whether they were synced. */
export interface WriteCounts {
  readonly synced: ReadonlyMap<string, number>;
  readonly unsynced: ReadonlyMap<string, number>;
}

export interface WriteCounter {
  /** A copy of the counts so far. */
  snapshot(): WriteCounts;
  /** Puts the original write() back. Idempotent. */
  uninstall(): void;
}

/** Starts counting; only one counter may be installed at a time. */
export function installWriteCounter(): WriteCounter {
  const proto = RocksEngine.prototype;
  const original = proto.write;
  if ((original as { benchCounter?: true }).benchCounter) throw new Error('a write counter is already installed');
  const synced = new Map<string, number>();
  const unsynced = new Map<string, number>();
  const counting = function (this: RocksEngine, batch: WriteBatch, opts: WriteOptions): Promise<void> {
    if (batch.ops.length > 0) {
      const m = opts?.sync === true ? synced : unsynced;
      m.set(this.path, (m.get(this.path) ?? 0) + 1);
    }
    return original.call(this, batch, opts);
  };
  Object.assign(counting, { benchCounter: true });
  proto.write = counting;
  let installed = true;
  return {
    snapshot: () => ({ synced: new Map(synced), unsynced: new Map(unsynced) }),
    uninstall: () => {
      if (!installed) return;
      installed = false;
      proto.write = original;
    },
  };
}

/** How many writes to database directory `dir` happened between two snapshots. */
export function writesBetween(before: WriteCounts, after: WriteCounts, dir: string, kind: 'synced' | 'unsynced'): number {
  const path = resolve(dir);
  return (after[kind].get(path) ?? 0) - (before[kind].get(path) ?? 0);
}
