// A KvEngine that reports how long each write took, and whether it was synced: the store
// process times its fsyncs (raftdb appends, apply batches that truncate the log) without
// the raftstore knowing about metrics. Everything else passes straight through.

import type { EngineSnapshot, KvEngine, KvPair, ScanOptions, WriteBatch, WriteOptions } from '../engine/index.js';

export type WriteTimer = (ms: number, synced: boolean) => void;

export function timedEngine(inner: KvEngine, onWrite: WriteTimer): KvEngine {
  return {
    get: (key: Buffer): Promise<Buffer | undefined> => inner.get(key),
    scan: (opts: ScanOptions): Promise<KvPair[]> => inner.scan(opts),
    snapshot: (): Promise<EngineSnapshot> => inner.snapshot(),
    close: (): Promise<void> => inner.close(),
    async write(batch: WriteBatch, opts: WriteOptions): Promise<void> {
      const started = performance.now();
      await inner.write(batch, opts);
      onWrite(performance.now() - started, opts.sync);
    },
  };
}
