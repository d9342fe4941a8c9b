// The time-ordered list of call and return entries the search (wgl.ts) walks, with
// dancing-links removal: unlinking an entry leaves its own pointers intact, so relinking in
// reverse order of unlinking restores the list exactly.

import type { KeyOp } from './register.js';

export interface Entry {
  /** Index into the sorted op array. */
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  prev: Entry | null;
  next: Entry | null;
  /** For a call: its return entry, or null for an unknown op. For a return: its call. */
  match: Entry | null;
}

/** Builds the entry list of the ops `listed` selects behind a sentinel head, by time. */
export function buildEntries(sorted: readonly KeyOp[], listed: (o: KeyOp) => boolean): Entry {
  const entries: Entry[] = [];
  sorted.forEach((o, i) => {
    if (!listed(o)) return;
    const call: Entry = { op: i, isCall: true, time: o.invokeAt, prev: null, next: null, match: null };
    entries.push(call);
    if (o.returnAt !== Infinity) {
      const ret: Entry = { op: i, isCall: false, time: o.returnAt, prev: null, next: null, match: call };
      call.match = ret;
      entries.push(ret);
    }
  });
  // Equal times count as concurrent: a call at t sorts before a return at t.
  entries.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: Entry = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

/** Removes a call entry and its return entry from the list (dancing-links style). */
export function unlink(call: Entry): void {
  remove(call);
  if (call.match !== null) remove(call.match);
}

/** Undoes `unlink`; only valid in reverse order of unlinking. */
export function relink(call: Entry): void {
  if (call.match !== null) restore(call.match);
  restore(call);
}

function remove(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next !== null) e.next.prev = e.prev;
}

function restore(e: Entry): void {
  e.prev!.next = e;
  if (e.next !== null) e.next.prev = e;
}
