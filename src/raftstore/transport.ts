// The store-to-store transport contract and its fault filters. Two implementations
// share it: the gRPC stream between processes (src/node) and MemoryTransport for tests.
// Delivery is best effort: a message may be dropped, delayed or reordered, which Raft
// tolerates; the sender never waits for the receiver.

import type { StoreId } from './ids.js';
import type { RaftEnvelope } from './envelope.js';

/**
 * How a store sends raft messages and snapshots to other stores and hears from them; the
 * store never sees the wire.
 */
export interface Transport {
  /** Queues a message for its destination store; never throws for an unreachable peer. */
  send(msg: RaftEnvelope): void;
  /**
   * Ships a MsgSnapshot together with the snapshot file `fileName` of the sending store:
   * the receiving store stages and verifies the file, then handles the message. Resolves
   * once it has; rejects if the transfer failed (cut off, refused, damaged). Memory stays
   * bounded whatever the file's size: it travels in chunks, flow-controlled.
   */
  sendSnapshot(msg: RaftEnvelope, fileName: string): Promise<void>;
}

/** Where incoming messages for one store are delivered. */
export type InboundHandler = (msg: RaftEnvelope) => void;

/**
 * Faults applied at the sender: a message from store `from` to store `to` is dropped if
 * they are on different sides of a partition, if either is isolated, or with
 * probability `dropRate`; otherwise it may be held back for up to `delayMs` (so messages
 * overtake each other) and, with probability `dupRate`, delivered twice.
 */
export interface FaultState {
  /** Stores that may only talk among themselves; empty means no partition. */
  readonly partition: ReadonlyArray<ReadonlySet<StoreId>>;
  readonly isolated: ReadonlySet<StoreId>;
  readonly dropRate: number;
  readonly delayMs: number;
  /** Probability that a message is delivered a second time (each copy with its own delay). */
  readonly dupRate?: number;
}

/** A FaultState with no fault: every link up, nothing dropped or delayed. */
export const NO_FAULTS: FaultState = { partition: [], isolated: new Set(), dropRate: 0, delayMs: 0 };

/** Whether the faults cut the link from one store to another (ignoring random loss). */
export function linkCut(f: FaultState, from: StoreId, to: StoreId): boolean {
  if (f.isolated.has(from) || f.isolated.has(to)) return true;
  if (f.partition.length === 0) return false;
  const side = (s: StoreId) => f.partition.findIndex((g) => g.has(s));
  const a = side(from);
  const b = side(to);
  // A store not named in any group is alone on its own side.
  return a === -1 || b === -1 || a !== b;
}
