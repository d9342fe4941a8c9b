// MemoryEngine: the in-memory KvEngine (src/engine), for tests of the raftstore and above.
// It follows the same contract as the RocksDB engine and passes the same compliance suite.
//
// The data is one array of [key, value] pairs sorted by key, searched by binary search.
// Snapshots are copy-on-write: a snapshot keeps a reference to the current array and marks it
// shared; the next write copies the array before changing it, so a shared array (and the
// pairs in it, which are never modified in place) stays frozen for as long as a view uses it.

import { checkKey, checkScanOptions, isEmptyRange } from './checks.js';
import { EngineClosedError, SnapshotReleasedError } from './errors.js';
import type { BatchOp } from './write-batch.js';
import type { EngineSnapshot, KvEngine, KvPair, ScanOptions, WriteBatch, WriteOptions } from './kv-engine.js';

type Pair = readonly [key: Buffer, value: Buffer];

/** Index of the first pair whose key is >= `key` (pairs.length if none). */
function lowerBound(pairs: readonly Pair[], key: Buffer): number {
  let lo = 0;
  let hi = pairs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(pairs[mid]![0], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function copy(b: Buffer): Buffer {
  return Buffer.from(b);
}

function lookup(pairs: readonly Pair[], key: Buffer): Buffer | undefined {
  checkKey(key);
  const i = lowerBound(pairs, key);
  const p = pairs[i];
  return p !== undefined && p[0].equals(key) ? copy(p[1]) : undefined;
}

function readRange(pairs: readonly Pair[], opts: ScanOptions): KvPair[] {
  const r = checkScanOptions(opts);
  if (isEmptyRange(r)) return [];
  const lo = lowerBound(pairs, r.start);
  const hi = r.end === undefined ? pairs.length : lowerBound(pairs, r.end);
  const n = Math.min(hi - lo, r.limit);
  const out: KvPair[] = [];
  for (let k = 0; k < n; k++) {
    const p = pairs[r.reverse ? hi - 1 - k : lo + k]!;
    out.push([copy(p[0]), copy(p[1])]);
  }
  return out;
}

/** Applies one batch operation to a private (unshared) array, in place. */
function applyOp(pairs: Pair[], op: BatchOp): void {
  switch (op.type) {
    case 'put': {
      const i = lowerBound(pairs, op.key);
      const pair: Pair = [copy(op.key), copy(op.value)];
      if (i < pairs.length && pairs[i]![0].equals(op.key)) pairs[i] = pair;
      else pairs.splice(i, 0, pair);
      return;
    }
    case 'delete': {
      const i = lowerBound(pairs, op.key);
      if (i < pairs.length && pairs[i]![0].equals(op.key)) pairs.splice(i, 1);
      return;
    }
    case 'deleteRange': {
      const lo = lowerBound(pairs, op.start);
      pairs.splice(lo, lowerBound(pairs, op.end) - lo);
      return;
    }
    default: {
      const never: never = op;
      throw new TypeError(`unknown batch operation ${JSON.stringify(never)}`);
    }
  }
}

class MemorySnapshot implements EngineSnapshot {
  private released = false;

  constructor(private readonly engine: MemoryEngine, private readonly pairs: readonly Pair[]) {}

  async get(key: Buffer): Promise<Buffer | undefined> {
    this.check('get');
    return lookup(this.pairs, key);
  }

  async scan(opts: ScanOptions): Promise<KvPair[]> {
    this.check('scan');
    return readRange(this.pairs, opts);
  }

  async release(): Promise<void> {
    this.released = true;
  }

  private check(op: string): void {
    if (this.engine.isClosed) throw new EngineClosedError(`snapshot ${op}`);
    if (this.released) throw new SnapshotReleasedError(op);
  }
}

/** An in-memory KvEngine. Nothing survives the process; `sync` is accepted and ignored. */
export class MemoryEngine implements KvEngine {
  /** Sorted by key, no duplicates. Never modified while `shared` is true. */
  private pairs: Pair[] = [];
  /** True when a snapshot may still be viewing `pairs`. */
  private shared = false;
  private closing: Promise<void> | undefined;

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    this.check('get');
    return lookup(this.pairs, key);
  }

  async scan(opts: ScanOptions): Promise<KvPair[]> {
    this.check('scan');
    return readRange(this.pairs, opts);
  }

  async snapshot(): Promise<EngineSnapshot> {
    this.check('snapshot');
    this.shared = true;
    return new MemorySnapshot(this, this.pairs);
  }

  async write(batch: WriteBatch, opts: WriteOptions): Promise<void> {
    this.check('write');
    if (typeof opts?.sync !== 'boolean') throw new TypeError('write options must say {sync: boolean}');
    if (batch.isEmpty) return;
    // WriteBatch validated every operation when it was added, so applying cannot fail halfway.
    const next = this.shared ? this.pairs.slice() : this.pairs;
    for (const op of batch.ops) applyOp(next, op);
    this.pairs = next;
    this.shared = false;
  }

  /** Idempotent. Operations never wait on I/O here, so there is nothing in flight to wait for. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.pairs = [];
      this.closing = Promise.resolve();
    }
    return this.closing;
  }

  private check(op: string): void {
    if (this.isClosed) throw new EngineClosedError(op);
  }
}

/** Opens an empty in-memory engine. */
export async function openMemoryEngine(): Promise<MemoryEngine> {
  return new MemoryEngine();
}
