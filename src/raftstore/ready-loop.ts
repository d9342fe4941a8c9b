// The Ready loop of one peer: persist (one synced raftdb batch) → send → apply (one kvdb
// batch with the apply state) → answer callbacks → advance. A leader sends its appends
// before the persist, so that its fsync and the followers' run in parallel (src/raft
// sendableBeforePersist says which messages may go early). Inputs are stepped as they
// arrive; the loop runs one Ready at a time, so proposals that arrive while a write is in
// flight join the next Ready and share its fsync (group commit). A Ready's snapshot is
// installed before anything else in it is persisted. At each named crash point a test may
// kill the store; the loop then does nothing more.

import type { Ready, Snapshot } from '../raft/index.js';
import { sendableBeforePersist } from '../raft/index.js';
import { applyCommitted } from './apply-committed.js';
import { onApplied } from './apply-results.js';
import type { WriteResult } from './command.js';
import { SimulatedCrashError } from './crash-points.js';
import { NotLeaderError, StaleCommandError } from './errors.js';
import type { PeerCore } from './peer-core.js';
import type { PeerMessages } from './peer-messages.js';
import type { PeerReads } from './peer-reads.js';
import type { ProposalQueue } from './proposal-queue.js';
import type { RegionMeta } from './region.js';
import { SessionTable } from './session-table.js';

/** The parts of a peer the loop drives. */
export interface ReadyLoopParts {
  readonly peer: PeerCore;
  readonly reads: PeerReads;
  readonly messages: PeerMessages;
  readonly proposals: ProposalQueue<WriteResult>;
  /** Stops and destroys the peer once it has applied its own removal (Peer.destroyed). */
  readonly destroy: (region: RegionMeta) => void;
}

export class ReadyLoop {
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** Where the loop is (diagnostics for stuck-cluster reports). */
  private phase = 'idle';
  /** The term of the last Ready handled; a change means pending ReadIndex requests were dropped. */
  private lastTerm: number;

  constructor(private readonly parts: ReadyLoopParts) {
    this.lastTerm = parts.peer.node.status().term;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Resolves once the Ready in flight (if any) is done. */
  get idle(): Promise<void> {
    return this.done;
  }

  /** Runs the loop after the current synchronous pass, so inputs batch together. */
  schedule(): void {
    const { peer, reads } = this.parts;
    if (this.scheduled || peer.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (peer.stopped) return;
      reads.startRound();
      if (this.running) return;
      // Lease reads may be servable at once (they wait for nothing but the applied index).
      if (reads.leaseReads) void reads.serve();
      if (peer.node.hasReady()) this.done = this.run();
    });
  }

  private async run(): Promise<void> {
    const { peer } = this.parts;
    this.running = true;
    try {
      while (!peer.stopped && peer.node.hasReady()) {
        const started = performance.now();
        await this.handle(peer.node.ready());
        peer.o.observer.readyHandled(performance.now() - started);
      }
    } catch (e) {
      if (!peer.stopped) peer.o.onFatal(e as Error);
    } finally {
      this.running = false;
    }
  }

  private async handle(rd: Ready): Promise<void> {
    const { peer, reads, proposals } = this.parts;
    this.phase = 'ready';
    if (rd.snapshot && !(await this.install(rd.snapshot))) return;
    if (!(await this.persistAndSend(rd))) return;
    const termChanged = rd.hardState !== undefined && rd.hardState.term !== this.lastTerm;
    if (rd.hardState) this.lastTerm = rd.hardState.term;
    if ((rd.softState && rd.softState.role !== 'leader') || termChanged) this.lostLeadership();
    reads.confirmed(rd.readStates);
    if (peer.o.bugs.readBeforeApplied) void reads.serve();
    let removed: RegionMeta | undefined;
    if (rd.committedEntries.length > 0) {
      const out = await applyCommitted(peer, rd.committedEntries, (p) => { this.phase = p; });
      if (!out) return;
      removed = onApplied(peer, out, proposals, reads);
    }
    peer.node.advance(rd);
    this.phase = 'idle';
    if (removed) peer.pendingRemoval = removed;
    // A removed leader first hands leadership over (Raft does it), then goes.
    if (peer.pendingRemoval && !peer.isLeader) {
      this.parts.destroy(peer.pendingRemoval);
      return;
    }
    void reads.serve();
  }

  /** Installs a Ready's snapshot; false if the peer stopped meanwhile. */
  private async install(snapshot: Snapshot): Promise<boolean> {
    const { peer } = this.parts;
    const o = peer.o;
    this.phase = `installing snapshot ${snapshot.metadata.index}`;
    if (o.beforeInstall) {
      await o.beforeInstall();
      if (peer.stopped) return false;
    }
    const started = Date.now();
    await o.storage.installSnapshot(snapshot, {
      skipIntent: o.bugs.installWithoutIntent === true,
      at: (step) => {
        if (peer.crashed(`snapshot-${step}`)) throw new SimulatedCrashError(`snapshot-${step}`);
      },
    });
    if (peer.stopped) return false;
    // The client sessions came with the snapshot: take them as kvdb now has them.
    if (!o.bugs.skipSessionReloadAfterSnapshot) {
      o.sessions.replaceWith(await SessionTable.load(o.kv, peer.region.id));
    }
    o.logger.info('installed snapshot', { index: snapshot.metadata.index, term: snapshot.metadata.term, ms: Date.now() - started });
    return true;
  }

  /**
   * Persists the Ready and sends its messages: a leader's appends while it writes them,
   * the rest once the Ready is durable (the planted bug sends everything first). False if
   * the peer stopped (or a crash point killed the store) on the way.
   */
  private async persistAndSend(rd: Ready): Promise<boolean> {
    const { peer, reads, messages } = this.parts;
    const storage = peer.o.storage;
    // Asking a voter to take over ends this leader's lease for the term, before the ask leaves.
    if (rd.messages.some((m) => m.type === 'MsgTimeoutNow')) reads.handOver(peer.node.status().term);
    const persistedTerm = storage.initialState().hardState.term;
    const early = peer.o.bugs.sendBeforePersist ? rd.messages : rd.messages.filter((m) => sendableBeforePersist(m, rd, persistedTerm));
    messages.send(early);
    this.phase = 'persisting';
    await storage.saveReady(rd);
    if (peer.stopped || peer.crashed('persisted')) return false;
    if (early.length < rd.messages.length) messages.send(early.length === 0 ? rd.messages : rd.messages.filter((m) => !early.includes(m)));
    return !peer.crashed('sent');
  }

  /** Proposals and reads waiting on this leader's term can no longer be answered by it. */
  private lostLeadership(): void {
    const { peer, reads, proposals } = this.parts;
    reads.revokeLease();
    proposals.failAll(new StaleCommandError('leadership changed before the command was applied'));
    reads.failAll(new NotLeaderError(peer.region.id, peer.leaderMeta()));
  }

  /** The loop's state, for stuck-cluster reports. */
  describe(): string {
    const st = this.parts.peer.node.status();
    return `loop ${this.running ? 'running' : 'idle'} (${this.phase}), ready ${this.parts.peer.node.hasReady()}, commit ${st.commit}, last ${st.lastIndex}, lead ${st.lead}`;
  }
}
