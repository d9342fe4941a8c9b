// The shape of config/cluster.yaml once loaded and validated (see load.ts). Shared by
// the store process, the orchestrator and the CLI.

import type { ErrorCode } from '../api/codes.js';

export interface StoreConfig {
  readonly id: number;
  /** "host:port" as written in the file. */
  readonly addr: string;
  readonly host: string;
  readonly port: number;
  /**
   * Where the store serves Prometheus metrics (GET /metrics); when the file gives no
   * `metrics_addr`, a port the system picks on 127.0.0.1 (shown by `tinykv cluster status`).
   */
  readonly metrics?: { readonly addr: string; readonly host: string; readonly port: number };
  /**
   * Added to a running cluster (`tinykv store add`, `store replace`): on an empty data
   * directory the store waits to be added by the region's leader instead of bootstrapping.
   */
  readonly join: boolean;
}

// The bound on store ids belongs to src/api (the raftstore needs it, not the cluster file).
export { MAX_STORE_ID } from '../api/ids.js';

/** The `raft:` section: timing, and when the log is compacted. */
export interface RaftSettings {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Applied entries kept above the truncated index before the leader compacts the log. */
  readonly compactLogThreshold: number;
  /** Payload bytes of the log above the truncated index before the leader compacts it anyway. */
  readonly compactLogMaxBytes: number;
  /** Client sessions (the exactly-once table) idle this long are forgotten. */
  readonly clientSessionTtlMs: number;
  /** The most a client's clock may lead a leader's; see src/raftstore/session-table.ts. */
  readonly maxClockSkewMs: number;
  /**
   * How a leader confirms a read is linearizable: a ReadIndex round per batch of reads, or
   * a lease (src/raftstore/leader-lease.ts, with its clock assumption).
   */
  readonly readMode: 'read_index' | 'lease';
}

export interface ClusterConfig {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** Names the cluster; a data directory written by another cluster is refused. */
  readonly clusterId: string;
  /** Absolute; a relative data_dir resolves against the file's folder. */
  readonly dataDir: string;
  /** The stores the orchestrator runs (entries marked `removed` are not among them). */
  readonly stores: readonly StoreConfig[];
  /**
   * Stores removed from the cluster (`tinykv store remove`): never started, their ids and
   * addresses stay reserved so that another store cannot take them by mistake.
   */
  readonly removedStores: readonly StoreConfig[];
  readonly raft: RaftSettings;
  readonly maxValueBytes: number;
  readonly maxKeyBytes: number;
}

/** `<data_dir>/store-<id>`: the store's raftdb, kvdb, store.log and store.pid live here. */
export function storeDir(cfg: ClusterConfig, id: number): string {
  return `${cfg.dataDir}/store-${id}`;
}

/** A malformed or invalid cluster file; the message names the file and the field. */
export class ConfigError extends Error {
  readonly code: ErrorCode = 'CONFIG';
}
