// Commands a peer proposes and applies: the write operations carried in a log entry
// (raft_cmdpb.RaftCmdRequest on disk), the admin CompactLog command, and the read
// operations served by ReadIndex.

import { eraftpb, raft_cmdpb } from '../gen/proto.js';
import type { PeerMeta, RegionEpoch } from './envelope.js';
import type { PeerId, StoreId } from './ids.js';
import type { Index, Term } from '../raft/index.js';
import type { RegionId } from './ids.js';

export type WriteOp =
  | { readonly kind: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'delete'; readonly key: Uint8Array }
  /** Every key in [start, end) (end empty: to the last key). */
  | { readonly kind: 'deleteRange'; readonly start: Uint8Array; readonly end: Uint8Array };

/** What applying a write reports: for a range delete, how many keys it removed. */
export interface WriteResult {
  readonly deleted?: number;
  /** A retry of a write already applied: nothing changed now, and the first count is not kept. */
  readonly duplicate?: boolean;
}

/** The key a write op is checked against the region with (a range: its start). */
export function opKey(op: WriteOp): Uint8Array {
  return op.kind === 'deleteRange' ? op.start : op.key;
}

export type ReadOp =
  | { readonly kind: 'get'; readonly key: Uint8Array }
  | { readonly kind: 'scan'; readonly start: Uint8Array; readonly end: Uint8Array; readonly limit: number };

export type ReadResult =
  | { readonly kind: 'get'; readonly value: Uint8Array | undefined }
  | { readonly kind: 'scan'; readonly pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]> };

import type { ClientSession, RequestHeader } from '../api/request.js';
export type { ClientSession, RequestHeader } from '../api/request.js';

export interface WriteCommand {
  readonly header: RequestHeader;
  readonly session?: ClientSession;
  readonly ops: readonly WriteOp[];
}

/** `proposedAtMs`: the leader's wall clock, stamped when it proposes (a session's last use). */
export function encodeWriteCommand(cmd: WriteCommand, epoch: RegionEpoch, proposedAtMs: number): Uint8Array {
  return raft_cmdpb.RaftCmdRequest.encode({
    header: {
      region_id: cmd.header.regionId,
      region_epoch: { conf_ver: epoch.confVer, version: epoch.version },
      client_id: cmd.session?.clientId ?? 0,
      sequence: cmd.session?.sequence ?? 0,
      sent_at_ms: cmd.session?.sentAtMs ?? 0,
      proposed_at_ms: proposedAtMs,
    },
    requests: cmd.ops.map((op) =>
      op.kind === 'put'
        ? { cmd_type: raft_cmdpb.CmdType.Put, put: { cf: 'default', key: op.key, value: op.value } }
        : op.kind === 'delete'
          ? { cmd_type: raft_cmdpb.CmdType.Delete, delete: { cf: 'default', key: op.key } }
          : { cmd_type: raft_cmdpb.CmdType.DeleteRange, delete_range: { cf: 'default', start_key: op.start, end_key: op.end } }),
  }).finish();
}

export interface DecodedWrite {
  readonly regionId: RegionId;
  readonly epoch: RegionEpoch;
  readonly session?: ClientSession;
  readonly proposedAtMs: number;
  readonly ops: WriteOp[];
}

const EMPTY = new Uint8Array(0);

export function decodeWriteCommand(data: Uint8Array): DecodedWrite {
  return writeFromRequest(raft_cmdpb.RaftCmdRequest.decode(data));
}

function writeFromRequest(req: raft_cmdpb.RaftCmdRequest): DecodedWrite {
  const h = req.header;
  const ops: WriteOp[] = [];
  for (const r of req.requests ?? []) {
    if (r.cmd_type === raft_cmdpb.CmdType.Put && r.put) {
      ops.push({ kind: 'put', key: r.put.key ?? EMPTY, value: r.put.value ?? EMPTY });
    } else if (r.cmd_type === raft_cmdpb.CmdType.Delete && r.delete) {
      ops.push({ kind: 'delete', key: r.delete.key ?? EMPTY });
    } else if (r.cmd_type === raft_cmdpb.CmdType.DeleteRange && r.delete_range) {
      ops.push({ kind: 'deleteRange', start: r.delete_range.start_key ?? EMPTY, end: r.delete_range.end_key ?? EMPTY });
    } else {
      throw new TypeError(`unsupported command type ${String(r.cmd_type)} in a log entry`);
    }
  }
  const clientId = Number(h?.client_id ?? 0);
  return {
    regionId: Number(h?.region_id ?? 0),
    epoch: { confVer: Number(h?.region_epoch?.conf_ver ?? 0), version: Number(h?.region_epoch?.version ?? 0) },
    ...(clientId !== 0 ? { session: { clientId, sequence: Number(h?.sequence ?? 0), sentAtMs: Number(h?.sent_at_ms ?? 0) } } : {}),
    proposedAtMs: Number(h?.proposed_at_ms ?? 0),
    ops,
  };
}

/** Leader-proposed: drop log entries up to `index` (whose term is `term`) on every peer. */
export interface CompactLogCommand {
  readonly regionId: RegionId;
  readonly index: Index;
  readonly term: Term;
}

export function encodeCompactLogCommand(cmd: CompactLogCommand, epoch: RegionEpoch): Uint8Array {
  return raft_cmdpb.RaftCmdRequest.encode({
    header: { region_id: cmd.regionId, region_epoch: { conf_ver: epoch.confVer, version: epoch.version } },
    admin_request: {
      cmd_type: raft_cmdpb.AdminCmdType.CompactLog,
      compact_log: { compact_index: cmd.index, compact_term: cmd.term },
    },
  }).finish();
}

/** Leader-proposed: forget sessions idle since before `idleBeforeMs` (session-table.ts). */
export interface ExpireSessionsCommand {
  readonly idleBeforeMs: number;
  readonly rejectBeforeMs: number;
}

export function encodeExpireSessionsCommand(regionId: RegionId, cmd: ExpireSessionsCommand, epoch: RegionEpoch): Uint8Array {
  return raft_cmdpb.RaftCmdRequest.encode({
    header: { region_id: regionId, region_epoch: { conf_ver: epoch.confVer, version: epoch.version } },
    admin_request: {
      cmd_type: raft_cmdpb.AdminCmdType.ExpireSessions,
      expire_sessions: { idle_before_ms: cmd.idleBeforeMs, reject_before_ms: cmd.rejectBeforeMs },
    },
  }).finish();
}

/** A membership change of the region (a conf change entry's payload). */
export interface ChangePeerCommand {
  readonly regionId: RegionId;
  readonly change: 'addVoter' | 'addLearner' | 'removeNode';
  readonly peer: PeerMeta;
}

const CHANGE_TYPES = {
  addVoter: eraftpb.ConfChangeType.AddNode,
  addLearner: eraftpb.ConfChangeType.AddLearnerNode,
  removeNode: eraftpb.ConfChangeType.RemoveNode,
} as const;

/** Stamped with the epoch it was proposed under: it applies only if conf_ver is still that. */
export function encodeChangePeerCommand(cmd: ChangePeerCommand, epoch: RegionEpoch): Uint8Array {
  return raft_cmdpb.RaftCmdRequest.encode({
    header: { region_id: cmd.regionId, region_epoch: { conf_ver: epoch.confVer, version: epoch.version } },
    admin_request: {
      cmd_type: raft_cmdpb.AdminCmdType.ChangePeer,
      change_peer: { change_type: CHANGE_TYPES[cmd.change], peer: { id: cmd.peer.id, store_id: cmd.peer.storeId } },
    },
  }).finish();
}

export type DecodedCommand =
  | ({ readonly kind: 'write' } & DecodedWrite)
  | ({ readonly kind: 'changePeer'; readonly epoch: RegionEpoch } & ChangePeerCommand)
  | ({ readonly kind: 'compactLog' } & CompactLogCommand)
  | ({ readonly kind: 'expireSessions' } & ExpireSessionsCommand);

/** Decodes a log entry's command: a client write or an admin command. */
export function decodeCommand(data: Uint8Array): DecodedCommand {
  const req = raft_cmdpb.RaftCmdRequest.decode(data);
  const admin = req.admin_request;
  if (admin) {
    if (admin.cmd_type === raft_cmdpb.AdminCmdType.CompactLog && admin.compact_log) {
      return {
        kind: 'compactLog', regionId: Number(req.header?.region_id ?? 0),
        index: Number(admin.compact_log.compact_index ?? 0), term: Number(admin.compact_log.compact_term ?? 0),
      };
    }
    if (admin.cmd_type === raft_cmdpb.AdminCmdType.ChangePeer && admin.change_peer?.peer) {
      const t = admin.change_peer.change_type ?? eraftpb.ConfChangeType.AddNode;
      const change = t === eraftpb.ConfChangeType.AddNode ? 'addVoter' : t === eraftpb.ConfChangeType.AddLearnerNode ? 'addLearner'
        : t === eraftpb.ConfChangeType.RemoveNode ? 'removeNode' : undefined;
      if (!change) throw new TypeError(`unsupported conf change type ${String(t)} in a log entry`);
      const p = admin.change_peer.peer;
      return {
        kind: 'changePeer', regionId: Number(req.header?.region_id ?? 0), change,
        peer: { id: Number(p.id ?? 0) as PeerId, storeId: Number(p.store_id ?? 0) as StoreId },
        epoch: { confVer: Number(req.header?.region_epoch?.conf_ver ?? 0), version: Number(req.header?.region_epoch?.version ?? 0) },
      };
    }
    if (admin.cmd_type === raft_cmdpb.AdminCmdType.ExpireSessions && admin.expire_sessions) {
      return {
        kind: 'expireSessions',
        idleBeforeMs: Number(admin.expire_sessions.idle_before_ms ?? 0), rejectBeforeMs: Number(admin.expire_sessions.reject_before_ms ?? 0),
      };
    }
    throw new TypeError(`unsupported admin command type ${String(admin.cmd_type)} in a log entry`);
  }
  return { kind: 'write', ...writeFromRequest(req) };
}
