// Snapshot payloads of the simulation. A node's state machine is the list of entries it
// applied; a snapshot of it at index i is that list up to i. Rather than serialise the
// list into every snapshot, the registry keeps each list once and the snapshot's data
// names it ("snap:17"), so a snapshot costs a few bytes however long the log grew. The
// checker reads the list back to verify that an installed snapshot is committed state.

import type { Entry, Snapshot } from '../../src/raft/index.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

export class SnapshotRegistry {
  private readonly contents: Entry[][] = [];

  /** Stores `applied` (entries from the first index up to the snapshot point) and names it. */
  register(applied: readonly Entry[]): Uint8Array {
    this.contents.push(applied.slice());
    return utf8.encode(`snap:${this.contents.length - 1}`);
  }

  /** The state-machine contents a snapshot carries; [] for the bootstrap snapshot. */
  contentOf(s: Snapshot): Entry[] {
    if (s.data.length === 0) return [];
    const name = text.decode(s.data);
    const m = /^snap:(\d+)$/.exec(name);
    const c = m ? this.contents[Number(m[1])] : undefined;
    if (!c) throw new Error(`simulator: unknown snapshot payload ${JSON.stringify(name)}`);
    return c;
  }
}
