// Crash points: named instants of the Ready loop and the apply path at which a crash test
// can kill a store abruptly (tests only; the store process never sets a hook). The hook
// runs synchronously at the point; if it kills the store (Store.kill, which the harness
// pairs with a power cut of both engines), the peer does nothing more: no later write,
// send, callback or advance. What "survived" is then exactly what the engines had synced,
// plus whatever part of the unsynced writes the power cut keeps.

/** Every crash point, in the order a Ready passes them. */
export const CRASH_POINTS = [
  /** A Ready's entries and hard state are synced to raftdb; none of its messages is sent. */
  'persisted',
  /** Its messages are sent; none of its committed entries is applied. */
  'sent',
  /** The kvdb apply batch (data, sessions, apply state) is written; no callback answered. */
  'applied',
  /** A CompactLog is applied and synced in kvdb; the raft log entries it covers are not yet deleted. */
  'compacting',
  /** Snapshot install, after the Applying intent (the commit point); no data written yet. */
  'snapshot-intent',
  /** Snapshot install, after the data; raftdb still describes the old log. */
  'snapshot-data',
  /** Snapshot install, after raftdb's reset; the region is still marked Applying. */
  'snapshot-raft',
  /** Snapshot install, after the region is Normal again; the staged file is not yet removed. */
  'snapshot-normal',
] as const;

/** A named point of the Ready loop where a test may kill the store. */
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Called at every crash point a peer passes; may kill the store (synchronously). */
export type CrashHook = (point: CrashPoint) => void;

/** Thrown inside the install path to unwind it once the hook killed the store. */
export class SimulatedCrashError extends Error {
  constructor(point: CrashPoint) {
    super(`simulated crash at ${point}`);
    this.name = 'SimulatedCrashError';
  }
}
