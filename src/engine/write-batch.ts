// WriteBatch: an ordered list of put/delete/deleteRange operations that a KvEngine applies
// atomically with `engine.write(batch, {sync})` (src/engine). The raftstore builds one batch
// per Ready (raft log entries + RaftLocalState) and one per apply round (data + apply state).
// The batch is plain data, engine-independent, and validates each operation when it is added.

import { asBuffer, checkKey } from './checks.js';

/** One operation of a batch. Later operations win over earlier ones on the same key. */
export type BatchOp =
  | { readonly type: 'put'; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: 'delete'; readonly key: Buffer }
  /** Deletes every key in [start, end), including keys put earlier in the same batch. */
  | { readonly type: 'deleteRange'; readonly start: Buffer; readonly end: Buffer };

/**
 * Collects operations for one atomic write. Keys and values may be given as Buffers or any
 * Uint8Array; the batch keeps references to (not copies of) their bytes: do not modify them
 * until the write that carries them has settled.
 */
export class WriteBatch {
  private readonly list: BatchOp[] = [];
  /** Sum of key and value lengths of all operations; a size estimate, not an exact cost. */
  private bytes = 0;

  /** Sets `key` to `value` (an empty value is allowed; an empty key is not). */
  put(key: Uint8Array, value: Uint8Array): this {
    const k = asBuffer(key, 'key');
    const v = asBuffer(value, 'value');
    checkKey(k);
    this.list.push({ type: 'put', key: k, value: v });
    this.bytes += key.length + value.length;
    return this;
  }

  /** Removes `key`; removing a missing key is not an error. */
  delete(key: Uint8Array): this {
    const k = asBuffer(key, 'key');
    checkKey(k);
    this.list.push({ type: 'delete', key: k });
    this.bytes += key.length;
    return this;
  }

  /** Removes every key k with start <= k < end. start == end is an empty range; start > end is a bug. */
  deleteRange(start: Uint8Array, end: Uint8Array): this {
    const s = asBuffer(start, 'deleteRange start');
    const e = asBuffer(end, 'deleteRange end');
    checkKey(s, 'deleteRange start');
    checkKey(e, 'deleteRange end');
    if (Buffer.compare(s, e) > 0) throw new RangeError('deleteRange start must not be above end');
    this.list.push({ type: 'deleteRange', start: s, end: e });
    this.bytes += start.length + end.length;
    return this;
  }

  /** The operations in the order they were added. */
  get ops(): readonly BatchOp[] {
    return this.list;
  }

  /** Number of operations. */
  get count(): number {
    return this.list.length;
  }

  /** Approximate payload size in bytes (keys plus values), for capping batch sizes. */
  get byteSize(): number {
    return this.bytes;
  }

  /** True when writing the batch would change nothing. */
  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** Drops every operation so the batch can be reused. */
  clear(): void {
    this.list.length = 0;
    this.bytes = 0;
  }
}
