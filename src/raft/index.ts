// Public surface of the Raft core. Everything outside src/raft imports from here; tests
// that switch on a deliberate bug take FaultInjection from ./testing/index.ts.

export * from './types.js';
export type { Config } from './config.js';
export type { Logger, LogFields } from './logger.js';
export { silentLogger } from './logger.js';
export type { Rng } from '../util/rng.js';
export { seededRng } from '../util/rng.js';
export type { Storage, InitialState } from './storage.js';
export { MemoryStorage, limitSize, entriesSize } from './storage.js';
export { RaftError, ProposalDroppedError, CompactedError, UnavailableError, RaftInvariantError, SnapshotTemporarilyUnavailableError } from './errors.js';
export { RawNode } from './raw-node.js';
export type { ConfChange, ConfChangeType } from './conf-change.js';
export { ConfChangeError, ConfChangePendingError, decodeConfChange, encodeConfChange, isMember, nextConfState } from './conf-change.js';
export type { Status } from './raw-node.js';
