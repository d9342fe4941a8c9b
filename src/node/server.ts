// StoreServer: one store process's moving parts, built and started in order — gRPC
// server bound on the store's address, both engines opened, identity checked, region
// bootstrapped or reloaded, raft transport connected — and stopped in reverse: stop
// accepting, finish in-flight requests, settle pending proposals, close RocksDB.

import type { ErrorCode } from '../api/codes.js';
import { PortInUseError } from '../api/port-in-use.js';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { AdminClient, adminFailureReason } from '../client/index.js';
import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import { join } from 'node:path';
import { loadClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { storeDir } from '../config/types.js';
import { EngineOpenError } from '../engine/index.js';
import { openRocksEngine } from '../engine/index.js';
import { openSnapshotDir } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import type { Logger } from '../raft/index.js';
import { realClock } from '../raftstore/index.js';
import type { DeliberateBugs } from '../raftstore/index.js';
import { StoreStoppedError } from '../api/errors.js';
import type { StoreId } from '../api/ids.js';
import { FIRST_REGION_ID } from '../raftstore/index.js';
import { createStore } from '../raftstore/index.js';
import type { Store } from '../raftstore/index.js';
import { AdminService, RaftService, TinyKvService } from '../rpc/services.js';
import { GrpcServer } from './grpc-server.js';
import { adminHandlers } from './admin-service.js';
import { GrpcTransport } from './grpc-transport.js';
import { checkOrWriteIdentity } from './identity.js';
import type { PeerIdentity } from './identity.js';
import { InFlight, kvHandlers } from './kv-service.js';
import { StoreMetrics } from './metrics.js';
import { serveMetrics, type MetricsServer } from './metrics-server.js';
import { timedEngine } from './timed-engine.js';

/**
 * The store's data directory cannot be used: it cannot be created, or an engine in it cannot
 * be opened (another process holds its lock, no permission). A start failure the user can
 * fix, not a bug: the CLI's exit status for it is the same as for a bad cluster file.
 */
export class DataDirUnusableError extends Error {
  override readonly name = 'DataDirUnusableError';
  readonly code: ErrorCode = 'DATA_DIR_UNUSABLE';
}

/** Opens one engine of the store; a directory it cannot open is DataDirUnusableError. */
async function openEngine(storeId: StoreId, path: string): Promise<KvEngine> {
  try {
    return await openRocksEngine(path);
  } catch (e) {
    if (e instanceof EngineOpenError) throw new DataDirUnusableError(`store ${storeId}: ${e.message}`, { cause: e });
    throw e;
  }
}

export interface StoreServer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface StoreServerOptions {
  /**
   * How long a store on an empty data directory waits for every other store to answer
   * before it refuses to bootstrap (see identity.ts). Default 30 s.
   */
  readonly identityWaitMs?: number;
  /** Tests only: bugs to run with (src/raftstore/deliberate-bugs.ts). */
  readonly deliberateBugs?: DeliberateBugs;
}

export function createStoreServer(cfg: ClusterConfig, storeId: StoreId, logger: Logger, opts: StoreServerOptions = {}): StoreServer {
  const me = cfg.stores.find((s) => s.id === storeId);
  if (!me) throw new RangeError(`store ${storeId} is not in ${cfg.file}`);
  const dir = storeDir(cfg, storeId);
  const addrs = new Map<StoreId, string>([...cfg.stores, ...cfg.removedStores].map((s) => [s.id, s.addr]));
  // A store added after this one started (tinykv store add) is not in the file as it was
  // read then: read it again, at most once a second, when a message is for an unknown store.
  let lastReload = 0;
  const addrOf = (id: StoreId): string | undefined => {
    const known = addrs.get(id);
    if (known !== undefined || realClock.now() - lastReload < 1000) return known;
    lastReload = realClock.now();
    try {
      const fresh = loadClusterConfig(cfg.file);
      for (const st of [...fresh.stores, ...fresh.removedStores]) if (!addrs.has(st.id)) addrs.set(st.id, st.addr);
      if (addrs.has(id)) logger.info('learned a store\'s address from the cluster file', { store: id, addr: addrs.get(id) });
      else logger.warn('a message for a store the cluster file does not list; dropped', { store: id });
    } catch (e) {
      logger.warn('cannot re-read the cluster file', { error: (e as Error).message });
    }
    return addrs.get(id);
  };
  const transport = new GrpcTransport(storeId, addrOf, logger);
  const server = new GrpcServer({ maxReceiveBytes: 64 * 1024 * 1024 });
  const startedAt = realClock.now();
  let store: Store | undefined;
  const opened: KvEngine[] = [];
  let kvdb: KvEngine | undefined;
  // What this store answers another store's identity question with: read straight from
  // kvdb, so it is right before the store runs and while it bootstraps.
  const identity = async (asking: StoreId): Promise<PeerIdentity> => {
    if (!kvdb) return { ready: false, clusterId: '', heardTerm: 0, heardPeer: 0, confVer: 0 };
    const raw = await kvdb.get(keys.storeIdentKey());
    const clusterId = raw ? raft_serverpb.StoreIdent.decode(raw).cluster_id : '';
    const heard = await kvdb.get(keys.peerTermKey(asking));
    const region = await kvdb.get(keys.regionStateKey(FIRST_REGION_ID));
    const confVer = region ? Number(raft_serverpb.RegionLocalState.decode(region).region?.region_epoch?.conf_ver ?? 0) : 0;
    const rec = heard ? keys.decodeHeardRecord(heard) : { term: 0, peerId: 0 };
    return { ready: true, clusterId, heardTerm: rec.term, heardPeer: rec.peerId, confVer };
  };
  const running = (): Store => {
    if (!store) throw new StoreStoppedError(storeId);
    return store;
  };
  const dbBytes = async () => {
    const [raftdb, kvdb] = await Promise.all([dirBytes(join(dir, 'raftdb')), dirBytes(join(dir, 'kvdb'))]);
    return { raftdb, kvdb };
  };
  const metrics = new StoreMetrics({
    storeId, status: () => store?.status()[0], membership: () => store?.membership() ?? 'starting',
    snapshots: () => store?.snapshots.snapshotStats(), transport: () => transport.counts, dbBytes,
  });
  let metricsServer: MetricsServer | undefined;
  const inflight = new InFlight();
  server.addService(TinyKvService, kvHandlers(running, inflight, (method, outcome, ms) => metrics.request(method, outcome, ms)));
  server.addService(RaftService, transport.handlers(
    (env) => store?.onRaftMessage(env),
    (env) => (store ? store.receiveSnapshot(env) : Promise.reject(new Error(`store ${storeId} is not running yet`))),
  ));
  server.addService(AdminService, adminHandlers({
    storeId, store: () => store, startedAt, now: realClock.now, allStoreIds: cfg.stores.map((s) => s.id),
    getFaults: () => transport.getFaults(), setFaults: (f) => transport.setFaults(f),
    identity, dbBytes, knownStores: () => [...addrs],
    fsyncP99: () => ({ ms: metrics.recentFsyncs.quantile(0.99), samples: metrics.recentFsyncs.count }),
    metricsAddr: () => metricsServer?.addr ?? '',
  }));

  async function bind(): Promise<void> {
    try {
      await server.listen(me!.host, me!.port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      throw new PortInUseError(`store ${storeId}: port ${me!.port} on ${me!.host} is already in use`, { addr: me!.addr, field: 'addr', storeId });
    }
  }

  return {
    async start() {
      await mkdir(dir, { recursive: true });
      await bind();
      // Loopback on a port the system picks unless the file names one (then a taken port
      // stops the start, like the store's own address).
      metricsServer = await serveMetrics(metrics, me!.metrics?.host ?? '127.0.0.1', me!.metrics?.port ?? 0);
      logger.info('serving metrics', { addr: `http://${metricsServer.addr}/metrics` });
      const raft = await openEngine(storeId, join(dir, 'raftdb'));
      opened.push(raft);
      const kv = await openEngine(storeId, join(dir, 'kvdb'));
      opened.push(kv);
      kvdb = kv;
      const { minPeerId } = await checkOrWriteIdentity({
        kv, raft, dir, clusterId: cfg.clusterId, storeId, logger, join: me!.join,
        peers: cfg.stores.map((x) => x.id).filter((id) => id !== storeId),
        ask: (peer) => askIdentity(cfg.stores.find((x) => x.id === peer)!.addr, storeId),
        waitMs: opts.identityWaitMs ?? 30_000,
      });
      const snapshotFiles = await openSnapshotDir(join(dir, 'snap'));
      transport.snapshotFiles = snapshotFiles;
      const s = createStore({
        snapshotFiles, compactLogMaxBytes: cfg.raft.compactLogMaxBytes,
        sessionTtlMs: cfg.raft.clientSessionTtlMs, maxClockSkewMs: cfg.raft.maxClockSkewMs,
        readMode: cfg.raft.readMode,
        // The stores a new cluster bootstraps with: those not added later.
        storeId, clusterStoreIds: cfg.stores.filter((x) => !x.join).map((x) => x.id), transport,
        engines: {
          raft: timedEngine(raft, (ms, sync) => metrics.engineWrite('raftdb', ms, sync)),
          kv: timedEngine(kv, (ms, sync) => metrics.engineWrite('kvdb', ms, sync)),
        },
        observer: metrics,
        ...(opts.deliberateBugs ? { deliberateBugs: opts.deliberateBugs } : {}),
        join: me!.join, minPeerId,
        clock: realClock, tickMs: cfg.raft.tickMs, electionTick: cfg.raft.electionTicks,
        heartbeatTick: cfg.raft.heartbeatTicks, compactLogThreshold: cfg.raft.compactLogThreshold, maxValueBytes: cfg.maxValueBytes, maxKeyBytes: cfg.maxKeyBytes,
        logger, onFatal: (e) => {
          logger.error('fatal store error; exiting', { error: e.message });
          process.exitCode = 1;
          void this.stop();
        },
      });
      await s.start();
      store = s;
      logger.info('store started', { storeId, addr: me!.addr, pid: process.pid });
    },
    async stop() {
      // Stop taking new requests and let in-flight client requests finish (bounded; raft
      // keeps running meanwhile so they can commit), then close the raft streams.
      const shutdown = server.shutdown();
      inflight.stop();
      await inflight.drained(2000);
      transport.close();
      let force: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        force = setTimeout(() => { server.forceShutdown(); resolve(); }, 1000);
      });
      await Promise.race([shutdown, forced]);
      clearTimeout(force);
      const s = store;
      store = undefined;
      if (s) await s.stop();
      else await Promise.all(opened.map((e) => e.close()));
      await metricsServer?.close();
      logger.info('store stopped', { storeId });
    },
  };
}

/** Asks the store at `addr` the identity question on behalf of `asking` (1 s per try). */
async function askIdentity(addr: string, asking: StoreId): Promise<PeerIdentity> {
  const client = new AdminClient(addr);
  try {
    return await client.identity(asking, { timeoutMs: 1000 });
  } catch (e) {
    // One short reason for the refusal message, not gRPC's internals.
    throw new Error(adminFailureReason(e));
  } finally {
    client.close();
  }
}

/** Total size of the files under `path` (0 if it does not exist). */
async function dirBytes(path: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += await stat(p).then((s) => s.size, () => 0);
  }
  return total;
}
