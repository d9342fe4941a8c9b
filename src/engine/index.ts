// Public surface of the storage engine. Everything outside src/engine imports from here.
// The raftstore sees storage only through KvEngine (kv-engine.ts); keys.ts says which key
// lives in which engine and how it is encoded.

/** The key layout of raftdb and kvdb: prefixes, encoders and decoders, ranges (keys.ts). */
export * as keys from './keys.js';
export type { EngineReader, EngineSnapshot, KvEngine, KvPair, ScanOptions, WriteOptions } from './kv-engine.js';
export { iterateRange } from './kv-engine.js';
export type { BatchOp } from './write-batch.js';
export { WriteBatch } from './write-batch.js';
export { EncodingError, EngineClosedError, EngineError, EngineIoError, EngineOpenError, SnapshotReleasedError } from './errors.js';
export { MemoryEngine, openMemoryEngine } from './memory-engine.js';
export type { OpenRocksOptions } from './rocksdb-engine.js';
export { RocksEngine, openRocksEngine } from './rocksdb-engine.js';
export type { LossMode, PowerLossOptions } from './power-loss-engine.js';
export { PowerLossEngine } from './power-loss-engine.js';
export type { SnapshotFileReader, SnapshotFiles, SnapshotFileWriter } from './snapshot-files.js';
export { TEMP_SUFFIX } from './snapshot-files.js';
export { openSnapshotDir } from './snapshot-dir.js';
