// An in-process tinykv cluster for tests and benchmarks: N stores on real RocksDB in a temp directory,
// connected by a MemoryNetwork with fault filters, ticking from a ManualClock that a
// driver advances at a fixed real-time rate. A store can be stopped (engines closed,
// memory dropped) and restarted on the same directories, as a crash-restart would.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRocksEngine, type RocksEngine } from '../engine/index.js';
import { openSnapshotDir } from '../engine/index.js';
import { PowerLossEngine, type LossMode } from '../engine/index.js';
import type { StoreConnection } from '../client/index.js';
import { KvClient } from '../client/index.js';
import { ManualClock, type Clock } from '../raftstore/index.js';
import { MemoryNetwork } from '../raftstore/index.js';
import { createStore, Store, type ReadMode } from '../raftstore/index.js';
import type { StoreId } from '../api/ids.js';
import type { DeliberateBugs } from '../raftstore/index.js';
import { StoreStoppedError } from '../api/errors.js';
import { envelopeCodec } from '../raftstore/index.js';
import type { CrashPoint } from '../raftstore/index.js';
import type { KvEngine } from '../engine/index.js';

export interface ClusterOptions {
  readonly stores: number;
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  readonly seed: number;
  readonly maxValueBytes?: number;
  /** Applied entries kept before the leader compacts the log (the store's default if unset). */
  readonly compactLogThreshold?: number;
  /** Tests only: stores that break their promises on purpose, to show the checks catch it. */
  readonly deliberateBugs?: DeliberateBugs;
  /** Log payload bytes that make the leader compact (the store's default if unset). */
  readonly compactLogMaxBytes?: number;
  /** Bytes per snapshot chunk on the in-memory network (small ones let tests cut a transfer mid-way). */
  readonly snapshotChunkBytes?: number;
  /**
   * Called when a store hits a fatal error (a broken invariant). By default the error is
   * thrown, which fails the test run loudly; a test that expects one records it instead.
   */
  readonly onFatal?: (store: StoreId, err: Error) => void;
  /**
   * Wrap both engines of every store in a PowerLossEngine, so crashStore() can cut a
   * store's power (its unsynced writes may be lost). Costs a read per written key.
   */
  readonly powerLoss?: boolean;
  /** With powerLoss: each synced write first waits 0..n ms (a slow, uneven disk). */
  readonly slowSyncMs?: number;
  /** The stores' and clients' wall clock (default Date.now); tests move a fake one to expire sessions. */
  readonly wallClock?: () => number;
  readonly sessionTtlMs?: number;
  readonly maxClockSkewMs?: number;
  /** 'lease': leaders answer reads under a lease (see src/raftstore/leader-lease.ts). */
  readonly readMode?: ReadMode;
  /** Each snapshot install first waits this long (a big region or a slow disk). */
  readonly snapshotInstallDelayMs?: number;
  /** Each snapshot generation first waits this long (a big region). */
  readonly snapshotGenerateDelayMs?: number;
}

/** A crash armed with Cluster.armCrash. */
export interface CrashPlan {
  /** Only this store crashes there (any store if unset). */
  readonly store?: StoreId;
  /** Passes of the point to let by first (0 = the next one). */
  readonly skip?: number;
  /** What the power cut takes of the unsynced writes (default: a random suffix). */
  readonly lose?: LossMode;
}

export interface CrashReport {
  readonly store: StoreId;
  readonly point: CrashPoint;
  /** Engine writes the power cut undid (unsynced or in flight). */
  readonly lostWrites: number;
}

interface ArmedCrash {
  readonly point: CrashPoint;
  readonly plan: CrashPlan;
  skip: number;
  resolve(r: CrashReport): void;
  reject(e: Error): void;
}

/** A small seeded PRNG for the harness's own choices (message loss, partitions). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

export class Cluster {
  /** Every store this cluster runs or ran: the initial ones, then those added (addStore). */
  readonly ids: StoreId[];
  /** Stores added after the start: they join (never bootstrap) on an empty directory. */
  private readonly joined = new Set<StoreId>();
  readonly network: MemoryNetwork;
  readonly clock = new ManualClock();
  readonly random: () => number;
  private readonly stores = new Map<StoreId, Store>();
  private driver: NodeJS.Timeout | undefined;
  private nextClientId = 1;
  dir = '';

  constructor(readonly o: ClusterOptions) {
    this.ids = Array.from({ length: o.stores }, (_, i) => (i + 1) as StoreId);
    this.random = prng(o.seed);
    this.network = new MemoryNetwork({
      random: this.random, codec: envelopeCodec, ...(o.snapshotChunkBytes ? { snapshotChunkBytes: o.snapshotChunkBytes } : {}),
    });
  }

  static async start(o: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(o);
    c.dir = await mkdtemp(join(tmpdir(), 'tinykv-cluster-'));
    await Promise.all(c.ids.map((id) => c.startStore(id)));
    const tickMs = o.tickMs ?? 10;
    c.driver = setInterval(() => c.clock.advance(1, tickMs), tickMs);
    return c;
  }

  storeDir(id: StoreId): string {
    return join(this.dir, `store-${id}`);
  }

  async startStore(id: StoreId): Promise<void> {
    if (this.stores.has(id)) throw new Error(`store ${id} is already running`);
    await this.stopping.get(id);
    const opened = await Promise.allSettled([
      openRocksEngine(join(this.storeDir(id), 'raftdb')),
      openRocksEngine(join(this.storeDir(id), 'kvdb')),
    ]);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Close whichever one did open, so a retry is not refused by RocksDB's lock.
      await Promise.allSettled(opened.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
      throw failed.reason;
    }
    const [rawRaft, rawKv] = opened.map((r) => (r as PromiseFulfilledResult<RocksEngine>).value) as [RocksEngine, RocksEngine];
    const slow = this.o.slowSyncMs ? () => Math.floor(this.random() * (this.o.slowSyncMs! + 1)) : undefined;
    const raft = this.o.powerLoss ? new PowerLossEngine(rawRaft, slow) : rawRaft;
    const kv = this.o.powerLoss ? new PowerLossEngine(rawKv, slow) : rawKv;
    if (raft instanceof PowerLossEngine && kv instanceof PowerLossEngine) this.powerLossEngines.set(id, [raft, kv]);
    const snapshotFiles = await openSnapshotDir(join(this.storeDir(id), 'snap'));
    const store = createStore({
      snapshotFiles,
      ...(this.o.powerLoss ? { crashHook: (point: CrashPoint) => this.onCrashPoint(id, point) } : {}),
      storeId: id, clusterStoreIds: this.ids, engines: { raft, kv },
      transport: this.network.transportFor(id), clock: this.clockFor(id),
      tickMs: this.o.tickMs ?? 10, electionTick: this.o.electionTick ?? 10, heartbeatTick: this.o.heartbeatTick ?? 2,
      seed: (this.o.seed * 31 + id * 1009 + this.restarts++) >>> 0,
      ...(this.o.maxValueBytes !== undefined ? { maxValueBytes: this.o.maxValueBytes } : {}),
      onFatal: (e) => {
        if (!this.o.onFatal) throw e;
        this.o.onFatal(id, e);
        void this.stopStore(id);
      },
      ...(this.o.deliberateBugs ? { deliberateBugs: this.o.deliberateBugs } : {}),
      ...(this.o.compactLogThreshold !== undefined ? { compactLogThreshold: this.o.compactLogThreshold } : {}),
      ...(this.o.compactLogMaxBytes !== undefined ? { compactLogMaxBytes: this.o.compactLogMaxBytes } : {}),
      ...(this.o.wallClock ? { wallClock: this.o.wallClock } : {}),
      ...(this.o.sessionTtlMs !== undefined ? { sessionTtlMs: this.o.sessionTtlMs } : {}),
      ...(this.o.maxClockSkewMs !== undefined ? { maxClockSkewMs: this.o.maxClockSkewMs } : {}),
      ...(this.o.readMode ? { readMode: this.o.readMode } : {}),
      ...(this.o.snapshotInstallDelayMs ? { beforeInstall: () => new Promise<void>((r) => setTimeout(r, this.o.snapshotInstallDelayMs)) } : {}),
      ...(this.o.snapshotGenerateDelayMs ? { whileGenerating: () => new Promise<void>((r) => setTimeout(r, this.o.snapshotGenerateDelayMs)) } : {}),
      ...(this.joined.has(id) ? { join: true } : {}),
      ...(this.minPeerIds.has(id) ? { minPeerId: this.minPeerIds.get(id)! } : {}),
    });
    await store.start();
    this.stores.set(id, store);
    this.network.attach(id, (env) => store.onRaftMessage(env), {
      files: snapshotFiles, receive: (env) => store.receiveSnapshot(env),
    });
  }
  private restarts = 0;
  private readonly stalled = new Set<StoreId>();

  /** The cluster's clock as one store sees it: its ticks stop while stallTicks holds them. */
  private clockFor(id: StoreId): Clock {
    return {
      every: (tickMs, onTick) => this.clock.every(tickMs, () => {
        if (!this.stalled.has(id)) onTick();
      }),
      now: () => this.clock.now(),
    };
  }

  /**
   * Stops (or resumes) one store's ticks while time goes on for everyone, as a store whose
   * event loop is stuck would see it: it misses elections and quorum checks, but its
   * clock keeps running.
   */
  stallTicks(id: StoreId, stalled: boolean): void {
    if (stalled) this.stalled.add(id);
    else this.stalled.delete(id);
  }
  private armed: ArmedCrash | undefined;
  /** How often each store passed each crash point (stores started with powerLoss only). */
  readonly crashPointPasses = new Map<CrashPoint, number>();

  /**
   * Arms a crash at a named point of the Ready loop (crash-points.ts): the next store (or
   * `plan.store`) to pass it, after `plan.skip` passes, dies right there as in a power cut
   * (crashStore). One crash is armed at a time. Resolves once the store is down; the test
   * restarts it with startStore. Needs `powerLoss: true`.
   */
  armCrash(point: CrashPoint, plan: CrashPlan = {}): Promise<CrashReport> {
    if (!this.o.powerLoss) return Promise.reject(new Error('armCrash needs a cluster started with powerLoss: true'));
    if (this.armed) return Promise.reject(new Error(`a crash at ${this.armed.point} is already armed`));
    return new Promise<CrashReport>((resolve, reject) => {
      this.armed = { point, plan, skip: plan.skip ?? 0, resolve, reject };
    });
  }

  /** Disarms a crash that has not fired (its promise rejects with `why`). */
  disarmCrash(why: string): void {
    const a = this.armed;
    this.armed = undefined;
    a?.reject(new Error(why));
  }

  private onCrashPoint(id: StoreId, point: CrashPoint): void {
    this.crashPointPasses.set(point, (this.crashPointPasses.get(point) ?? 0) + 1);
    const a = this.armed;
    if (!a || a.point !== point || (a.plan.store !== undefined && a.plan.store !== id)) return;
    if (a.skip-- > 0) return;
    this.armed = undefined;
    // crashStore kills the store and fences its engines before its first await, so the
    // peer that called this sees itself stopped the moment the hook returns.
    this.crashStore(id, a.plan.lose ?? 'suffix').then(
      (lostWrites) => a.resolve({ store: id, point, lostWrites }),
      (e: Error) => a.reject(e),
    );
  }

  /** The raw engines under a store's power-loss wrappers (raftdb, kvdb), for checks that read them directly. */
  engines(id: StoreId): { raft: KvEngine; kv: KvEngine } | undefined {
    const e = this.powerLossEngines.get(id);
    return e && this.stores.has(id) ? { raft: e[0], kv: e[1] } : undefined;
  }
  private readonly powerLossEngines = new Map<StoreId, [PowerLossEngine, PowerLossEngine]>();

  /**
   * Crashes a store as a power cut would: it dies at once (nothing is flushed or settled
   * gracefully), then each engine forgets what the cut takes — the write in flight and
   * `lose` of the unsynced writes since the last fsync. Needs `powerLoss: true`. Returns
   * how many writes were lost, for the test's report.
   */
  async crashStore(id: StoreId, lose: LossMode = 'suffix'): Promise<number> {
    const engines = this.powerLossEngines.get(id);
    if (!engines) throw new Error('crashStore needs a cluster started with powerLoss: true');
    const s = this.stores.get(id);
    if (!s) return 0;
    this.stores.delete(id);
    this.network.attach(id, undefined);
    s.kill();
    const crash = (async () => {
      await Promise.all(engines.map((e) => e.powerLoss({ lose, random: this.random })));
      await Promise.all(engines.map((e) => e.inner.close()));
    })().finally(() => this.stopping.delete(id));
    this.stopping.set(id, crash);
    await crash;
    return engines[0].lostWrites + engines[1].lostWrites;
  }
  // Stops in progress, so a concurrent stopStore/startStore of the same id waits for the engines to close.
  private readonly stopping = new Map<StoreId, Promise<void>>();

  /**
   * Starts a new, empty store that joins the running cluster: it has no peer until a
   * membership change adds it (Store.changePeer on the leader) and the leader contacts it.
   */
  async addStore(id: StoreId): Promise<void> {
    if (this.ids.includes(id)) throw new Error(`store ${id} exists`);
    this.ids.push(id);
    this.joined.add(id);
    await this.startStore(id);
  }

  private readonly minPeerIds = new Map<StoreId, number>();

  /**
   * A store that lost its disk and is started again empty as a joining store (what the
   * store process does for `tinykv store replace`): it refuses to recreate any peer with an
   * id at or below `minPeerId` (the process computes it in src/node/identity.ts).
   */
  async wipeStore(id: StoreId, minPeerId: number): Promise<void> {
    await this.stopStore(id);
    await rm(this.storeDir(id), { recursive: true, force: true });
    this.joined.add(id);
    this.minPeerIds.set(id, minPeerId);
    await this.startStore(id);
  }

  /** Stops a store as a crash would leave it: engines closed, memory state gone. */
  async stopStore(id: StoreId): Promise<void> {
    const s = this.stores.get(id);
    if (!s) return this.stopping.get(id);
    this.stores.delete(id);
    this.network.attach(id, undefined);
    const p = s.stop().finally(() => this.stopping.delete(id));
    this.stopping.set(id, p);
    return p;
  }

  async restartAll(): Promise<void> {
    for (const id of this.ids) await this.stopStore(id);
    for (const id of this.ids) await this.startStore(id);
  }

  store(id: StoreId): Store | undefined {
    return this.stores.get(id);
  }

  leaderId(): StoreId | undefined {
    let best: { id: StoreId; term: number } | undefined;
    for (const [id, s] of this.stores) {
      const st = s.status()[0];
      if (st && st.role === 'leader' && (!best || st.term > best.term)) best = { id, term: st.term };
    }
    return best?.id;
  }

  /** A client whose connections call the stores directly (an unreachable store = stopped). */
  client(opts: { timeoutMs?: number; attemptTimeoutMs?: number; onRequest?: (storeId: StoreId) => void } = {}): KvClient {
    const connect = (storeId: number): StoreConnection => this.connection(storeId as StoreId, opts.onRequest);
    return new KvClient({
      storeIds: this.ids, connect, clientId: this.nextClientId++, random: this.random,
      timeoutMs: opts.timeoutMs ?? 10_000, attemptTimeoutMs: opts.attemptTimeoutMs ?? 1_000,
      ...(this.o.wallClock ? { now: this.o.wallClock } : {}),
    });
  }

  /** `onRequest` sees every request the client sends to this store (tests count retries with it). */
  private connection(id: StoreId, onRequest?: (storeId: StoreId) => void): StoreConnection {
    const get = (): Store => {
      onRequest?.(id);
      const s = this.stores.get(id);
      if (!s) throw new StoreStoppedError(id);
      return s;
    };
    return {
      storeId: id,
      get: async (h, key) => get().get(h, key),
      scan: async (h, start, end, limit) => get().scan(h, start, end, limit),
      put: async (h, key, value, session) => get().put(h, key, value, session),
      delete: async (h, key, session) => get().delete(h, key, session),
      deleteRange: async (h, start, end, session) => {
        const r = await get().deleteRange(h, start, end, session);
        return r.duplicate ? undefined : (r.deleted ?? 0);
      },
    };
  }

  /** Waits (bounded) until some store leads. */
  async waitForLeader(timeoutMs = 10_000): Promise<StoreId> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const l = this.leaderId();
      if (l !== undefined) return l;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no leader within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    if (this.driver) clearInterval(this.driver);
    this.network.close();
    for (const id of [...this.stores.keys()]) await this.stopStore(id);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
