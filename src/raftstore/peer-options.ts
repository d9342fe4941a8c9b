// What a Peer is built from: its place in the region, its storage and engines, the
// store's transport and clocks, and the policies and test hooks the store sets. One type
// shared by the peer's parts (peer-core.ts and the modules that take a PeerCore).

import type { CrashHook } from './crash-points.js';
import type { DeliberateBugs } from './deliberate-bugs.js';
import type { KvEngine } from '../engine/index.js';
import type { Logger } from '../raft/index.js';
import type { PeerMeta } from './envelope.js';
import type { PeerStorage } from './peer-storage.js';
import type { RegionMeta } from './region.js';
import type { SessionTable } from './session-table.js';
import type { SnapshotManager } from './snapshot-manager.js';
import type { StoreObserver } from './observer.js';
import type { Transport } from './transport.js';

export interface PeerOptions {
  readonly peer: PeerMeta;
  readonly storage: PeerStorage;
  readonly kv: KvEngine;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** Seeds the election-timeout randomness. */
  readonly seed: number;
  /** The region's client sessions, loaded from kvdb (session-table.ts). */
  readonly sessions: SessionTable;
  /** Wall clock (ms): stamps proposals, times session expiry. */
  readonly wallClock: () => number;
  /** Sessions idle this long are expired (the leader proposes it). */
  readonly sessionTtlMs: number;
  /** The most a client's clock may run ahead of a leader's; widens the refusal window. */
  readonly maxClockSkewMs: number;
  /** Called when the peer hits an error it cannot continue from (e.g. a failed write). */
  readonly onFatal: (err: Error) => void;
  /**
   * Called once this peer has applied its own removal from the region (and stopped): the
   * store destroys its data and leaves a tombstone. `region` is the region after removal.
   */
  readonly onRemoved?: (region: RegionMeta) => void;
  /** Tests only: deliberate bugs (see deliberate-bugs.ts). */
  readonly bugs: DeliberateBugs;
  /** Applied entries kept above the truncated index before the leader compacts the log. */
  readonly compactLogThreshold: number;
  /** Log payload bytes above the truncated index that make the leader compact regardless. */
  readonly compactLogMaxBytes: number;
  readonly snapshots: SnapshotManager;
  /** Told of proposals and Ready timings (metrics). */
  readonly observer: StoreObserver;
  /** Tests only: may kill the store at named points of the loop (see crash-points.ts). */
  readonly crashHook?: CrashHook;
  /** Tests only: awaited before each snapshot install (a slow disk or a big region). */
  readonly beforeInstall?: () => Promise<void>;
  /**
   * Lease reads (raft.read_mode: lease; see leader-lease.ts): how long a confirmed
   * ReadIndex round lets the leader answer reads alone, and its monotonic clock (ms; the
   * wall clock is `wallClock`).
   * Unset: every batch of reads takes a ReadIndex round.
   */
  readonly lease?: { readonly durationMs: number; readonly now: () => number };
}

