// A leader's linearizable reads: each waits for a ReadIndex round (read-queue.ts) or, with
// raft.read_mode: lease, is indexed at once while a confirmed round's lease holds
// (leader-lease.ts); either way it is answered from kvdb once the peer has applied up to
// its read index. Only the peer's leader checks come before; this module decides when a
// round starts, when a lease is renewed or given up, and serves what is ready.

import { keys } from '../engine/index.js';
import type { ReadOp, ReadResult } from './command.js';
import { LeaderLease } from './leader-lease.js';
import type { PeerCore } from './peer-core.js';
import type { PendingRead } from './read-queue.js';
import { ReadQueue } from './read-queue.js';
import type { ReadState } from '../raft/index.js';

export class PeerReads {
  private readonly queue: ReadQueue;
  /** Lease reads (undefined: off). */
  private readonly lease: LeaderLease | undefined;
  /** A read was answered by the lease since the last look: renew it if it is past half. */
  private leaseUsed = false;
  private renewals = 0;

  constructor(private readonly peer: PeerCore) {
    const o = peer.o;
    this.queue = new ReadQueue(`${o.peer.id}-${o.seed}`, { ignoreAppliedIndex: o.bugs.readBeforeApplied === true });
    this.lease = o.lease ? new LeaderLease(o.lease.durationMs, o.lease.now, o.wallClock) : undefined;
  }

  /** Whether lease reads are on (they may be servable without a Ready). */
  get leaseReads(): boolean {
    return this.lease !== undefined;
  }

  get pendingCount(): number {
    return this.queue.pendingCount;
  }

  /** Queues a read on this leader (the caller checked it leads in `term`, committed `commit`). */
  add(op: ReadOp, term: number, commit: number): Promise<ReadResult> {
    const byLease = this.leaseHolds(term);
    const p = new Promise<ReadResult>((resolve, reject) => {
      // Under the lease no other leader can have committed anything: our commit index
      // covers every write acknowledged before this read arrived.
      if (byLease) this.queue.addIndexed({ op, resolve, reject }, commit);
      else this.queue.add({ op, resolve, reject });
    });
    if (byLease) this.leaseUsed = true;
    return p;
  }

  /** Whether this leader may answer a read from its own state now (lease reads only). */
  private leaseHolds(term: number): boolean {
    if (!this.lease || !this.lease.holds(term) || this.peer.pendingRemoval) return false;
    // A transfer under way, by request or Raft's own hand-over: the transferee's election
    // ignores leases.
    return this.peer.o.bugs.leaseSurvivesTransfer === true || this.peer.node.leadTransferee() === 0;
  }

  /**
   * Before each Ready: the reads queued since the last one share one ReadIndex round; with
   * none queued, a lease that answered reads is renewed if it is past half.
   */
  startRound(): void {
    const { node, o } = this.peer;
    const ctx = this.queue.flush();
    if (ctx) {
      o.observer.proposed('read_index');
      this.lease?.roundStarted(textOf(ctx), node.status().term);
      node.readIndex(ctx);
    } else if (this.leaseUsed) {
      this.leaseUsed = false;
      this.maybeRenewLease();
    }
  }

  /** Past half its length, a lease in use is renewed by a ReadIndex round of its own. */
  private maybeRenewLease(): void {
    const { node, o, meta } = this.peer;
    const st = node.status();
    if (!this.lease || st.role !== 'leader' || !this.lease.wantsRenewal(st.term) || this.lease.roundPending()) return;
    const key = `${meta.id}-${o.seed}:renew:${++this.renewals}`;
    o.observer.proposed('read_index');
    this.lease.roundStarted(key, st.term);
    node.readIndex(new TextEncoder().encode(key));
  }

  /** A Ready's confirmed rounds: the lease is renewed and their reads get their index. */
  confirmed(states: readonly ReadState[]): void {
    for (const rs of states) {
      this.lease?.roundConfirmed(textOf(rs.context));
      this.queue.onReadState(rs.context, rs.index);
    }
  }

  /** Asking a voter to take over ends this leader's lease for `term`, before the ask leaves. */
  handOver(term: number): void {
    if (!this.peer.o.bugs.leaseSurvivesTransfer) this.lease?.handOver(term);
  }

  /** The quorum that confirmed the lease may be gone (a new term or configuration). */
  revokeLease(): void {
    this.lease?.revoke();
  }

  /** Answers every read whose index the peer has applied. */
  async serve(): Promise<void> {
    const ready = this.queue.takeReady(this.peer.o.storage.applyState.appliedIndex);
    if (ready.length === 0) return;
    await Promise.all(ready.map((r) => this.serveOne(r)));
  }

  private async serveOne(r: PendingRead): Promise<void> {
    const kv = this.peer.o.kv;
    try {
      const op = r.op;
      if (op.kind === 'get') {
        r.resolve({ kind: 'get', value: await kv.get(keys.dataKey('default', op.key)) });
      } else {
        const pairs = await kv.scan({
          start: keys.dataKey('default', op.start),
          end: op.end.length > 0 ? keys.dataKey('default', op.end) : keys.dataKeyEnd('default'),
          limit: op.limit,
        });
        r.resolve({ kind: 'scan', pairs: pairs.map(([k, v]) => [keys.decodeDataKey(k).key, v] as const) });
      }
    } catch (e) {
      r.reject(e as Error);
    }
  }

  failAll(reason: Error): void {
    this.queue.failAll(reason);
  }
}

const textDecoder = new TextDecoder();
/** A ReadIndex context as the string it was made from (ReadQueue and lease renewals). */
function textOf(ctx: Uint8Array): string {
  return textDecoder.decode(ctx);
}
