// MemoryTransport: an in-process network between stores for tests, with the same fault
// filters a live cluster gets from `tinykv chaos` (partition, isolate, random loss,
// delay and reordering). Delivery is always asynchronous (a later macrotask), as over
// a real socket, so no handler runs inside the sender's call stack.

import type { StoreId } from './ids.js';
import type { RaftEnvelope } from './envelope.js';
import type { FaultState, InboundHandler, Transport } from './transport.js';
import { linkCut, NO_FAULTS } from './transport.js';

export interface MemoryNetworkOptions {
  /** Random source for loss and delay; seeded in tests so a failure can be replayed. */
  readonly random?: () => number;
  /** How a message is encoded and decoded on the way, to exercise the wire codec. */
  readonly codec?: { encode(m: RaftEnvelope): Uint8Array; decode(b: Uint8Array): RaftEnvelope };
}

export class MemoryNetwork {
  private readonly handlers = new Map<StoreId, InboundHandler>();
  private faults: FaultState = NO_FAULTS;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private readonly random: () => number;
  sent = 0;
  dropped = 0;

  constructor(private readonly opts: MemoryNetworkOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  /** The transport a store uses to send; `from` is the sending store. */
  transportFor(from: StoreId): Transport {
    return { send: (msg) => this.route(from, msg) };
  }

  /** Registers (or, with undefined, removes) the inbound handler of a store. */
  attach(store: StoreId, handler: InboundHandler | undefined): void {
    if (handler) this.handlers.set(store, handler);
    else this.handlers.delete(store);
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
    if (linkCut(f, from, to) || (f.dropRate > 0 && this.random() < f.dropRate)) {
      this.dropped++;
      return;
    }
    const payload = this.opts.codec ? this.opts.codec.encode(msg) : undefined;
    const delay = f.delayMs > 0 ? Math.floor(this.random() * f.delayMs) : 0;
    const deliver = (): void => {
      // The partition may have formed while the message was in flight.
      if (linkCut(this.faults, from, to)) {
        this.dropped++;
        return;
      }
      const h = this.handlers.get(to);
      if (!h) return;
      h(payload && this.opts.codec ? this.opts.codec.decode(payload) : msg);
    };
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
