// PeerStorage: a peer's durable Raft state on the two engines, and the raft `Storage`
// the core reads. raftdb holds the log entries and RaftLocalState (hard state + last
// index); kvdb holds RaftApplyState (applied index, truncated state) and
// RegionLocalState. The live part of the log (truncated+1 ..= last) is mirrored in
// memory because the core reads synchronously; log compaction will bound it later.
//
// saveReady writes new entries, the deletion of any conflicting tail and the hard
// state in one synced raftdb batch: once it resolves, what the peer promised is durable.
//
// Snapshots: snapshot() answers the raft core from the last generated snapshot if it
// still reaches the log (its index >= the truncated index); otherwise it starts
// generating one in the background and says "temporarily unavailable" meanwhile.
// installSnapshot() replaces the region's state with a received one (snapshot-install.ts
// has the crash-safe ordering); load() finishes an install a crash interrupted.
//
// Loading and its cross-checks are in peer-storage-load.ts; the records written outside a
// peer's running life (bootstrap, a peer created empty, a tombstone) in region-records.ts.

import { WriteBatch } from '../engine/index.js';
import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { ConfState, Entry, HardState, Index, InitialState, Ready, Snapshot, Storage, Term } from '../raft/index.js';
import type { Logger } from '../raft/index.js';
import { CompactedError, limitSize, silentLogger, SnapshotTemporarilyUnavailableError, UnavailableError } from '../raft/index.js';
import { decodeDescriptor } from './snapshot-data.js';
import { generateSnapshot } from './snapshot-generate.js';
import type { GeneratedSnapshot } from './snapshot-generate.js';
import { beginInstall, finishInstall } from './snapshot-install.js';
import type { InstallHooks, InstallTarget } from './snapshot-install.js';
import type { SnapshotManager } from './snapshot-manager.js';
import { receivedName } from './snapshot-files.js';
import { encodeEntry, hardStateToProto } from './codec.js';
import type { RegionMeta } from './region.js';
import { confStateOf } from './region.js';
import type { StoreId } from './ids.js';
import { loadPeerState } from './peer-storage-load.js';
import type { ApplyState, Engines } from './storage-state.js';
import { encodeApplyState } from './storage-state.js';

export type { ApplyState, Engines } from './storage-state.js';
export { CorruptStateError, encodeApplyState, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from './storage-state.js';
export { bootstrapRegion, destroyRegion, readTombstone, writeUninitializedRegion } from './region-records.js';

export class PeerStorage implements Storage {
  private hardState: HardState;
  private lastTerm: Term;
  /** entries[i] has index truncated.index + 1 + i. */
  private entriesCache: Entry[];
  applyState: ApplyState;
  region: RegionMeta;
  /** raftdb log entries up to here are deleted (as far as this process knows). */
  private deletedThrough = -1;
  /** Payload bytes of the cached entries, for the log-size compaction bound. */
  private cachedBytes = 0;
  /** The last snapshot generated here, if any; its file stays until a newer one replaces it. */
  private generated: GeneratedSnapshot | undefined;
  private generating = false;
  /** While generating: the applied index when it started (the snapshot's index is at least that). */
  private generatingFrom = 0;
  /** When the current generated snapshot was finished (Date.now()). */
  private generatedAt = 0;
  private readonly logger: Logger;

  private constructor(
    private readonly engines: Engines,
    private readonly snapshots: SnapshotManager | undefined,
    init: { hardState: HardState; lastTerm: Term; entries: Entry[]; applyState: ApplyState; region: RegionMeta },
    logger: Logger,
  ) {
    this.hardState = init.hardState;
    this.lastTerm = init.lastTerm;
    this.entriesCache = init.entries;
    for (const e of init.entries) this.cachedBytes += e.data.length;
    this.applyState = init.applyState;
    this.region = init.region;
    this.logger = logger;
  }

  /**
   * Reloads a peer's state after a (re)start and cross-checks it. Returns undefined if
   * the region was never bootstrapped here; throws CorruptStateError if it is
   * inconsistent — never silently resets.
   */
  static async load(
    engines: Engines, storeId: StoreId, regionId: number, snapshots?: SnapshotManager, logger: Logger = silentLogger,
  ): Promise<PeerStorage | undefined> {
    const init = await loadPeerState(engines, storeId, regionId, snapshots, logger);
    return init && new PeerStorage(engines, snapshots, init, logger);
  }

  // ---- raft Storage ---------------------------------------------------------------

  initialState(): InitialState {
    const confState: ConfState = confStateOf(this.region);
    return { hardState: this.hardState, confState };
  }

  firstIndex(): Index {
    return this.applyState.truncatedIndex + 1;
  }

  lastIndex(): Index {
    return this.applyState.truncatedIndex + this.entriesCache.length;
  }

  term(i: Index): Term {
    const t = this.applyState.truncatedIndex;
    if (i === t) return this.applyState.truncatedTerm;
    // Stryker disable next-line EqualityOperator: i === t has returned just above
    if (i < t) throw new CompactedError(i);
    if (i > this.lastIndex()) throw new UnavailableError(i);
    return this.entriesCache[i - t - 1]!.term;
  }

  entries(lo: Index, hi: Index, maxSize?: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    const t = this.applyState.truncatedIndex;
    return limitSize(this.entriesCache.slice(lo - t - 1, hi - t - 1), maxSize);
  }

  snapshot(): Snapshot {
    const g = this.generated;
    // A snapshot from before a membership change would not name a peer just added.
    if (g && g.snapshot.metadata.index >= this.applyState.truncatedIndex && sameConf(g.snapshot.metadata.confState, confStateOf(this.region))) {
      return g.snapshot;
    }
    this.startGeneration();
    throw new SnapshotTemporarilyUnavailableError();
  }

  /**
   * The log index the leader must not compact past for the sake of a snapshot being
   * generated, or generated within the last `freshMs` and not sent yet: a log compacted
   * past it would make it useless on arrival (the receiver could not continue from the
   * log), and under steady writes a generation that outlasts a compaction threshold of
   * new entries would be thrown away and started again for ever. Undefined: no hold.
   */
  snapshotHold(freshMs: number): Index | undefined {
    if (this.generating) return this.generatingFrom;
    const g = this.generated;
    if (g && Date.now() - this.generatedAt < freshMs) return g.snapshot.metadata.index;
    return undefined;
  }

  /** The file of the snapshot at (index, term) generated here, if it is the current one. */
  generatedFile(index: Index, term: Term): string | undefined {
    const g = this.generated;
    return g && g.snapshot.metadata.index === index && g.snapshot.metadata.term === term ? g.fileName : undefined;
  }

  private startGeneration(): void {
    const snaps = this.snapshots;
    if (this.generating || !snaps) return;
    this.generating = true;
    this.generatingFrom = this.applyState.appliedIndex;
    const started = Date.now();
    generateSnapshot({
      kv: this.engines.kv, files: snaps.files, regionId: this.region.id,
      // Stryker disable next-line BlockStatement: an empty catch returns undefined too
      termOf: (i) => { try { return this.term(i); } catch { return undefined; } },
    }).then(async (g) => {
      if (snaps.whileGenerating) await snaps.whileGenerating();
      this.generated = g;
      this.generatedAt = Date.now();
      // Stryker disable next-line StringLiteral, ObjectLiteral, ArithmeticOperator: log text and fields only
      this.logger.info('snapshot generated', { index: g.snapshot.metadata.index, term: g.snapshot.metadata.term, ms: Date.now() - started });
      await snaps.onGenerated(this.region.id, g.fileName);
    }, (e: Error) => {
      // Stryker disable next-line ObjectLiteral: log fields only (the message is asserted)
      this.logger.warn('snapshot generation failed; will retry', { error: e.message });
    }).finally(() => {
      // The leader asks again on a follower's next heartbeat answer.
      this.generating = false;
    });
  }

  /**
   * Installs a snapshot the raft core accepted (a Ready's snapshot), from the file the
   * transport staged. Afterwards the log is empty at the snapshot's point and the region's
   * data is the snapshot's. The caller reloads what it caches from kvdb (client sessions).
   */
  async installSnapshot(snap: Snapshot, hooks?: InstallHooks): Promise<void> {
    if (!this.snapshots) throw new Error('installSnapshot: this storage has no snapshot files');
    const { index, term } = snap.metadata;
    const descriptor = decodeDescriptor(snap);
    if (descriptor.region.id !== this.region.id) {
      throw new Error(`snapshot of region ${descriptor.region.id} offered to region ${this.region.id}`);
    }
    if (index <= this.applyState.appliedIndex) {
      throw new Error(`snapshot at ${index} is not beyond the applied index ${this.applyState.appliedIndex}`);
    }
    const target: InstallTarget = { index, term, fileName: receivedName(this.region.id, index, term), descriptor };
    if (!(await this.snapshots.files.exists(target.fileName))) {
      throw new Error(`snapshot ${index}/t${term} accepted by raft, but its staged file ${target.fileName} is missing`);
    }
    if (hooks?.skipIntent) {
      await finishInstall(this.engines, this.snapshots.files, this.region.id, target, hooks);
      const wb = new WriteBatch();
      wb.put(keys.applyStateKey(this.region.id), encodeApplyState({ appliedIndex: index, truncatedIndex: index, truncatedTerm: term }));
      await this.engines.kv.write(wb, { sync: true });
    } else {
      await beginInstall(this.engines.kv, this.region.id, target);
      await finishInstall(this.engines, this.snapshots.files, this.region.id, target, hooks);
    }
    // What the engines now say, mirrored in memory.
    this.applyState = { appliedIndex: index, truncatedIndex: index, truncatedTerm: term };
    this.entriesCache = [];
    this.cachedBytes = 0;
    this.lastTerm = term;
    // Stryker disable next-line UnaryOperator: resetRaftLog deleted the whole log and the new one starts at index + 1 >= 2, so starting the next delete at 2 instead of 0 skips nothing
    this.deletedThrough = -1;
    const ht = Math.max(this.hardState.term, term);
    this.hardState = { term: ht, vote: ht === this.hardState.term ? this.hardState.vote : 0, commit: index };
    this.region = descriptor.region;
    this.snapshots.onInstalled(index);
    await this.snapshots.removeStaleReceived(this.region.id, index);
  }

  /** Payload bytes of the entries above the truncated index. */
  get logBytes(): number {
    return this.cachedBytes;
  }

  /**
   * Takes the apply state written by the last apply batch. If it moved the truncated index
   * (a CompactLog), the entries it covers leave the cache at once, so that firstIndex(),
   * term() and entries() stay consistent at every point the raft core can call them.
   */
  setApplyState(next: ApplyState): void {
    const dropped = next.truncatedIndex - this.applyState.truncatedIndex;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with dropped <= 0 the next truncated index is at most the current one, so never beyond the last index, and splice(0, n <= 0) removes nothing
    if (dropped > 0) {
      if (next.truncatedIndex > this.lastIndex()) {
        throw new Error(`compaction to ${next.truncatedIndex} is beyond the last index ${this.lastIndex()}`);
      }
      for (const e of this.entriesCache.splice(0, dropped)) this.cachedBytes -= e.data.length;
    }
    this.applyState = next;
  }

  /**
   * Deletes raft log entries at or below the truncated index from raftdb. Call only once
   * the apply state that truncated them is durable in kvdb: until then a restart still
   * needs them. Starts from index 0, so leftovers of an earlier crash go too.
   */
  async deleteCompactedEntries(): Promise<void> {
    const wb = new WriteBatch();
    const upTo = this.applyState.truncatedIndex;
    // From where the last delete ended (0 after a load, to catch a crash's leftovers): a
    // range over old tombstones would cost more on every compaction.
    wb.deleteRange(keys.raftLogKey(this.region.id, this.deletedThrough + 1), keys.raftLogKey(this.region.id, upTo + 1));
    // Not synced: entries below the truncated index are ignored by load(), deleted or not.
    await this.engines.raft.write(wb, { sync: false });
    this.deletedThrough = upTo;
  }

  /** Entries held in memory (and in raftdb) past the truncated index. */
  get cachedEntryCount(): number {
    return this.entriesCache.length;
  }

  // ---- persistence ----------------------------------------------------------------

  /** Persists a Ready's entries and hard state in one raftdb write, synced when it must be. */
  async saveReady(rd: Ready): Promise<void> {
    // Entries at or below the truncated index are already committed and compacted here; they
    // can still arrive when a CompactLog applied while the raft core re-offered them (a new
    // leader's append landed between ready() and advance()). Writing them back would misalign
    // the cache, so they are skipped, as a snapshot-covered prefix would be.
    const truncated = this.applyState.truncatedIndex;
    // Stryker disable next-line ConditionalExpression: filtering entries that are all above the truncated index (or none) keeps them all (performance only)
    const entries = rd.entries.length > 0 && rd.entries[0]!.index <= truncated
      ? rd.entries.filter((e) => e.index > truncated)
      : rd.entries;
    if (entries.length === 0 && !rd.hardState) return;
    // A hard state that only moved the commit index is not written at all: the commit index
    // is learned again from the leader (or from kvdb's applied index at load), and skipping
    // the write takes a raftdb write off every Ready that only commits.
    if (entries.length === 0 && rd.hardState!.term === this.hardState.term && rd.hardState!.vote === this.hardState.vote) {
      this.hardState = rd.hardState!;
      return;
    }
    const { wb, lastTerm, hardState } = this.raftWrite(entries, rd.hardState);
    // Entries and a new term or vote are promises to other nodes and must be durable before any
    // message leaves. A commit index alone is not: it is learned again from the leader, and
    // load() reconciles it with the applied index, so it rides along without an fsync.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a Ready with no entries and no term/vote change returned above, so this is true whenever reached
    const mustSync = entries.length > 0 ||
      // Stryker disable next-line LogicalOperator,ConditionalExpression: as for mustSync above: true whenever reached
      (rd.hardState !== undefined && (rd.hardState.term !== this.hardState.term || rd.hardState.vote !== this.hardState.vote));
    await this.engines.raft.write(wb, { sync: mustSync });
    // Only after the write is durable does the in-memory view change.
    if (entries.length > 0) this.cacheAppended(entries, lastTerm);
    this.hardState = hardState;
  }

  /** The raftdb batch for new entries (and the stale tail they replace) and the hard state. */
  private raftWrite(entries: readonly Entry[], next: HardState | undefined): { wb: WriteBatch; lastIndex: Index; lastTerm: Term; hardState: HardState } {
    const regionId = this.region.id;
    const wb = new WriteBatch();
    let lastIndex = this.lastIndex();
    let lastTerm = this.lastTerm;
    if (entries.length > 0) {
      for (const e of entries) wb.put(keys.raftLogKey(regionId, e.index), encodeEntry(e));
      const last = entries[entries.length - 1]!;
      // A shorter replacement leaves stale entries past its end: delete them too.
      for (let i = last.index + 1; i <= lastIndex; i++) wb.delete(keys.raftLogKey(regionId, i));
      lastIndex = last.index;
      lastTerm = last.term;
    }
    const hardState = next ?? this.hardState;
    wb.put(keys.raftStateKey(regionId), raft_serverpb.RaftLocalState.encode({
      hard_state: hardStateToProto(hardState), last_index: lastIndex, last_term: lastTerm,
    }).finish());
    return { wb, lastIndex, lastTerm, hardState };
  }

  /** The in-memory log after a durable append: the replaced tail cut, the new entries on. */
  private cacheAppended(entries: readonly Entry[], lastTerm: Term): void {
    const first = entries[0]!.index;
    const keep = first - this.applyState.truncatedIndex - 1;
    // In place: copying the whole cache on every Ready made appends O(log length).
    // Readers only ever get slices, so nobody else holds this array.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the raft core's entries continue the log (first <= lastIndex + 1), so keep <= length, and at keep == length the cut is a no-op
    if (keep < this.entriesCache.length) {
      for (let i = keep; i < this.entriesCache.length; i++) this.cachedBytes -= this.entriesCache[i]!.data.length;
      this.entriesCache.length = keep;
    }
    for (const e of entries) {
      this.entriesCache.push(e);
      this.cachedBytes += e.data.length;
    }
    this.lastTerm = lastTerm;
  }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  // Stryker disable next-line ArrayDeclaration: both sides come from confStateOf, which always sets voters and learners; the defaults only satisfy ConfState's optional learners
  const same = (x: readonly number[] = [], y: readonly number[] = []) => x.length === y.length && [...x].sort().every((v, i) => v === [...y].sort()[i]);
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}
