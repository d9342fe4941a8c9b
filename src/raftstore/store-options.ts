// What a Store is built from (StoreOptions) and the defaults of its policies. Kept apart
// from store.ts so that the store's parts (the peer factory, the router, the KV facade)
// can read the options without importing the Store.

import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from '../api/limits.js';
import type { CrashHook } from './crash-points.js';
import type { Clock } from './clock.js';
import type { DeliberateBugs } from './deliberate-bugs.js';
import type { Engines } from './peer-storage.js';
import type { Logger } from '../raft/index.js';
import type { StoreId } from './ids.js';
import type { StoreObserver } from './observer.js';
import type { SnapshotFiles } from './snapshot-files.js';
import type { SnapshotLimits } from './snapshot-manager.js';
import type { Transport } from './transport.js';

/** What createStore builds a Store from: its identity, engines, transport, clock and policies. */
export interface StoreOptions {
  readonly storeId: StoreId;
  /** Every store of the cluster; used to bootstrap region 1 on first start. */
  readonly clusterStoreIds: readonly StoreId[];
  readonly engines: Engines;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly tickMs: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxValueBytes?: number;
  readonly maxKeyBytes?: number;
  readonly logger?: Logger;
  /** Seeds election randomness; tests pass one so a run can be replayed. */
  readonly seed?: number;
  /** Called when the store hits an error it cannot continue from. */
  readonly onFatal?: (err: Error) => void;
  /** Applied log entries kept before the leader compacts the log (default 1000). */
  readonly compactLogThreshold?: number;
  /** Log payload bytes that make the leader compact whatever the entry count (default 64 MiB). */
  readonly compactLogMaxBytes?: number;
  /** Where snapshot files are generated and staged (the store's snap/ directory). */
  readonly snapshotFiles: SnapshotFiles;
  readonly snapshotLimits?: SnapshotLimits;
  /** Told of proposals and Ready timings as they happen (the store process's metrics). */
  readonly observer?: StoreObserver;
  /** Tests only: break the store on purpose (see deliberate-bugs.ts). */
  readonly deliberateBugs?: DeliberateBugs;
  /** Wall clock (ms) for proposal stamps and session expiry (default Date.now; tests fake it). */
  readonly wallClock?: () => number;
  /** Client sessions idle this long are forgotten (default 30 s). */
  readonly sessionTtlMs?: number;
  /** The most a client's clock may run ahead of the leader's (default 5 s); see session-table.ts. */
  readonly maxClockSkewMs?: number;
  /**
   * How a leader makes sure a read is linearizable: 'read_index' (default), a heartbeat
   * round per batch of reads; 'lease', no round while a recent one holds (leader-lease.ts).
   * Every store of a cluster must use the same mode.
   */
  readonly readMode?: ReadMode;
  /** Tests only: kills the store at named points of the Ready loop (see crash-points.ts). */
  readonly crashHook?: CrashHook;
  /** Tests only: awaited before each snapshot install, to make installs slow. */
  readonly beforeInstall?: () => Promise<void>;
  /** Tests only: awaited inside each snapshot generation, to make generation slow. */
  readonly whileGenerating?: () => Promise<void>;
  /**
   * A store being added to a running cluster: on an empty data directory it does not
   * bootstrap region 1; its peer is created when the region's leader first contacts it.
   */
  readonly join?: boolean;
  /**
   * A store that joined on an empty data directory: peers with ids at or below this may
   * have been its own before it lost its data, and are never created (src/node/identity.ts).
   */
  readonly minPeerId?: number;
}

export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES };
/** Applied entries above the truncated index that make the leader compact the log. */
export const DEFAULT_COMPACT_LOG_THRESHOLD = 1000;
/**
 * Log payload bytes above the truncated index that make the leader compact the log
 * whatever the entry count.
 */
export const DEFAULT_COMPACT_LOG_MAX_BYTES = 64 * 1024 * 1024;
/** How a leader confirms it may answer a read (see StoreOptions.readMode). */
export type ReadMode = 'read_index' | 'lease';

/**
 * Longer than any client's retry window (the CLI's whole budget is 10 s), so an expired
 * session is one nobody is still retrying; a late retry is refused, never applied twice.
 */
export const DEFAULT_SESSION_TTL_MS = 30_000;
/**
 * The default of StoreOptions.maxClockSkewMs: how far a client's clock may run ahead of
 * the leader's.
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5_000;

