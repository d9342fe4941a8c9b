// PowerLossEngine: a KvEngine wrapper for crash tests that can forget what a power cut
// would. A write whose promise resolved with `sync: true` is durable, and so is every
// write before it (one write-ahead log, flushed in order). A write without sync, or one
// still in flight, lives in the page cache: after powerLoss() it may be gone.
//
// How: writes go to the wrapped engine at once (reads see them, as on a real machine),
// one at a time, each recording how to undo itself (the previous values of the keys it
// touches). A synced write that resolves drops the undo records up to itself. powerLoss()
// fences the engine (every later call rejects, as a dead process's would), waits for the
// write in flight, then undoes it and a random suffix (or all) of the unsynced writes
// since the last sync, newest first. The wrapped engine is then exactly what a machine
// would find after rebooting; close it and open a new wrapper to "restart".

import { EngineClosedError } from './errors.js';
import { WriteBatch } from './kv-engine.js';
import type { EngineSnapshot, KvEngine, KvPair, ScanOptions, WriteOptions } from './kv-engine.js';

interface Undo {
  /** Restores the keys this write changed: their old values, or deletes for new keys. */
  readonly batch: WriteBatch;
}

/** Which unsynced writes a power cut loses: all, a random suffix, none, or the newest n. */
export type LossMode = 'all' | 'suffix' | 'none' | number;

/** Options of a PowerLossEngine. */
export interface PowerLossOptions {
  /**
   * How many of the unsynced writes to lose: all of them, a random suffix (default), none,
   * or exactly the newest n of them (fewer if there are fewer).
   */
  readonly lose?: LossMode;
  /** Random source for the suffix length. */
  readonly random?: () => number;
}

/**
 * Tests only: a KvEngine wrapper whose powerLoss() forgets what a power cut may (unsynced
 * writes, newest first), keeping every write a synced one made durable.
 */
export class PowerLossEngine implements KvEngine {
  /** Undo records of writes not yet known durable, oldest first. */
  private undo: Undo[] = [];
  private chain: Promise<void> = Promise.resolve();
  private dead = false;
  /** Writes that completed in the wrapped engine after the power went (never acknowledged). */
  private inFlightLost = 0;
  /** Unsynced writes lost by the last powerLoss(), for tests that report it. */
  lostWrites = 0;

  /**
   * `syncDelayMs`: an extra delay before each synced write, as a slow disk's fsync (tests
   * draw it at random so stores fall out of step and crash windows widen).
   */
  constructor(readonly inner: KvEngine, private readonly syncDelayMs?: () => number) {}

  private check(op: string): void {
    if (this.dead) throw new EngineClosedError(`${op} after a power loss`);
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    this.check('get');
    return this.inner.get(key);
  }

  async scan(opts: ScanOptions): Promise<KvPair[]> {
    this.check('scan');
    return this.inner.scan(opts);
  }

  async snapshot(): Promise<EngineSnapshot> {
    this.check('snapshot');
    return this.inner.snapshot();
  }

  write(batch: WriteBatch, opts: WriteOptions): Promise<void> {
    if (this.dead) return Promise.reject(new EngineClosedError('write after a power loss'));
    const run = this.chain.then(async () => {
      if (this.dead) throw new EngineClosedError('write after a power loss');
      const undo = await this.undoFor(batch);
      if (this.dead) throw new EngineClosedError('write after a power loss');
      this.undo.push(undo);
      const delay = opts.sync ? this.syncDelayMs?.() ?? 0 : 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await this.inner.write(batch, opts);
      if (this.dead) {
        // The power went while it was in flight: its caller never hears back, and it is lost.
        this.inFlightLost++;
        throw new EngineClosedError('power lost during the write');
      }
      // Writes run one at a time, so a synced one makes every earlier one durable too.
      if (opts.sync) this.undo = [];
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The writes that put back what `batch` is about to change. */
  private async undoFor(batch: WriteBatch): Promise<Undo> {
    const old = new Map<string, Buffer | undefined>();
    const remember = async (key: Buffer) => {
      const k = key.toString('hex');
      if (!old.has(k)) old.set(k, await this.inner.get(key));
    };
    for (const op of batch.ops) {
      if (op.type === 'deleteRange') {
        for (const [k] of await this.inner.scan({ start: op.start, end: op.end })) await remember(k);
      } else {
        await remember(op.key);
      }
    }
    const wb = new WriteBatch();
    for (const [k, v] of old) {
      if (v === undefined) wb.delete(Buffer.from(k, 'hex'));
      else wb.put(Buffer.from(k, 'hex'), v);
    }
    return { batch: wb };
  }

  /**
   * The power goes out: no call succeeds from now on; the write in flight (if any) and all,
   * none or a random suffix of the unsynced writes before it are undone in the wrapped
   * engine, newest first. Resolves once the wrapped engine holds what survived.
   */
  async powerLoss(o: PowerLossOptions = {}): Promise<void> {
    this.dead = true;
    await this.chain;
    const unsynced = this.undo.length - this.inFlightLost;
    const mode = o.lose ?? 'suffix';
    const lose = typeof mode === 'number' ? Math.min(Math.max(0, Math.floor(mode)), unsynced)
      : mode === 'all' ? unsynced : mode === 'none' ? 0 : Math.floor((o.random ?? Math.random)() * (unsynced + 1));
    const n = this.inFlightLost + lose;
    for (let i = 0; i < n; i++) await this.inner.write(this.undo.pop()!.batch, { sync: true });
    this.lostWrites = n;
    this.undo = [];
  }

  private closing: Promise<void> | undefined;

  /** A clean shutdown: writes already started finish; nothing is lost. */
  close(): Promise<void> {
    this.dead = true;
    this.closing ??= this.chain.then(() => this.inner.close());
    return this.closing;
  }
}
