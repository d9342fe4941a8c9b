// Network partitions: the nodes split into groups, and a message crosses only within a
// group. The simulated network consults the current partition when it delivers, so a
// partition formed while messages are in flight cuts those too, as a real one would.

import type { NodeId, Rng } from '../../src/raft/index.js';

export class Partition {
  private readonly groupOf = new Map<NodeId, number>();

  /** `groups` must be disjoint; a node in no group is isolated from everyone. */
  constructor(readonly groups: readonly (readonly NodeId[])[]) {
    groups.forEach((g, i) => {
      for (const id of g) {
        if (this.groupOf.has(id)) throw new TypeError(`partition: n${id} is in two groups`);
        this.groupOf.set(id, i);
      }
    });
  }

  /** Whether a message from `from` to `to` is cut. */
  cuts(from: NodeId, to: NodeId): boolean {
    if (from === to) return false;
    const a = this.groupOf.get(from);
    return a === undefined || a !== this.groupOf.get(to);
  }

  /** `{1,2}|{3,4,5}` */
  toString(): string {
    return this.groups.map((g) => `{${g.join(',')}}`).join('|');
  }
}

/**
 * A random partition of `ids` into two groups (sometimes three, with five or more
 * nodes), every group non-empty. Groups are listed by their smallest member. With
 * `isolate`, that node lands in a minority group (alone, or with a few others).
 */
export function randomPartition(rng: Rng, ids: readonly NodeId[], isolate?: NodeId): Partition {
  if (isolate !== undefined) {
    const minority = [isolate];
    const room = Math.floor((ids.length - 1) / 2) - 1;
    for (const id of ids) if (id !== isolate && minority.length <= room && rng.next() < 0.5) minority.push(id);
    const rest = ids.filter((id) => !minority.includes(id));
    return new Partition([minority.sort((a, b) => a - b), rest].sort((a, b) => a[0]! - b[0]!));
  }
  const k = ids.length >= 5 && rng.next() < 0.25 ? 3 : 2;
  for (;;) {
    const groups: NodeId[][] = Array.from({ length: k }, () => []);
    for (const id of ids) groups[rng.intBetween(0, k)]!.push(id);
    if (groups.every((g) => g.length > 0)) {
      groups.sort((a, b) => a[0]! - b[0]!);
      return new Partition(groups);
    }
  }
}
