// `cluster status`: for each store of the cluster file, its process (from store.pid and
// /proc) and its raft state (from its Admin service). A store that is down, paused or
// not answering has role null and null raft fields.

import type { MemberInfo } from '../client/index.js';
import type { ClusterConfig, StoreConfig } from '../config/types.js';
import { checkPort } from './port.js';
import { probeStore } from './probe.js';
import { storeProcess } from './stores.js';

export const DEFAULT_STATUS_TIMEOUT_MS = 1000;

export interface StoreStatusRow {
  readonly id: number;
  readonly addr: string;
  /** The store's PID while its process lives, else null. */
  readonly pid: number | null;
  readonly alive: boolean;
  /**
   * running: our process, answering; paused: stopped by SIGSTOP; unreachable: our process,
   * not answering; external: answering but not started by the orchestrator; down: no process.
   */
  readonly process: 'running' | 'paused' | 'unreachable' | 'external' | 'down';
  /** leader, follower, candidate, preCandidate, or starting; null when it does not answer. */
  readonly role: string | null;
  readonly term: number | null;
  /** The leader's store id as this store knows it (null when unknown or not answering). */
  readonly leaderId: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly lastIndex: number | null;
  /** Log entries at or below it are compacted away. */
  readonly truncatedIndex: number | null;
  /** Bytes on disk of the store's raftdb. */
  readonly raftdbBytes: number | null;
  readonly kvdbBytes: number | null;
  /** p99 of the store's last (up to 1,024) synced writes, in ms; null before the first. */
  readonly fsyncP99Ms: number | null;
  /** Resident set size of the store process. */
  readonly rssBytes: number | null;
  /** host:port of the store's Prometheus endpoint (GET /metrics). */
  readonly metricsAddr: string | null;
  /** Snapshots being sent and received right now, and the index of the last one installed (0: none since start). */
  readonly snapshotsSending: number | null;
  readonly snapshotsReceiving: number | null;
  readonly lastSnapshotInstalled: number | null;
  /** The region's conf_ver and members as this store has applied them (match: see MemberInfo). */
  readonly confVer: number | null;
  readonly members: readonly MemberInfo[] | null;
  /** Why role is null for a live store. */
  readonly error?: string;
}

export async function clusterStatus(cfg: ClusterConfig, o: { timeoutMs?: number } = {}): Promise<StoreStatusRow[]> {
  return Promise.all(cfg.stores.map((s) => storeStatus(cfg, s, o.timeoutMs ?? DEFAULT_STATUS_TIMEOUT_MS)));
}

const NO_RAFT = {
  role: null, term: null, leaderId: null, commitIndex: null, appliedIndex: null, lastIndex: null,
  truncatedIndex: null, raftdbBytes: null, kvdbBytes: null, fsyncP99Ms: null, rssBytes: null, metricsAddr: null, snapshotsSending: null, snapshotsReceiving: null, lastSnapshotInstalled: null,
  confVer: null, members: null,
};

async function storeStatus(cfg: ClusterConfig, store: StoreConfig, timeoutMs: number): Promise<StoreStatusRow> {
  const base = { id: store.id, addr: store.addr };
  const proc = storeProcess(cfg, store.id);
  if (proc.state === 'paused') return { ...base, pid: proc.rec!.pid, alive: true, process: 'paused', ...NO_RAFT };
  if (proc.state === 'dead' && (await checkPort(store.host, store.port)).free) {
    return { ...base, pid: null, alive: false, process: 'down', ...NO_RAFT };
  }
  const p = await probeStore(store, timeoutMs);
  if (!p.ok) {
    if (proc.rec) return { ...base, pid: proc.rec.pid, alive: true, process: 'unreachable', ...NO_RAFT, error: p.error };
    return { ...base, pid: null, alive: false, process: 'down', ...NO_RAFT, error: p.error };
  }
  const s = p.status;
  return {
    ...base,
    pid: proc.rec?.pid ?? s.pid,
    alive: true,
    process: proc.rec ? 'running' : 'external',
    role: s.role,
    term: s.term,
    leaderId: s.leaderId === 0 ? null : s.leaderId,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    truncatedIndex: s.truncatedIndex,
    raftdbBytes: s.raftdbBytes,
    kvdbBytes: s.kvdbBytes,
    fsyncP99Ms: s.fsyncP99Ms ?? null,
    rssBytes: s.rssBytes,
    metricsAddr: s.metricsAddr || null,
    snapshotsSending: s.snapshotsSending,
    snapshotsReceiving: s.snapshotsReceiving,
    lastSnapshotInstalled: s.lastSnapshotInstalled,
    confVer: s.hasPeer ? s.confVer : null,
    members: s.hasPeer ? s.members : null,
  };
}

/**
 * The region's membership: as the leader of the highest term reports it, or, with no leader
 * answering, as the answering store with the newest conf_ver has applied it (then without
 * match indexes). Null when no store with a peer answers.
 */
export interface Membership {
  /** The store whose view this is leads (match indexes are the leader's); null: a follower's view. */
  readonly leaderId: number | null;
  readonly confVer: number;
  readonly voters: readonly MemberInfo[];
  readonly learners: readonly MemberInfo[];
}

export function membershipOf(rows: readonly StoreStatusRow[]): Membership | null {
  let lead: StoreStatusRow | undefined;
  for (const r of rows) if (r.role === 'leader' && r.members && (!lead || r.term! > lead.term!)) lead = r;
  let from = lead;
  if (!from) for (const r of rows) if (r.members && (!from || r.confVer! > from.confVer!)) from = r;
  if (!from) return null;
  const members = [...from.members!].sort((a, b) => a.storeId - b.storeId);
  return {
    leaderId: lead ? lead.id : null, confVer: from.confVer!,
    voters: members.filter((m) => !m.learner), learners: members.filter((m) => m.learner),
  };
}
