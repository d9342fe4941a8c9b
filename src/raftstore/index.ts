// Public surface of the raftstore: a Store (the regions' peers over one pair of engines)
// and what it is built from and reports through. Everything outside src/raftstore imports
// from here. The ids, errors and request types it shares with clients are src/api's and
// are imported from there.

export type { MemberStatus, ReadMode, StoreOptions, StoreStatus } from './store.js';
export {
  Store, createStore,
  DEFAULT_COMPACT_LOG_MAX_BYTES, DEFAULT_COMPACT_LOG_THRESHOLD, DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_SESSION_TTL_MS,
} from './store.js';
export type { Engines } from './peer-storage.js';
export type { Clock } from './clock.js';
export { ManualClock, realClock } from './clock.js';
export type { FaultState, InboundHandler, Transport } from './transport.js';
export { NO_FAULTS, linkCut } from './transport.js';
export type { MemoryNetworkOptions, SnapshotEndpoint } from './memory-transport.js';
export { MemoryNetwork } from './memory-transport.js';
export type { RaftEnvelope } from './envelope.js';
export { envelopeCodec, envelopeFromProto, envelopeToProto } from './envelope-codec.js';
export type { SnapshotLimits, SnapshotReceiver, SnapshotStats } from './snapshot-manager.js';
export { DEFAULT_SNAPSHOT_LIMITS } from './snapshot-manager.js';
export type { ProposalKind, StoreObserver } from './observer.js';
export { NO_OBSERVER } from './observer.js';
export type { RegionMeta } from './region.js';
export { FIRST_REGION_ID } from './region.js';
export { highestPeerIdAt, newPeerId } from './ids.js';
// The store's deliberate bugs and crash points are on the surface, not a testing entry:
// a store process (src/node/main.ts) takes the bugs from its environment for end-to-end
// tests, and StoreOptions names both.
export type { DeliberateBugs } from './deliberate-bugs.js';
export { NO_BUGS, parseDeliberateBugs } from './deliberate-bugs.js';
export type { CrashHook, CrashPoint } from './crash-points.js';
export { CRASH_POINTS, SimulatedCrashError } from './crash-points.js';
