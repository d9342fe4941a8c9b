// MemoryTransport: an in-process network between stores for tests, with the same fault
// filters a live cluster gets from `tinykv chaos` (partition, isolate, random loss,
// delay and reordering). Delivery is always asynchronous (a later macrotask), as over
// a real socket, so no handler runs inside the sender's call stack.
// Snapshots travel as they do over gRPC: the file is copied chunk by chunk from the
// sender's snapshot files into the receiver's staging area, yielding between chunks, and
// a partition that forms (or a store that stops) mid-way fails the transfer.

import type { StoreId } from './ids.js';
import type { RaftEnvelope } from './envelope.js';
import type { SnapshotReceiver } from './snapshot-manager.js';
import type { SnapshotFiles } from './snapshot-files.js';
import type { FaultState, InboundHandler, Transport } from './transport.js';
import { linkCut, NO_FAULTS } from './transport.js';

/** Options of a MemoryNetwork. */
export interface MemoryNetworkOptions {
  /** Random source for loss and delay; seeded in tests so a failure can be replayed. */
  readonly random?: () => number;
  /** How a message is encoded and decoded on the way, to exercise the wire codec. */
  readonly codec?: { encode(m: RaftEnvelope): Uint8Array; decode(b: Uint8Array): RaftEnvelope };
  /** Bytes per snapshot chunk (default 1 MiB, as over gRPC); tests make it small to cut transfers mid-way. */
  readonly snapshotChunkBytes?: number;
}

/** What a store offers the network for snapshots: its files to send from, and staging for those it receives. */
export interface SnapshotEndpoint {
  readonly files: SnapshotFiles;
  receive(env: RaftEnvelope): Promise<SnapshotReceiver>;
}

/**
 * Tests: an in-process network between stores (one Transport per store) with the fault
 * filters of a live cluster; delivery is always asynchronous.
 */
export class MemoryNetwork {
  private readonly handlers = new Map<StoreId, InboundHandler>();
  private readonly endpoints = new Map<StoreId, SnapshotEndpoint>();
  private faults: FaultState = NO_FAULTS;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private readonly random: () => number;
  sent = 0;
  dropped = 0;
  duplicated = 0;
  snapshotsSent = 0;
  snapshotsFailed = 0;
  /** Snapshot bytes copied, for tests that check a transfer really was cut mid-way. */
  snapshotBytes = 0;
  /** Tests only: a message it returns true for is dropped, on sending and on delivery (one-way cuts). */
  dropIf: ((from: StoreId, to: StoreId, msg: RaftEnvelope) => boolean) | undefined;
  /** Tests only: called after each snapshot chunk is copied (e.g. to cut the link mid-transfer). */
  onSnapshotChunk: ((from: StoreId, to: StoreId, copied: number) => void) | undefined;

  constructor(private readonly opts: MemoryNetworkOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  /** The transport a store uses to send; `from` is the sending store. */
  transportFor(from: StoreId): Transport {
    return { send: (msg) => this.route(from, msg), sendSnapshot: (msg, file) => this.shipSnapshot(from, msg, file) };
  }

  /** Registers (or, with undefined, removes) the inbound handler of a store, and its snapshot endpoint. */
  attach(store: StoreId, handler: InboundHandler | undefined, snapshots?: SnapshotEndpoint): void {
    if (handler) this.handlers.set(store, handler);
    else this.handlers.delete(store);
    if (handler && snapshots) this.endpoints.set(store, snapshots);
    else this.endpoints.delete(store);
  }

  private async shipSnapshot(from: StoreId, msg: RaftEnvelope, fileName: string): Promise<void> {
    try {
      await this.copySnapshot(from, msg, fileName);
      this.snapshotsSent++;
    } catch (e) {
      this.snapshotsFailed++;
      throw e;
    }
  }

  private async copySnapshot(from: StoreId, msg: RaftEnvelope, fileName: string): Promise<void> {
    const to = msg.toPeer.storeId;
    const unreachable = (): Error | undefined => {
      if (linkCut(this.faults, from, to)) return new Error(`snapshot to store ${to}: link cut`);
      if (!this.handlers.has(to) || !this.endpoints.has(to)) return new Error(`snapshot to store ${to}: store is down`);
      if (!this.endpoints.has(from)) return new Error(`snapshot from store ${from}: sender stopped`);
      return undefined;
    };
    await new Promise((r) => setImmediate(r));
    const before = unreachable();
    if (before) throw before;
    if (this.faults.dropRate > 0 && this.random() < this.faults.dropRate) throw new Error(`snapshot to store ${to}: lost`);
    const env = this.opts.codec ? this.opts.codec.decode(this.opts.codec.encode(msg)) : msg;
    const reader = await this.endpoints.get(from)!.files.open(fileName);
    try {
      const receiver = await this.endpoints.get(to)!.receive(env);
      try {
        const chunkBytes = this.opts.snapshotChunkBytes ?? 1024 * 1024;
        let copied = 0;
        for (let chunk = await reader.read(chunkBytes); chunk; chunk = await reader.read(chunkBytes)) {
          // Yield as a socket would, so a partition or a stop can land mid-transfer.
          await new Promise((r) => setImmediate(r));
          const cut = unreachable();
          if (cut) throw cut;
          await receiver.write(chunk);
          this.snapshotBytes += chunk.length;
          copied += chunk.length;
          this.onSnapshotChunk?.(from, to, copied);
        }
        const delivered = await receiver.finish();
        const cut = unreachable();
        if (cut) throw cut;
        this.handlers.get(to)!(delivered);
      } catch (e) {
        await receiver.abort();
        throw e;
      }
    } finally {
      await reader.close();
    }
  }

  setFaults(f: Partial<FaultState>): void {
    this.faults = { ...this.faults, ...f };
  }

  partition(...groups: StoreId[][]): void {
    this.setFaults({ partition: groups.map((g) => new Set(g)) });
  }

  isolate(store: StoreId): void {
    this.setFaults({ isolated: new Set([...this.faults.isolated, store]) });
  }

  heal(): void {
    this.faults = NO_FAULTS;
  }

  private route(from: StoreId, msg: RaftEnvelope): void {
    this.sent++;
    const to = msg.toPeer.storeId;
    const f = this.faults;
    if (linkCut(f, from, to) || (f.dropRate > 0 && this.random() < f.dropRate) || this.dropIf?.(from, to, msg)) {
      this.dropped++;
      return;
    }
    const payload = this.opts.codec ? this.opts.codec.encode(msg) : undefined;
    const deliver = (): void => {
      // The partition may have formed while the message was in flight.
      if (linkCut(this.faults, from, to) || this.dropIf?.(from, to, msg)) {
        this.dropped++;
        return;
      }
      const h = this.handlers.get(to);
      if (!h) return;
      h(payload && this.opts.codec ? this.opts.codec.decode(payload) : msg);
    };
    this.later(deliver, f.delayMs);
    if ((f.dupRate ?? 0) > 0 && this.random() < f.dupRate!) {
      this.duplicated++;
      this.later(deliver, f.delayMs);
    }
  }

  /** Runs `deliver` after a random delay below `delayMs`, or in the next macrotask. */
  private later(deliver: () => void, delayMs: number): void {
    const delay = delayMs > 0 ? Math.floor(this.random() * delayMs) : 0;
    if (delay === 0) {
      // setImmediate, not setTimeout(0): a timer costs at least 1 ms, which dominated the
      // latency of one request at a time in the benchmark.
      const im = setImmediate(() => {
        this.immediates.delete(im);
        deliver();
      });
      this.immediates.add(im);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      deliver();
    }, delay);
    this.timers.add(t);
  }

  /** Cancels every message still in flight. */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const im of this.immediates) clearImmediate(im);
    this.immediates.clear();
  }
}
