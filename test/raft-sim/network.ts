// The simulated network: every message a node sends waits here until the schedule
// delivers, drops or duplicates it. Faults come from a seeded RNG:
//   - delay: a message becomes deliverable a random number of steps after it was sent;
//   - reordering: delivery takes random deliverable messages (or all of them, shuffled);
//   - drop and duplication, both at send time (by rate) and on demand (by the schedule);
//   - partitions, applied at delivery time.
// In reliable mode (the liveness phase) there is none of that: messages go out in order.

import type { Message, NodeId, Rng } from '../../src/raft/index.js';
import type { Partition } from './partition.js';
import type { DropReason, Trace } from './trace.js';

export interface LinkFaults {
  /** Probability that a sent message is lost. */
  readonly dropRate: number;
  /** Probability that a sent message is queued twice (with independent delays). */
  readonly dupRate: number;
  /** A message is deliverable 0..maxDelay steps after it was sent. */
  readonly maxDelay: number;
}

export const RELIABLE: LinkFaults = { dropRate: 0, dupRate: 0, maxDelay: 0 };

interface InFlight {
  readonly msg: Message;
  /** The first step at which the message may be delivered. */
  readonly due: number;
}

export interface NetworkOptions {
  readonly rng: Rng;
  readonly trace: Trace;
  /** Messages beyond this many in flight push out the oldest (a bounded buffer). */
  readonly capacity?: number;
}

export class SimNetwork {
  faults: LinkFaults = RELIABLE;
  partition: Partition | undefined;
  /** Logical time in schedule steps; set by the simulation. */
  now = 0;
  /** Told of every message the network loses itself (as a transport reports a failed send). */
  onLost: (m: Message) => void = () => undefined;
  private queue: InFlight[] = [];
  private readonly rng: Rng;
  private readonly trace: Trace;
  /** Beyond this many messages in flight the oldest is lost; Infinity once reliable. */
  private capacity: number;

  constructor(opts: NetworkOptions) {
    this.rng = opts.rng;
    this.trace = opts.trace;
    this.capacity = opts.capacity ?? 400;
  }

  get size(): number {
    return this.queue.length;
  }

  /** From now on: no loss, no duplication, no delay, no partition, no overflow. */
  makeReliable(): void {
    this.faults = RELIABLE;
    this.partition = undefined;
    this.capacity = Infinity;
  }

  send(m: Message): void {
    const f = this.faults;
    if (f.dropRate > 0 && this.rng.next() < f.dropRate) {
      this.trace.record({ k: 'drop', m, why: 'random' });
      this.onLost(m);
      return;
    }
    this.enqueue(m);
    if (f.dupRate > 0 && this.rng.next() < f.dupRate) {
      this.trace.record({ k: 'dup', m });
      this.enqueue(m);
    }
  }

  private enqueue(m: Message): void {
    const delay = this.faults.maxDelay > 0 ? this.rng.intBetween(0, this.faults.maxDelay + 1) : 0;
    this.queue.push({ msg: m, due: this.now + delay });
    if (this.queue.length > this.capacity) {
      const lost = this.queue.shift()!.msg;
      this.trace.record({ k: 'drop', m: lost, why: 'overflow' });
      this.onLost(lost);
    }
  }

  /** Removes and returns up to `n` random messages that are due (reordering them). */
  takeRandomDue(n: number): Message[] {
    const out: Message[] = [];
    for (let k = 0; k < n; k++) {
      const due: number[] = [];
      for (let i = 0; i < this.queue.length; i++) if (this.queue[i]!.due <= this.now) due.push(i);
      if (due.length === 0) break;
      out.push(this.queue.splice(due[this.rng.intBetween(0, due.length)]!, 1)[0]!.msg);
    }
    return out;
  }

  /** Removes and returns every message that is due, shuffled. */
  takeAllDue(): Message[] {
    const due: Message[] = [];
    const later: InFlight[] = [];
    for (const f of this.queue) {
      if (f.due <= this.now) due.push(f.msg);
      else later.push(f);
    }
    this.queue = later;
    for (let i = due.length - 1; i > 0; i--) {
      const j = this.rng.intBetween(0, i + 1);
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    return due;
  }

  /** Removes and returns every queued message, oldest first, ignoring delays. */
  takeAll(): Message[] {
    const all = this.queue.map((f) => f.msg);
    this.queue = [];
    return all;
  }

  /** Loses a random in-flight message. */
  dropRandom(): void {
    if (this.queue.length === 0) return;
    const [f] = this.queue.splice(this.rng.intBetween(0, this.queue.length), 1);
    this.trace.record({ k: 'drop', m: f!.msg, why: 'random' });
    this.onLost(f!.msg);
  }

  /** Queues a second copy of a random in-flight message, with its own delay. */
  duplicateRandom(): void {
    if (this.queue.length === 0) return;
    const f = this.queue[this.rng.intBetween(0, this.queue.length)]!;
    this.trace.record({ k: 'dup', m: f.msg });
    this.enqueue(f.msg);
  }

  /** Why a message cannot reach its destination now, or undefined if it can. */
  blocked(m: Message, isUp: (id: NodeId) => boolean): DropReason | undefined {
    if (this.partition?.cuts(m.from, m.to)) return 'partition';
    if (!isUp(m.to)) return 'down';
    return undefined;
  }
}
