// RocksEngine: the on-disk KvEngine over the `rocksdb` binding (src/engine). This is the only
// file in the project that imports 'rocksdb'; everything above it sees a KvEngine.
//
// How the contract maps onto the binding:
// - get → db.get; write → db.batch (atomic, `sync` → fsynced WAL). Writes go through a queue,
//   one at a time, so batches apply in call order and deleteRange (which the binding lacks)
//   can be expanded into single deletes by reading the live keys without a write slipping in.
//   The expansion holds the range's keys in memory: fine for log tails and regions of today.
// - scan → one bounded iterator. The binding takes a RocksDB snapshot when an iterator is
//   created, so a scan is one consistent view.
// - snapshot → one unbounded forward iterator created (and so pinned to a RocksDB snapshot)
//   inside snapshot(), kept open until release(). get seeks it to the key; a forward scan seeks
//   it to `start` and reads on. The binding's iterators cannot change direction, so a reverse
//   scan on a snapshot reads the range forward, keeping only the last `limit` pairs: it costs
//   time in proportion to the size of the range. Reads on one snapshot run one at a time.

import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import rocksdbCjs from 'rocksdb';
import { checkKey, checkScanOptions, inRange, isEmptyRange, type ScanRange } from './checks.js';
import { EngineClosedError, EngineIoError, EngineOpenError, SnapshotReleasedError } from './errors.js';
import type { EngineSnapshot, KvEngine, KvPair, ScanOptions, WriteOptions } from './kv-engine.js';
import type { BatchOp, WriteBatch } from './write-batch.js';

// @types/rocksdb declares `export default` on a CommonJS module; see shared/notes/toolchain.md.
const rocksdb = rocksdbCjs as unknown as typeof rocksdbCjs.default;
type Db = ReturnType<typeof rocksdb>;
type RocksIterator = ReturnType<Db['iterator']>;
type RocksOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** Every non-empty key is >= this, so seeking here is seeking to the first key. */
const FIRST_KEY = Buffer.of(0);
/** The binding reads `limit` as an int32; above this we stop the iteration ourselves. */
const MAX_NATIVE_LIMIT = 0x7fffffff;

function ioError(op: string, err: unknown): EngineIoError {
  return new EngineIoError(op, err instanceof Error ? err.message : String(err), { cause: err });
}

/** Runs a callback-style binding call as a promise; binding errors become EngineIoError. */
function call<T = void>(op: string, fn: (cb: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((res, rej) => fn((err, value) => (err ? rej(ioError(op, err)) : res(value as T))));
}

/** The next pair of an iterator, or undefined at its end. */
function next(it: RocksIterator, op: string): Promise<KvPair | undefined> {
  return new Promise((res, rej) =>
    it.next((err, key, value) => {
      if (err) rej(ioError(op, err));
      else res(key === undefined ? undefined : [key as Buffer, value as Buffer]);
    }));
}

function endIterator(it: RocksIterator): Promise<void> {
  return call('iterator end', (cb) => it.end(cb));
}

/** Reads from `it` until it ends, `limit` pairs were read, or a key reaches `stop` (exclusive). */
async function drain(it: RocksIterator, op: string, limit: number, stop?: Buffer): Promise<KvPair[]> {
  const out: KvPair[] = [];
  while (out.length < limit) {
    const pair = await next(it, op);
    if (pair === undefined || (stop !== undefined && Buffer.compare(pair[0], stop) >= 0)) break;
    out.push(pair);
  }
  return out;
}

/** Runs tasks one at a time in the order they were queued; a failed task does not block the rest. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}

class RocksSnapshot implements EngineSnapshot {
  private readonly reads = new SerialQueue();
  private released: Promise<void> | undefined;

  /** `it` is an unbounded forward iterator, created in snapshot() and pinned to its moment. */
  constructor(private readonly engine: RocksEngine, private readonly it: RocksIterator) {}

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.read('get', async () => {
      checkKey(key);
      this.it.seek(key);
      const pair = await next(this.it, 'snapshot get');
      return pair !== undefined && pair[0].equals(key) ? pair[1] : undefined;
    });
  }

  scan(opts: ScanOptions): Promise<KvPair[]> {
    return this.read('scan', async () => {
      const r = checkScanOptions(opts);
      if (isEmptyRange(r)) return [];
      this.it.seek(r.start.length > 0 ? r.start : FIRST_KEY);
      if (!r.reverse) return drain(this.it, 'snapshot scan', r.limit, r.end);
      return this.scanReverse(r);
    });
  }

  /** Idempotent; waits for reads already queued, then lets go of the RocksDB snapshot. */
  release(): Promise<void> {
    this.released ??= this.reads.run(async () => {
      this.engine.forget(this);
      await endIterator(this.it);
    });
    return this.released;
  }

  /** Reverse order from a forward-only iterator: read the range, keep the last `limit` pairs. */
  private async scanReverse(r: ScanRange): Promise<KvPair[]> {
    const kept: KvPair[] = [];
    for (;;) {
      const pair = await next(this.it, 'snapshot scan');
      if (pair === undefined || (r.end !== undefined && Buffer.compare(pair[0], r.end) >= 0)) break;
      kept.push(pair);
      // Trim in chunks so a long range costs O(n), not O(n * limit).
      if (kept.length >= 2 * r.limit + 64) kept.splice(0, kept.length - r.limit);
    }
    return kept.slice(Math.max(0, kept.length - r.limit)).reverse();
  }

  private read<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.engine.isClosed) return Promise.reject(new EngineClosedError(`snapshot ${op}`));
    if (this.released !== undefined) return Promise.reject(new SnapshotReleasedError(op));
    return this.reads.run(fn);
  }
}

/** A KvEngine on a RocksDB directory. Open it with openRocksEngine(). */
export class RocksEngine implements KvEngine {
  private closing: Promise<void> | undefined;
  /** One-shot operations (get, scan, write) that close() waits for. */
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly snapshots = new Set<RocksSnapshot>();
  private readonly writes = new SerialQueue();

  /** `db` must be open. */
  constructor(readonly path: string, private readonly db: Db) {}

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.track('get', async () => {
      checkKey(key);
      return new Promise<Buffer | undefined>((res, rej) =>
        this.db.get(key, { asBuffer: true }, (err, value) => {
          if (!err) res(value as Buffer);
          else if (/^NotFound/.test(err.message)) res(undefined);
          else rej(ioError('get', err));
        }));
    });
  }

  scan(opts: ScanOptions): Promise<KvPair[]> {
    return this.track('scan', async () => {
      const r = checkScanOptions(opts);
      if (isEmptyRange(r)) return [];
      const it = this.db.iterator({
        ...(r.start.length > 0 ? { gte: r.start } : {}),
        ...(r.end !== undefined ? { lt: r.end } : {}),
        reverse: r.reverse,
        limit: r.limit <= MAX_NATIVE_LIMIT ? r.limit : -1,
        keyAsBuffer: true,
        valueAsBuffer: true,
      });
      try {
        return await drain(it, 'scan', r.limit);
      } finally {
        await endIterator(it);
      }
    });
  }

  async snapshot(): Promise<EngineSnapshot> {
    if (this.isClosed) throw new EngineClosedError('snapshot');
    // The binding pins the iterator to a RocksDB snapshot right here, synchronously.
    const snap = new RocksSnapshot(this, this.db.iterator({ keyAsBuffer: true, valueAsBuffer: true }));
    this.snapshots.add(snap);
    return snap;
  }

  write(batch: WriteBatch, opts: WriteOptions): Promise<void> {
    return this.track('write', async () => {
      if (typeof opts?.sync !== 'boolean') throw new TypeError('write options must say {sync: boolean}');
      const ops = batch.ops.slice(); // the caller may reuse the batch once write() returned
      if (ops.length === 0) return;
      await this.writes.run(async () => {
        const rocksOps = await this.toRocksOps(ops);
        if (rocksOps.length === 0) return;
        await call('write', (cb) => this.db.batch(rocksOps, { sync: opts.sync }, cb));
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  /** @internal Called by a snapshot on release. */
  forget(snap: RocksSnapshot): void {
    this.snapshots.delete(snap);
  }

  private async shutDown(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.snapshots].map((s) => s.release()));
    await call('close', (cb) => this.db.close(cb));
  }

  /** Rejects once closed; otherwise runs `fn` and lets close() wait for it. */
  private track<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.isClosed) return Promise.reject(new EngineClosedError(op));
    const p = fn();
    this.inflight.add(p);
    const done = () => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** The batch as binding operations, deleteRange expanded into deletes of the keys it covers. */
  private async expand(ops: readonly BatchOp[]): Promise<RocksOp[]> {
    // Final operation per key (keyed by the key's bytes as latin1, a 1:1 mapping).
    const last = new Map<string, RocksOp>();
    for (const op of ops) {
      if (op.type !== 'deleteRange') {
        last.set(op.key.toString('latin1'), toRocksOp(op));
        continue;
      }
      for (const [id, o] of last) {
        if (o.type === 'put' && inRange(o.key, op.start, op.end)) last.set(id, { type: 'del', key: o.key });
      }
      for (const key of await this.liveKeys(op.start, op.end)) last.set(key.toString('latin1'), { type: 'del', key });
    }
    return [...last.values()];
  }

  /** The batch as binding operations (kept in order unless a deleteRange needs expanding). */
  private async toRocksOps(ops: readonly BatchOp[]): Promise<RocksOp[]> {
    const out: RocksOp[] = [];
    for (const op of ops) {
      if (op.type === 'deleteRange') return this.expand(ops);
      out.push(toRocksOp(op));
    }
    return out;
  }

  /** Keys in [start, end) as the store holds them now (called with the write queue held). */
  private async liveKeys(start: Buffer, end: Buffer): Promise<Buffer[]> {
    if (Buffer.compare(start, end) >= 0) return [];
    const it = this.db.iterator({ gte: start, lt: end, values: false, keyAsBuffer: true });
    try {
      return (await drain(it, 'write', Infinity)).map(([k]) => k);
    } finally {
      await endIterator(it);
    }
  }
}

function toRocksOp(op: Exclude<BatchOp, { type: 'deleteRange' }>): RocksOp {
  return op.type === 'put' ? { type: 'put', key: op.key, value: op.value } : { type: 'del', key: op.key };
}

/** Options of openRocksEngine. */
export interface OpenRocksOptions {
  /** Create the directory (and its parents) and an empty database if missing. Default true. */
  readonly createIfMissing?: boolean;
}

/**
 * Opens (by default creating) the RocksDB database in `dir`. Rejects with EngineOpenError
 * (code ENGINE_OPEN_FAILED, `path` set) when the directory cannot be used, for example when
 * another process or another open engine holds its lock.
 */
export async function openRocksEngine(dir: string, opts: OpenRocksOptions = {}): Promise<RocksEngine> {
  const path = resolve(dir);
  const createIfMissing = opts.createIfMissing ?? true;
  if (createIfMissing) {
    try {
      await mkdir(path, { recursive: true });
    } catch (err) {
      throw new EngineOpenError(path, (err as Error).message, { cause: err });
    }
  }
  const db = rocksdb(path);
  await new Promise<void>((res, rej) =>
    db.open({ createIfMissing, errorIfExists: false }, (err) => {
      if (!err) return res();
      const hint = /lock/i.test(err.message) ? ' (is another process or open engine using this directory?)' : '';
      rej(new EngineOpenError(path, err.message + hint, { cause: err }));
    }));
  return new RocksEngine(path, db);
}
