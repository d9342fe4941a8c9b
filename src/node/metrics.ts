// A store process's metrics in Prometheus's text format, served over HTTP on the store's
// metrics address (GET /metrics). prom-client does the format and the histograms; this
// file decides what is measured. Four kinds of source:
// - events the raftstore reports as they happen (StoreObserver: proposals, Ready loops);
// - writes to the engines, timed by a wrapper (timed-engine.ts): fsync latency;
// - client requests, timed around each gRPC handler;
// - state read when scraped: raft role/term/indexes, transport and snapshot counters,
//   database sizes on disk, and Node's own process metrics (CPU, memory, event-loop lag).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProposalKind, StoreObserver } from '../raftstore/index.js';
import type { SnapshotStats } from '../raftstore/index.js';
import type { StoreStatus } from '../raftstore/index.js';
import { RecentDurations } from './recent-durations.js';

/** What the metrics read when scraped. */
export interface MetricsSources {
  readonly storeId: number;
  /** The region's raft state here; undefined while the store has no peer (or is starting). */
  readonly status: () => StoreStatus | undefined;
  /** 'member', 'joining', 'removed' or 'starting': what a store without a peer is doing. */
  readonly membership: () => string;
  readonly snapshots: () => SnapshotStats | undefined;
  readonly transport: () => { sent: number; received: number; dropped: Readonly<Record<string, number>> };
  /** Bytes on disk of raftdb and kvdb. */
  readonly dbBytes: () => Promise<{ raftdb: number; kvdb: number }>;
}

const ROLES = ['follower', 'preCandidate', 'candidate', 'leader', 'joining', 'removed', 'starting'] as const;
/** Seconds; fsyncs on this machine's disk take ~0.5 ms, a slow disk tens of ms. */
const DISK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Seconds; a client request takes a few ms, one that waits out an election seconds. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class StoreMetrics implements StoreObserver {
  readonly registry = new Registry();
  /** The last 1,024 synced writes, for `cluster status`'s fsync p99. */
  readonly recentFsyncs = new RecentDurations(1024);
  private readonly proposals: Counter<'kind'>;
  private readonly readyLoop: Histogram;
  private readonly engineWrites: Histogram<'db' | 'sync'>;
  private readonly requests: Histogram<'method' | 'outcome'>;

  constructor(private readonly src: MetricsSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ store: String(src.storeId) });
    collectDefaultMetrics({ register: this.registry, prefix: 'tinykv_' });

    this.proposals = new Counter({
      name: 'tinykv_raft_proposals_total', help: 'Proposals handed to the raft core, by kind.', labelNames: ['kind'], registers,
    });
    this.readyLoop = new Histogram({
      name: 'tinykv_raft_ready_duration_seconds', help: 'Time to handle one Ready: persist, send, apply, advance.', buckets: DISK_BUCKETS, registers,
    });
    this.engineWrites = new Histogram({
      name: 'tinykv_engine_write_duration_seconds',
      help: 'Time of each write batch to raftdb or kvdb; sync="true" ones include the fsync.',
      labelNames: ['db', 'sync'], buckets: DISK_BUCKETS, registers,
    });
    this.requests = new Histogram({
      name: 'tinykv_grpc_request_duration_seconds',
      help: 'Client requests by gRPC method and outcome (ok, region_error, invalid, unavailable).',
      labelNames: ['method', 'outcome'], buckets: REQUEST_BUCKETS, registers,
    });
    this.stateGauges(registers);
    this.counterViews(registers);
  }

  // ---- events ---------------------------------------------------------------------

  proposed(kind: ProposalKind): void {
    this.proposals.inc({ kind });
  }

  readyHandled(ms: number): void {
    this.readyLoop.observe(ms / 1000);
  }

  /** A write batch to one of the engines finished. */
  engineWrite(db: 'raftdb' | 'kvdb', ms: number, synced: boolean): void {
    this.engineWrites.observe({ db, sync: String(synced) }, ms / 1000);
    if (synced) this.recentFsyncs.push(ms);
  }

  /** A client request finished. */
  request(method: string, outcome: string, ms: number): void {
    this.requests.observe({ method, outcome }, ms / 1000);
  }

  /** The text a scrape gets. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // ---- read when scraped ----------------------------------------------------------

  private stateGauges(registers: Registry[]): void {
    const src = this.src;
    const fromStatus = (name: string, help: string, pick: (s: StoreStatus) => number): void => {
      new Gauge({
        name, help, registers,
        collect() {
          const s = src.status();
          // No peer, no value: an absent series says "unknown" where 0 would be a lie.
          this.reset();
          if (s) this.set(pick(s));
        },
      });
    };
    fromStatus('tinykv_raft_term', 'Current raft term of this store\'s peer.', (s) => s.term);
    fromStatus('tinykv_raft_commit_index', 'Highest log index known committed.', (s) => s.commitIndex);
    fromStatus('tinykv_raft_applied_index', 'Highest log index applied to kvdb.', (s) => s.appliedIndex);
    fromStatus('tinykv_raft_last_index', 'Index of the last entry in this peer\'s log.', (s) => s.lastIndex);
    fromStatus('tinykv_raft_truncated_index', 'Log entries at or below this index are compacted away.', (s) => s.truncatedIndex);
    fromStatus('tinykv_raft_log_bytes', 'Payload bytes of the raft log above the truncated index.', (s) => s.logBytes);
    fromStatus('tinykv_region_conf_ver', 'The region\'s configuration version as applied here.', (s) => s.confVer);
    fromStatus('tinykv_region_voters', 'Voting members of the region as applied here.', (s) => s.members.filter((m) => !m.learner).length);
    new Gauge({
      name: 'tinykv_raft_role', help: 'This store\'s role: 1 for the current one, 0 for the others.', labelNames: ['role'], registers,
      collect() {
        const now = src.status()?.role ?? src.membership();
        for (const role of ROLES) this.set({ role }, role === now ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tinykv_engine_size_bytes', help: 'Bytes on disk of each database directory.', labelNames: ['db'], registers,
      async collect() {
        const b = await src.dbBytes();
        this.set({ db: 'raftdb' }, b.raftdb);
        this.set({ db: 'kvdb' }, b.kvdb);
      },
    });
    new Gauge({
      name: 'tinykv_snapshots_in_flight', help: 'Snapshots being sent or received right now.', labelNames: ['direction'], registers,
      collect() {
        const s = src.snapshots();
        this.set({ direction: 'sending' }, s?.sending ?? 0);
        this.set({ direction: 'receiving' }, s?.receiving ?? 0);
      },
    });
  }

  /** Counters kept elsewhere (transport, snapshot manager), shown as Prometheus counters. */
  private counterViews(registers: Registry[]): void {
    const src = this.src;
    new Counter({
      name: 'tinykv_raft_messages_sent_total', help: 'Raft messages handed to a stream to another store.', registers,
      collect() {
        this.reset();
        this.inc(src.transport().sent);
      },
    });
    new Counter({
      name: 'tinykv_raft_messages_received_total', help: 'Raft messages received from other stores and delivered.', registers,
      collect() {
        this.reset();
        this.inc(src.transport().received);
      },
    });
    new Counter({
      name: 'tinykv_raft_messages_dropped_total',
      help: 'Raft messages dropped: fault (chaos filters), unreachable (no connection), congested (stream full), unknown_store, undecodable.',
      labelNames: ['reason'], registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(src.transport().dropped)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'tinykv_snapshots_total', help: 'Snapshots generated, sent, received and installed by this store.', labelNames: ['event'], registers,
      collect() {
        this.reset();
        const s = src.snapshots();
        if (!s) return;
        for (const event of ['generated', 'sent', 'sendFailures', 'received', 'installed'] as const) this.inc({ event: snake(event) }, s[event]);
      },
    });
  }
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
