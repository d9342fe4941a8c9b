// The client session table (Raft thesis §6.3): per client id, the highest write sequence
// applied and when the session was last used, so a retried write is acknowledged without
// applying twice. It lives in kvdb, in the region's state machine (written in the apply
// batch, carried by snapshots), and is mirrored in memory.
//
// Bounded by expiry decided in the log, so every replica drops the same rows: the leader
// stamps each write with its wall clock (proposed_at_ms, the row's last use) and from time
// to time proposes ExpireSessions {idle_before, reject_before = idle_before + max clock
// skew}. Applying it drops the rows last used before idle_before and raises the table's
// reject-before mark. A write whose client has no row is applied (a new session) unless
// it was first sent before that mark: then it may retry a write applied under a dropped
// row, and is refused with SessionExpired instead of being applied twice. Why that is
// enough: a dropped row was last used at some t < idle_before, an attempt applied then
// was first sent at most (client's clock lead over the leader's) after t, and that lead
// is assumed below the skew allowance.
//
// In kvdb: one key per client (value: sequence, last use), and the reject-before mark
// under the reserved client id 0 (never a real session).

import type { KvEngine } from '../engine/index.js';
import { keys } from '../engine/index.js';

export interface SessionRow {
  readonly sequence: number;
  /** The leader's stamp on the last write applied in this session (ms). */
  readonly lastUsedMs: number;
}

/** The reserved client id whose key holds the reject-before mark. */
export const SESSION_MARK_ID = 0;

export function encodeSessionRow(r: SessionRow): Buffer {
  return Buffer.concat([keys.u64be(r.sequence), keys.u64be(r.lastUsedMs)]);
}

/** 8 bytes (a row written before sessions expired: never used since) or 16. */
export function decodeSessionRow(v: Buffer): SessionRow {
  if (v.length !== 8 && v.length !== 16) throw new TypeError(`client session row of ${v.length} bytes`);
  return { sequence: keys.readU64be(v.subarray(0, 8)), lastUsedMs: v.length === 16 ? keys.readU64be(v.subarray(8, 16)) : 0 };
}

export class SessionTable {
  readonly rows = new Map<number, SessionRow>();
  /** Writes of clients without a row, first sent before this (ms), are refused. */
  rejectBeforeMs = 0;

  static async load(kv: KvEngine, regionId: number): Promise<SessionTable> {
    const t = new SessionTable();
    const [start, end] = keys.clientSessionRange(regionId);
    for (const [k, v] of await kv.scan({ start, end })) {
      const id = keys.decodeClientSessionKey(k).clientId;
      if (id === SESSION_MARK_ID) t.rejectBeforeMs = keys.readU64be(v);
      else t.rows.set(id, decodeSessionRow(v));
    }
    return t;
  }

  replaceWith(other: SessionTable): void {
    this.rows.clear();
    for (const [id, r] of other.rows) this.rows.set(id, r);
    this.rejectBeforeMs = other.rejectBeforeMs;
  }

  /** The oldest last use of any row (Infinity if none): whether an expiry would drop anything. */
  oldestUseMs(): number {
    let min = Infinity;
    // Stryker disable next-line EqualityOperator: with <= a row used at the same time as the minimum sets the same minimum again
    for (const r of this.rows.values()) if (r.lastUsedMs < min) min = r.lastUsedMs;
    return min;
  }
}

/** What one apply batch changes in the table; folded in once the batch is written. */
export class SessionChanges {
  private readonly set = new Map<number, SessionRow>();
  private readonly dropped = new Set<number>();
  private mark: number | undefined;

  constructor(private readonly table: SessionTable) {}

  get(clientId: number): SessionRow | undefined {
    if (this.set.has(clientId)) return this.set.get(clientId);
    return this.dropped.has(clientId) ? undefined : this.table.rows.get(clientId);
  }

  get rejectBeforeMs(): number {
    return this.mark ?? this.table.rejectBeforeMs;
  }

  put(clientId: number, row: SessionRow): void {
    this.set.set(clientId, row);
    this.dropped.delete(clientId);
  }

  /** Drops every row last used before `idleBeforeMs`; returns the ids dropped. */
  expire(idleBeforeMs: number, rejectBeforeMs: number): number[] {
    const out: number[] = [];
    const consider = (id: number, r: SessionRow | undefined) => {
      if (r && r.lastUsedMs < idleBeforeMs) out.push(id);
    };
    for (const [id, r] of this.table.rows) if (!this.set.has(id) && !this.dropped.has(id)) consider(id, r);
    for (const [id, r] of this.set) consider(id, r);
    for (const id of out) {
      this.set.delete(id);
      this.dropped.add(id);
    }
    this.mark = Math.max(this.rejectBeforeMs, rejectBeforeMs);
    return out;
  }

  get changed(): boolean {
    // Stryker disable next-line ConditionalExpression: rows are dropped only by expire(), which always sets the mark, so the mark test covers it
    return this.set.size > 0 || this.dropped.size > 0 || this.mark !== undefined;
  }

  /** The kvdb writes for these changes. */
  writeTo(batch: { put(k: Buffer, v: Buffer): void; delete(k: Buffer): void }, regionId: number): void {
    for (const [id, r] of this.set) batch.put(keys.clientSessionKey(regionId, id), encodeSessionRow(r));
    for (const id of this.dropped) batch.delete(keys.clientSessionKey(regionId, id));
    if (this.mark !== undefined) batch.put(keys.clientSessionKey(regionId, SESSION_MARK_ID), keys.u64be(this.mark));
  }

  /** Folds the changes into the table (after the batch is written). */
  commit(): void {
    for (const id of this.dropped) this.table.rows.delete(id);
    for (const [id, r] of this.set) this.table.rows.set(id, r);
    if (this.mark !== undefined) this.table.rejectBeforeMs = this.mark;
  }
}
