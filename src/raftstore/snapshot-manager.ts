// SnapshotManager: a store's snapshot traffic and files. It caps concurrent sends and
// receives (each holds a file open and a stream busy), stages incoming files (checking
// size and checksum against the descriptor before the store sees the message), keeps the
// files a send still reads from being deleted, cleans leftovers at start, and counts what
// happened for `cluster status`.

import type { Logger, MsgSnapshot } from '../raft/index.js';
import type { RaftEnvelope } from './envelope.js';
import { decodeDescriptor } from './snapshot-data.js';
import type { SnapshotDescriptor } from './snapshot-data.js';
import type { SnapshotFiles, SnapshotFileWriter } from './snapshot-files.js';
import { parseSnapshotName, receivedName, TEMP_SUFFIX } from './snapshot-files.js';
import type { Transport } from './transport.js';

/** How many snapshots a store sends and receives at once. */
export interface SnapshotLimits {
  /** Snapshots this store sends at once; more are reported failed (Raft retries later). */
  readonly maxSending: number;
  /** Snapshots this store receives at once; more are refused. */
  readonly maxReceiving: number;
}

/** The default SnapshotLimits: 2 sending, 4 receiving. */
export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = { maxSending: 2, maxReceiving: 4 };

/** Counts of a store's snapshot transfers since it started, for metrics. */
export interface SnapshotStats {
  readonly sending: number;
  readonly receiving: number;
  readonly sent: number;
  readonly sendFailures: number;
  readonly received: number;
  readonly installed: number;
  /** Raft index of the last snapshot installed here (0: none since start). */
  readonly lastInstalledIndex: number;
  readonly generated: number;
}

/** The store refuses an incoming snapshot (busy, duplicate, malformed, damaged). */
export class SnapshotRefusedError extends Error {
  readonly code = 'SNAPSHOT_REFUSED';
}

/** One incoming snapshot file being staged. */
export interface SnapshotReceiver {
  readonly fileName: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Verifies the file; resolves with the message to hand to the store. */
  finish(): Promise<RaftEnvelope>;
  abort(): Promise<void>;
}

export class SnapshotManager {
  private readonly inUse = new Map<string, number>();
  /** Per region, the generated file the leader currently offers; older ones go once no send reads them. */
  private readonly currentGenerated = new Map<number, string>();
  private readonly receivingNames = new Set<string>();
  private stats = { sending: 0, receiving: 0, sent: 0, sendFailures: 0, received: 0, installed: 0, lastInstalledIndex: 0, generated: 0 };

  constructor(
    readonly files: SnapshotFiles,
    private readonly transport: Transport,
    private readonly logger: Logger,
    private readonly limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
    /** Tests only: awaited after a generation has read its data and before the snapshot is offered (a big region). */
    readonly whileGenerating?: () => Promise<void>,
  ) {}

  snapshotStats(): SnapshotStats {
    return { ...this.stats };
  }

  /**
   * A new snapshot file of `regionId` replaces the previous one: the previous file is
   * removed now if no send reads it, or when its last send ends.
   */
  async onGenerated(regionId: number, fileName: string): Promise<void> {
    this.stats.generated++;
    const old = this.currentGenerated.get(regionId);
    this.currentGenerated.set(regionId, fileName);
    if (old && old !== fileName && !this.isInUse(old)) await this.files.remove(old);
  }

  onInstalled(index: number): void {
    this.stats.installed++;
    this.stats.lastInstalledIndex = index;
  }

  /** Whether a send is still reading the file (it must not be deleted yet). */
  isInUse(name: string): boolean {
    return (this.inUse.get(name) ?? 0) > 0;
  }

  /**
   * Sends a MsgSnapshot with its generated file; `report` learns the outcome, exactly once.
   * At the cap, the send fails at once: the leader tries again a heartbeat later.
   */
  send(env: RaftEnvelope, fileName: string, report: (status: 'finish' | 'failure') => void): void {
    if (this.stats.sending >= this.limits.maxSending) {
      this.logger.info('snapshot send deferred: too many in flight', { to: env.toPeer.storeId, sending: this.stats.sending });
      this.stats.sendFailures++;
      queueMicrotask(() => report('failure'));
      return;
    }
    this.stats.sending++;
    this.inUse.set(fileName, (this.inUse.get(fileName) ?? 0) + 1);
    const started = Date.now();
    this.transport.sendSnapshot(env, fileName).then(
      () => {
        this.stats.sent++;
        this.logger.info('snapshot sent', { to: env.toPeer.storeId, index: (env.message as MsgSnapshot).snapshot.metadata.index, ms: Date.now() - started });
        return 'finish' as const;
      },
      (e: Error) => {
        this.stats.sendFailures++;
        this.logger.warn('snapshot send failed', { to: env.toPeer.storeId, error: e.message, ms: Date.now() - started });
        return 'failure' as const;
      },
    ).then(async (status) => {
      this.stats.sending--;
      const n = (this.inUse.get(fileName) ?? 1) - 1;
      if (n > 0) this.inUse.set(fileName, n);
      else this.inUse.delete(fileName);
      report(status);
      if (n <= 0 && this.currentGenerated.get(env.regionId) !== fileName) {
        await this.files.remove(fileName).catch((e: Error) => this.logger.warn('could not remove a replaced snapshot file', { file: fileName, error: e.message }));
      }
    });
  }

  /** Starts staging an incoming snapshot; SnapshotRefusedError if it cannot be taken. */
  async receive(env: RaftEnvelope): Promise<SnapshotReceiver> {
    const m = env.message;
    if (m.type !== 'MsgSnapshot') throw new SnapshotRefusedError(`expected a MsgSnapshot, got ${m.type}`);
    let desc: SnapshotDescriptor;
    try {
      desc = decodeDescriptor(m.snapshot);
    } catch (e) {
      throw new SnapshotRefusedError((e as Error).message);
    }
    if (desc.region.id !== env.regionId) throw new SnapshotRefusedError(`snapshot of region ${desc.region.id} sent for region ${env.regionId}`);
    const { index, term } = m.snapshot.metadata;
    const name = receivedName(env.regionId, index, term);
    if (this.receivingNames.has(name)) throw new SnapshotRefusedError(`snapshot ${index}/t${term} of region ${env.regionId} is already being received`);
    if (this.stats.receiving >= this.limits.maxReceiving) throw new SnapshotRefusedError(`too many snapshots being received (${this.stats.receiving})`);
    this.receivingNames.add(name);
    this.stats.receiving++;
    let writer: SnapshotFileWriter;
    try {
      writer = await this.files.create(name);
    } catch (e) {
      this.endReceive(name);
      throw e;
    }
    return this.receiver(env, desc, name, writer);
  }

  private endReceive(name: string): void {
    if (this.receivingNames.delete(name)) this.stats.receiving--;
  }

  private receiver(env: RaftEnvelope, desc: SnapshotDescriptor, name: string, writer: SnapshotFileWriter): SnapshotReceiver {
    let bytes = 0;
    let done = false;
    const abort = async (): Promise<void> => {
      if (done) return;
      done = true;
      this.endReceive(name);
      await writer.abort();
    };
    return {
      fileName: name,
      write: async (chunk) => {
        bytes += chunk.length;
        if (bytes > desc.fileSize) {
          await abort();
          throw new SnapshotRefusedError(`snapshot ${name} is longer than its descriptor's ${desc.fileSize} bytes`);
        }
        await writer.write(chunk);
      },
      finish: async () => {
        if (done) throw new SnapshotRefusedError(`snapshot ${name} was aborted`);
        done = true;
        try {
          const { size, checksum } = await writer.finish();
          if (size !== desc.fileSize || checksum !== desc.checksum) {
            await this.files.remove(name);
            throw new SnapshotRefusedError(`snapshot ${name} is damaged: ${size} bytes with SHA-256 ${checksum}, expected ${desc.fileSize} bytes with ${desc.checksum}`);
          }
        } finally {
          this.endReceive(name);
        }
        this.stats.received++;
        return env;
      },
      abort,
    };
  }

  /**
   * At start: removes unfinished writes, generated files (made again on demand) and
   * received files, except those in `keep` (a region left Applying needs its file).
   */
  async cleanup(keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await this.files.list()) {
      if (keep.has(name)) continue;
      if (name.endsWith(TEMP_SUFFIX) || parseSnapshotName(name)) {
        await this.files.remove(name);
        removed.push(name);
      }
    }
    if (removed.length > 0) this.logger.info('removed snapshot leftovers', { files: removed });
    return removed;
  }

  /** Removes staged files of `regionId` at or below `index` that nothing is receiving. */
  async removeStaleReceived(regionId: number, index: number): Promise<void> {
    for (const name of await this.files.list()) {
      const p = parseSnapshotName(name);
      if (p && p.kind === 'recv' && p.regionId === regionId && p.index <= index && !this.receivingNames.has(name)) {
        await this.files.remove(name);
      }
    }
  }
}
