// AdminClient: a store's admin API (status, fault control, identity, leader transfer) for the
// orchestrator, `tinykv chaos`, and stores asking each other before they bootstrap.
//
// Fault semantics, per store that receives the request (filters apply to that store's
// sends and receives): `isolate` cuts this store off from every other store;
// `partition: [a, b]` lets stores talk only within their group (stores in neither group
// are alone); `dropRate` drops that fraction of its messages; `delayMs` delays each
// message by up to that much; `heal` clears every filter. Chaos commands send the same
// partition/drop/heal to every live store, and `isolate` to the one store.

import { InvalidRequestError } from '../api/errors.js';
import type { kvrpcpb } from '../gen/proto.js';
import { AdminService } from '../rpc/services.js';
import { errorFromAnswer, GrpcStatus, type ErrorAnswer } from '../api/wire-errors.js';
import { InvalidArgumentError } from './errors.js';
import { StatusError, TransportError, UnaryChannel, type UnaryMethod } from './grpc-unary.js';

/** One store's answer to Admin.Status. */
export interface StoreStatusInfo {
  readonly storeId: number;
  readonly pid: number;
  readonly regionId: number;
  readonly role: string;
  readonly term: number;
  /** Store id of the leader as this store knows it; 0 = unknown. */
  readonly leaderId: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly uptimeMs: number;
  /** Log entries at or below it are compacted away. */
  readonly truncatedIndex: number;
  readonly raftdbBytes: number;
  readonly kvdbBytes: number;
  /** p99 of the store's recent synced writes (ms), over `fsyncSamples` of them; undefined before the first. */
  readonly fsyncP99Ms: number | undefined;
  readonly fsyncSamples: number;
  /** host:port of the store's Prometheus endpoint ('' from a store too old to have one). */
  readonly metricsAddr: string;
  readonly logBytes: number;
  readonly snapshotsSending: number;
  readonly snapshotsReceiving: number;
  /** Raft index of the last snapshot installed since the store started; 0 = none. */
  readonly lastSnapshotInstalled: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** The region's conf_ver and members as this store has applied them (0 and [] without a peer). */
  readonly confVer: number;
  readonly members: readonly MemberInfo[];
  /** Whether the store runs a peer of the region (false: waiting to be added, or removed). */
  readonly hasPeer: boolean;
  /** The stores whose addresses it knows (from its cluster file). */
  readonly knownStores: ReadonlyArray<{ readonly storeId: number; readonly addr: string }>;
}

/** A member of the region; `match` is the leader's view (0 when reported by a follower). */
export interface MemberInfo {
  readonly peerId: number;
  readonly storeId: number;
  readonly learner: boolean;
  readonly match: number;
}

/** A membership change the admin service can make to a store's peer. */
export type MembershipChange = 'addLearner' | 'addVoter' | 'remove';

const CHANGE_CODES: Record<MembershipChange, number> = { addLearner: 0, addVoter: 1, remove: 2 };

const memberFromProto = (m: kvrpcpb.IMember): MemberInfo => ({
  peerId: Number(m.peer_id ?? 0), storeId: Number(m.store_id ?? 0), learner: Boolean(m.learner), match: Number(m.match ?? 0),
});

/** A store's answer to the identity question a store on an empty data directory asks. */
export interface IdentityInfo {
  readonly ready: boolean;
  readonly clusterId: string;
  readonly heardTerm: number;
  /** The newest peer of the asking store it heard from (0: none). */
  readonly heardPeer: number;
  /** The conf_ver of its region state (0: none). */
  readonly confVer: number;
}

/** Network faults to set on one store (see the semantics at the top of this file). */
export interface FaultSpec {
  readonly isolate?: boolean;
  readonly partition?: readonly [readonly number[], readonly number[]];
  readonly dropRate?: number;
  readonly delayMs?: number;
  readonly heal?: boolean;
}

/**
 * An Admin call that got no answer: `reason` says why in a few words a user can act on
 * ("connection refused", "no answer within 1000 ms"), never gRPC's internals; the message
 * prefixes the store's address.
 */
export class AdminUnreachableError extends Error {
  constructor(readonly addr: string, readonly reason: string) {
    super(`${addr}: ${reason}`);
  }
}

/** The short reason of an Admin call's failure (see AdminUnreachableError), else the message's first line. */
export function adminFailureReason(e: unknown): string {
  if (e instanceof AdminUnreachableError) return e.reason;
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

function unreachableReason(err: unknown, timeoutMs: number): string {
  if (err instanceof TransportError) {
    return err.failure === 'refused' ? 'connection refused'
      : err.failure === 'not-found' ? 'unknown host'
      : err.failure === 'lost' ? 'connection reset'
      : `does not answer as a tinykv store (${err.detail})`;
  }
  if (err instanceof StatusError) {
    if (err.status === GrpcStatus.DEADLINE_EXCEEDED) return `no answer within ${timeoutMs} ms`;
    return err.details.split('\n')[0] || `gRPC status ${err.status}`;
  }
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/** Throws what an Admin answer refuses with: its region error, or InvalidArgumentError. */
function throwRefusal(r: ErrorAnswer): void {
  const e = errorFromAnswer(r);
  // The caller's mistake, named as the client names it (code INVALID_ARGUMENT).
  if (e instanceof InvalidRequestError) throw new InvalidArgumentError(e.message);
  if (e) throw e;
}

/**
 * A client of one store's admin service (status, faults, identity, membership, leader
 * transfer).
 */
export class AdminClient {
  private readonly channel: UnaryChannel;

  constructor(readonly addr: string) {
    this.channel = new UnaryChannel(addr);
  }

  private async unary<Req, Res>(m: UnaryMethod<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
    try {
      return await this.channel.invoke(m, req, timeoutMs);
    } catch (err) {
      throw new AdminUnreachableError(this.addr, unreachableReason(err, timeoutMs));
    }
  }

  async status(opts: { timeoutMs?: number } = {}): Promise<StoreStatusInfo> {
    const r: kvrpcpb.IStatusResponse = await this.unary(AdminService.status, {}, opts.timeoutMs ?? 1000);
    return {
      storeId: Number(r.store_id ?? 0), pid: Number(r.pid ?? 0), regionId: Number(r.region_id ?? 0),
      role: r.role ?? '', term: Number(r.term ?? 0), leaderId: Number(r.leader_id ?? 0),
      commitIndex: Number(r.commit_index ?? 0), appliedIndex: Number(r.applied_index ?? 0),
      lastIndex: Number(r.last_index ?? 0), uptimeMs: Number(r.uptime_ms ?? 0),
      truncatedIndex: Number(r.truncated_index ?? 0), raftdbBytes: Number(r.raftdb_bytes ?? 0),
      kvdbBytes: Number(r.kvdb_bytes ?? 0), fsyncSamples: Number(r.fsync_samples ?? 0),
      fsyncP99Ms: Number(r.fsync_samples ?? 0) > 0 ? Number(r.fsync_p99_us ?? 0) / 1000 : undefined,
      metricsAddr: r.metrics_addr ?? '', logBytes: Number(r.log_bytes ?? 0),
      snapshotsSending: Number(r.snapshots_sending ?? 0), snapshotsReceiving: Number(r.snapshots_receiving ?? 0),
      lastSnapshotInstalled: Number(r.last_snapshot_installed ?? 0),
      heapUsedBytes: Number(r.heap_used_bytes ?? 0), rssBytes: Number(r.rss_bytes ?? 0),
      confVer: Number(r.conf_ver ?? 0), members: (r.members ?? []).map(memberFromProto), hasPeer: Boolean(r.has_peer),
      knownStores: (r.stores ?? []).map((x) => ({ storeId: Number(x.store_id ?? 0), addr: x.addr ?? '' })),
    };
  }

  /**
   * Asks this store (which must lead) to change the region's membership; resolves with the
   * region's conf_ver and members once applied on it. Rejects with the region error
   * (NotLeaderError with the leader hint; ChangePeerRefusedError, whose `retryable` says
   * whether asking again later may succeed) or an InvalidArgumentError for a bad request.
   */
  async changePeer(change: MembershipChange, storeId: number, opts: { timeoutMs?: number } = {}): Promise<{ confVer: number; members: MemberInfo[] }> {
    const r: kvrpcpb.IChangePeerResponse = await this.unary(AdminService.changePeer, { change: CHANGE_CODES[change], store_id: storeId }, opts.timeoutMs ?? 10_000);
    throwRefusal(r);
    return { confVer: Number(r.conf_ver ?? 0), members: (r.members ?? []).map(memberFromProto) };
  }

  async identity(askingStoreId: number, opts: { timeoutMs?: number } = {}): Promise<IdentityInfo> {
    const r: kvrpcpb.IIdentityResponse = await this.unary(AdminService.identity, { asking_store_id: askingStoreId }, opts.timeoutMs ?? 1000);
    return { ready: Boolean(r.ready), clusterId: r.cluster_id ?? '', heardTerm: Number(r.heard_term ?? 0), heardPeer: Number(r.heard_peer ?? 0), confVer: Number(r.conf_ver ?? 0) };
  }

  /**
   * Asks this store (which must lead) to hand leadership to `toStoreId`. Rejects with the
   * region error (NotLeaderError with the leader hint) or the refusal it answered with.
   */
  async transferLeader(toStoreId: number, opts: { timeoutMs?: number } = {}): Promise<void> {
    const r: kvrpcpb.ITransferLeaderResponse = await this.unary(AdminService.transferLeader, { to_store_id: toStoreId }, opts.timeoutMs ?? 1000);
    throwRefusal(r);
  }

  async fault(spec: FaultSpec, opts: { timeoutMs?: number } = {}): Promise<void> {
    const r: kvrpcpb.IFaultResponse = await this.unary(AdminService.fault, {
      isolate: spec.isolate ?? false,
      group_a: [...(spec.partition?.[0] ?? [])],
      group_b: [...(spec.partition?.[1] ?? [])],
      drop_rate: spec.dropRate ?? 0,
      set_drop_rate: spec.dropRate !== undefined,
      delay_ms: spec.delayMs ?? 0,
      heal: spec.heal ?? false,
    }, opts.timeoutMs ?? 1000);
    if (r.error) throw new Error(`${this.addr}: ${r.error}`);
  }

  close(): void {
    this.channel.close();
  }
}
