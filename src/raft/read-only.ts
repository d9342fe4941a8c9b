// ReadOnly: the leader's queue of ReadIndex requests awaiting a heartbeat quorum
// (Raft thesis §6.4). Each request records the commit index at the time it arrived;
// once a quorum answers a heartbeat that carried its context, it — and every request
// queued before it — may be served at that index.

import type { Index, NodeId } from './types.js';

export interface ReadIndexRequest {
  readonly key: string;
  readonly context: Uint8Array;
  /** The node that asked (the leader itself, or a follower that forwarded it). */
  readonly from: NodeId;
  readonly index: Index;
  readonly acks: Set<NodeId>;
}

export function contextKey(ctx: Uint8Array): string {
  // Stryker disable next-line StringLiteral: keys are only compared with one another, so a common prefix changes none of them
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

export class ReadOnly {
  private queue: ReadIndexRequest[] = [];
  private readonly byKey = new Map<string, ReadIndexRequest>();

  get pendingCount(): number {
    return this.queue.length;
  }

  /** Queues a request; a duplicate context while one is pending is ignored. */
  add(context: Uint8Array, from: NodeId, index: Index, self: NodeId): boolean {
    const key = contextKey(context);
    if (this.byKey.has(key)) return false;
    const req: ReadIndexRequest = { key, context, from, index, acks: new Set([self]) };
    this.queue.push(req);
    this.byKey.set(key, req);
    return true;
  }

  /** Records that `from` answered the heartbeat carrying `context`; returns its ack set. */
  recvAck(from: NodeId, context: Uint8Array): Set<NodeId> | undefined {
    const req = this.byKey.get(contextKey(context));
    if (!req) return undefined;
    req.acks.add(from);
    return req.acks;
  }

  /** Removes and returns every request up to and including the one with `context`. */
  advance(context: Uint8Array): ReadIndexRequest[] {
    const key = contextKey(context);
    const at = this.queue.findIndex((r) => r.key === key);
    // Stryker disable next-line ConditionalExpression: without it, at = -1 gives slice(0, 0) = [] and leaves the queue as it was; a shortcut only (the `true` variant is killed)
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    for (const r of done) this.byKey.delete(r.key);
    return done;
  }

  /** The newest pending request's context, used to re-broadcast on heartbeat ticks. */
  lastPendingContext(): Uint8Array | undefined {
    return this.queue[this.queue.length - 1]?.context;
  }

  /** Drops everything: leadership changed, so these reads must be retried elsewhere. */
  reset(): void {
    this.queue = [];
    this.byKey.clear();
  }
}
