// ReadQueue: linearizable reads waiting on ReadIndex. Reads that arrive within one
// pass of the event loop share one batch and one ReadIndex request (one heartbeat
// round). A batch moves from "asked" to "indexed" when its ReadState arrives, and is
// served once the peer has applied up to that index.

import type { Index } from '../raft/index.js';
import type { ReadOp, ReadResult } from './command.js';

export interface PendingRead {
  readonly op: ReadOp;
  resolve(r: ReadResult): void;
  reject(e: Error): void;
}

interface Batch {
  readonly reads: PendingRead[];
  index?: Index;
}

export class ReadQueue {
  private collecting: PendingRead[] = [];
  private readonly asked = new Map<string, Batch>();
  private seq = 0;

  /**
   * `ignoreAppliedIndex` is the deliberate bug readBeforeApplied: a batch is served as soon
   * as its read index is known, whatever has been applied.
   */
  constructor(private readonly idPrefix: string, private readonly bugs: { readonly ignoreAppliedIndex?: boolean } = {}) {}

  get pendingCount(): number {
    let n = this.collecting.length;
    for (const b of this.asked.values()) n += b.reads.length;
    return n;
  }

  add(read: PendingRead): void {
    this.collecting.push(read);
  }

  /** Queues a read whose read index is already known (a lease read: see leader-lease.ts). */
  addIndexed(read: PendingRead, index: Index): void {
    this.asked.set(`${this.idPrefix}:lease:${++this.seq}`, { reads: [read], index });
  }

  /** Closes the collecting batch; returns the context to request a ReadIndex for. */
  flush(): Uint8Array | undefined {
    if (this.collecting.length === 0) return undefined;
    const key = `${this.idPrefix}:${++this.seq}`;
    this.asked.set(key, { reads: this.collecting });
    this.collecting = [];
    return new TextEncoder().encode(key);
  }

  /** Records a ReadState; unknown contexts (e.g. from before a restart) are ignored. */
  onReadState(context: Uint8Array, index: Index): void {
    const b = this.asked.get(new TextDecoder().decode(context));
    if (b && b.index === undefined) b.index = index;
  }

  /** Removes and returns the reads whose read index is now applied. */
  takeReady(applied: Index): PendingRead[] {
    const out: PendingRead[] = [];
    for (const [key, b] of this.asked) {
      if (b.index !== undefined && (b.index <= applied || this.bugs.ignoreAppliedIndex)) {
        out.push(...b.reads);
        this.asked.delete(key);
      }
    }
    return out;
  }

  failAll(err: Error): void {
    const all = [...this.collecting];
    for (const b of this.asked.values()) all.push(...b.reads);
    this.collecting = [];
    this.asked.clear();
    for (const r of all) r.reject(err);
  }
}
