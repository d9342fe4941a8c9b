// The admin API of a store (tinykvpb.Admin): status for `tinykv cluster status` and the
// orchestrator's readiness checks, and fault control for `tinykv chaos`.

import type { kvrpcpb } from '../gen/proto.js';
import type { StoreId } from '../api/ids.js';
import type { MemberStatus, Store } from '../raftstore/index.js';
import type { FaultState } from '../raftstore/index.js';
import { NO_FAULTS } from '../raftstore/index.js';
import type { AdminHandlers, CallFailure, Reply } from '../rpc/services.js';
import { errorToWire, failureStatus, GrpcStatus, type WireFailure } from '../api/wire-errors.js';
import { StoreStoppedError } from '../api/errors.js';
import type { PeerIdentity } from './identity.js';

export interface AdminDeps {
  readonly storeId: StoreId;
  readonly store: () => Store | undefined;
  readonly startedAt: number;
  readonly now: () => number;
  readonly getFaults: () => FaultState;
  readonly setFaults: (f: FaultState) => void;
  readonly allStoreIds: readonly StoreId[];
  /** What this store answers another store's identity question with (see identity.ts). */
  readonly identity: (asking: StoreId) => Promise<PeerIdentity>;
  /** Bytes on disk of this store's raftdb and kvdb. */
  readonly dbBytes: () => Promise<{ raftdb: number; kvdb: number }>;
  /** The p99 of recent fsyncs and how many samples it covers (see StoreMetrics). */
  readonly fsyncP99?: () => { ms: number | undefined; samples: number };
  /** Where the store serves its metrics; '' until it does. */
  readonly metricsAddr?: () => string;
  /** The stores whose addresses this one knows. */
  readonly knownStores?: () => ReadonlyArray<readonly [StoreId, string]>;
}

/** Applies one FaultRequest to the current filters (see kvrpcpb.FaultRequest). */
export function applyFaultRequest(cur: FaultState, req: kvrpcpb.IFaultRequest, self: StoreId, all: readonly StoreId[]): FaultState {
  if (req.heal) return NO_FAULTS;
  let next = cur;
  if (req.isolate) next = { ...next, isolated: new Set([...next.isolated, self]) };
  const a = (req.group_a ?? []).map(Number);
  const b = (req.group_b ?? []).map(Number);
  if (a.length > 0 || b.length > 0) {
    // Stores named in neither group stay with nobody, like TinyKV's partition filter.
    const known = new Set([...a, ...b]);
    const rest = all.filter((s) => !known.has(s));
    next = { ...next, partition: [new Set(a), new Set(b), ...rest.map((s) => new Set([s]))] };
  }
  const rate = Number(req.drop_rate ?? 0);
  if (req.set_drop_rate || rate > 0) next = { ...next, dropRate: Math.min(1, rate) };
  const delay = Number(req.delay_ms ?? 0);
  if (delay > 0) next = { ...next, delayMs: delay };
  return next;
}

async function statusResponse(d: AdminDeps): Promise<kvrpcpb.IStatusResponse> {
  const store = d.store();
  const st = store?.status()[0];
  const snaps = store?.snapshots.snapshotStats();
  const db = await d.dbBytes();
  const fsync = d.fsyncP99?.() ?? { ms: undefined, samples: 0 };
  return {
    store_id: d.storeId,
    pid: process.pid,
    region_id: st?.regionId ?? 0,
    // A running store without a peer is waiting to be added, or was removed.
    role: st?.role ?? (store ? store.membership() : 'starting'),
    term: st?.term ?? 0,
    leader_id: st?.leaderStoreId ?? 0,
    commit_index: st?.commitIndex ?? 0,
    applied_index: st?.appliedIndex ?? 0,
    last_index: st?.lastIndex ?? 0,
    uptime_ms: Math.max(0, Math.round(d.now() - d.startedAt)),
    truncated_index: st?.truncatedIndex ?? 0,
    log_bytes: st?.logBytes ?? 0,
    raftdb_bytes: db.raftdb,
    kvdb_bytes: db.kvdb,
    fsync_p99_us: fsync.ms === undefined ? 0 : Math.round(fsync.ms * 1000),
    fsync_samples: fsync.samples,
    metrics_addr: d.metricsAddr?.() ?? '',
    snapshots_sending: snaps?.sending ?? 0,
    snapshots_receiving: snaps?.receiving ?? 0,
    last_snapshot_installed: snaps?.lastInstalledIndex ?? 0,
    heap_used_bytes: process.memoryUsage().heapUsed,
    rss_bytes: process.memoryUsage.rss(),
    conf_ver: st?.confVer ?? 0,
    members: (st?.members ?? []).map(memberToProto),
    has_peer: st !== undefined,
    stores: (d.knownStores?.() ?? []).map(([id, addr]) => ({ store_id: id, addr })),
  };
}

function memberToProto(m: MemberStatus): kvrpcpb.IMember {
  return { peer_id: m.peerId, store_id: m.storeId, learner: m.learner, match: m.match ?? 0 };
}

/** A failure status as grpc-js takes it. */
function callError(f: { readonly status: number; readonly details: string }): CallFailure {
  return { code: f.status, details: f.details };
}

/** Sends what the bridge made of an error: inside the answer, or as the call's status. */
function reply<R>(cb: Reply<R>, w: WireFailure): void {
  if ('answer' in w) cb(null, w.answer as R);
  else cb(callError(w));
}

const CHANGES: Record<number, 'addLearner' | 'addVoter' | 'removeNode'> = { 0: 'addLearner', 1: 'addVoter', 2: 'removeNode' };

export function adminHandlers(d: AdminDeps): AdminHandlers {
  return {
    identity(call, cb) {
      d.identity(Number(call.request.asking_store_id ?? 0) as StoreId).then(
        (a) => cb(null, { ready: a.ready, cluster_id: a.clusterId, store_id: d.storeId, heard_term: a.heardTerm, heard_peer: a.heardPeer, conf_ver: a.confVer }),
        (e: Error) => cb(callError(failureStatus(e, GrpcStatus.INTERNAL))),
      );
    },
    status(_call, cb) {
      void statusResponse(d).then((r) => cb(null, r), (e: Error) => cb(callError(failureStatus(e, GrpcStatus.INTERNAL))));
    },
    transferLeader(call, cb) {
      const store = d.store();
      const to = Number(call.request.to_store_id ?? 0) as StoreId;
      try {
        if (!store) throw new StoreStoppedError(d.storeId);
        store.transferLeader(to);
        cb(null, {});
      } catch (e) {
        reply(cb, errorToWire(e, GrpcStatus.INTERNAL));
      }
    },
    changePeer(call, cb) {
      const store = d.store();
      const change = CHANGES[Number(call.request.change ?? 0)];
      const target = Number(call.request.store_id ?? 0) as StoreId;
      if (!store) {
        reply(cb, errorToWire(new StoreStoppedError(d.storeId)));
        return;
      }
      if (!change || !(target > 0)) {
        cb(null, { error: `expected a change and a store id, got ${JSON.stringify(call.request)}` });
        return;
      }
      store.changePeer(change, target).then(
        (region) => cb(null, {
          conf_ver: region.epoch.confVer,
          members: region.peers.map((p) => memberToProto({ peerId: p.id, storeId: p.storeId, learner: Boolean(p.learner), match: undefined })),
        }),
        // A refusal (with its retryable flag) is a region error like any other.
        (e: Error) => reply(cb, errorToWire(e, GrpcStatus.INTERNAL)),
      );
    },
    fault(call, cb) {
      const r = call.request;
      const rate = Number(r.drop_rate ?? 0);
      if (!(rate >= 0 && rate <= 1)) {
        cb(null, { error: `drop_rate must be within [0, 1], got ${rate}` });
        return;
      }
      d.setFaults(applyFaultRequest(d.getFaults(), r, d.storeId, d.allStoreIds));
      cb(null, {});
    },
  };
}
