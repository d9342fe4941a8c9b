// RawNode: the application's handle on one Raft node. It feeds inputs to Raft and
// collects outputs into Ready batches. The contract, one Ready at a time:
//   1. install ready.snapshot if there is one (it replaces the whole log and the state
//      machine), then persist ready.entries and ready.hardState durably,
//   2. send ready.messages (and report each MsgSnapshot's fate with reportSnapshot),
//   3. apply ready.committedEntries in order,
//   4. call advance(ready) before asking for the next Ready.

import type { Config } from './config.js';
import { resolveConfig } from './config.js';
import { Raft } from './raft.js';
import type { ConfState, HardState, Index, Message, NodeId, Ready, SoftState, StateRole, Term } from './types.js';
import type { ConfChange } from './conf-change.js';
import { encodeConfChange } from './conf-change.js';
import { hardStateEqual, isEmptyHardState, isLocalMessage } from './types.js';

/**
 * A snapshot of a node's state for inspection and tests (RawNode.status); not a way to
 * decide anything.
 */
export interface Status {
  readonly id: NodeId;
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
  readonly applied: Index;
  readonly lastIndex: Index;
  readonly lead: NodeId;
  readonly role: StateRole;
}

/**
 * The application's handle on one Raft node: feed it ticks, messages and proposals, then
 * handle its Readies one at a time by the contract at the top of this file.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** A Ready has been handed out and not yet advanced. */
  private outstanding = false;

  constructor(config: Config) {
    this.raft = new Raft(resolveConfig(config));
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick (election and heartbeat timers). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (a pre-election first when PreVote is on). */
  campaign(): void {
    this.raft.step({ type: 'MsgHup', from: this.raft.id, to: this.raft.id, term: 0 });
  }

  /**
   * Appends `data` to the log if this node leads; returns where it will sit if it
   * commits. Throws ProposalDroppedError (with the leader hint) otherwise.
   */
  propose(data: Uint8Array): { index: Index; term: Term } {
    return this.raft.propose([{ type: 'normal', data }]);
  }

  /**
   * Proposes membership change `cc`; `data` is the entry's payload, the application's
   * encoding of it (by default the core's own, encodeConfChange), decoded again when the
   * entry applies. Throws ConfChangePendingError while another change is proposed and not
   * yet applied, ConfChangeError if it cannot apply to the configuration (or removes this
   * leader: transfer leadership first), ProposalDroppedError if this node does not lead.
   */
  proposeConfChange(cc: ConfChange, data: Uint8Array = encodeConfChange(cc)): { index: Index; term: Term } {
    return this.raft.proposeConfChange(cc, data);
  }

  /**
   * Call when applying a committed conf change entry, in log order with the others: the
   * configuration in force changes now. Throws ConfChangeError (changing nothing) if the
   * change does not apply to the current configuration; every replica sees the same, so
   * the application treats that entry as a no-op.
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** The configuration in force (voters and learners). */
  confState(): ConfState {
    return this.raft.confState();
  }

  /**
   * Asks the leader (through this node, which forwards it) to hand leadership to
   * `transferee`: it stops taking proposals, brings the transferee up to date and tells it
   * to campaign; it gives up after an election timeout.
   */
  transferLeader(transferee: NodeId): void {
    this.raft.step({ type: 'MsgTransferLeader', from: this.raft.id, to: this.raft.id, term: 0, transferee });
  }

  /** The node this leader is handing leadership to (0: none). */
  leadTransferee(): NodeId {
    return this.raft.transferee();
  }

  /** Several proposals in one append round; returns the index of the first one. */
  proposeBatch(datas: readonly Uint8Array[]): { firstIndex: Index; term: Term } {
    const r = this.raft.propose(datas.map((data) => ({ type: 'normal' as const, data })));
    return { firstIndex: r.index - datas.length + 1, term: r.term };
  }

  /** Delivers a message from another node. */
  step(m: Message): void {
    if (isLocalMessage(m) || m.type === 'MsgPropose') {
      throw new TypeError(`step: ${m.type} is local and cannot come from the network`);
    }
    // Inside the core, term 0 marks a local message that takes the current term; from the
    // network it would bypass the term checks, so it is refused.
    if (m.term === 0) throw new TypeError(`step: ${m.type} from ${m.from} has term 0`);
    if (m.to !== this.raft.id) throw new TypeError(`step: message for ${m.to} delivered to ${this.raft.id}`);
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read point. When leadership is confirmed the result appears
   * in a later Ready's readStates with the same context; it may be dropped (no leader,
   * leadership lost), so callers time out and retry.
   */
  readIndex(context: Uint8Array): void {
    this.raft.step({ type: 'MsgReadIndex', from: this.raft.id, to: this.raft.id, term: 0, context });
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.role !== this.prevSoftState.role) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    return (
      r.raftLog.pendingSnapshot() !== undefined ||
      r.raftLog.unstable.entries.length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.raftLog.hasNextEntries()
    );
  }

  ready(): Ready {
    if (this.outstanding) throw new Error('ready: the previous Ready has not been advanced');
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.role !== this.prevSoftState.role;
    const hardChanged = !isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState);
    const snapshot = r.raftLog.pendingSnapshot();
    const rd: Ready = {
      ...(softChanged ? { softState: ss } : {}),
      ...(hardChanged ? { hardState: hs } : {}),
      ...(snapshot ? { snapshot } : {}),
      entries: r.raftLog.unstableEntries(),
      committedEntries: r.raftLog.nextEntries(),
      messages: r.msgs,
      readStates: r.readStates,
    };
    r.msgs = [];
    r.readStates = [];
    this.prevSoftState = ss;
    if (hardChanged) this.prevHardState = hs;
    this.outstanding = true;
    return rd;
  }

  /** Tells Raft the Ready was persisted, sent and applied. */
  advance(rd: Ready): void {
    if (!this.outstanding) throw new Error('advance: no Ready is outstanding');
    this.outstanding = false;
    if (rd.snapshot) this.raft.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    const last = rd.entries[rd.entries.length - 1];
    if (last) this.raft.raftLog.stableTo(last.index, last.term);
    const applied = rd.committedEntries[rd.committedEntries.length - 1];
    if (applied) this.raft.raftLog.appliedTo(applied.index);
  }

  /**
   * Tells the leader what became of a MsgSnapshot it sent to `id`: 'finish' once the
   * follower has it, 'failure' if it was lost (the transfer failed or was refused).
   * Until one or the other, or the follower's answer, no appends go to that follower.
   */
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    this.raft.handleSnapshotStatus(id, status === 'failure');
  }

  status(): Status {
    const r = this.raft;
    return {
      id: r.id, term: r.term, vote: r.vote, commit: r.raftLog.committed, applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(), lead: r.lead, role: r.role,
    };
  }

  /** The leader's view of a follower's replication progress (for tests and status). */
  progress(id: NodeId): { match: Index; next: Index; state: string } | undefined {
    const pr = this.raft.progressOf(id);
    return pr && { match: pr.match, next: pr.next, state: pr.state };
  }

  /** Whether the leader heard from `id` this election timeout, and whether sending to it is paused (diagnostics). */
  progressFlags(id: NodeId): { recentActive: boolean; paused: boolean } | undefined {
    const pr = this.raft.progressOf(id);
    return pr && { recentActive: pr.recentActive, paused: pr.isPaused() };
  }
}
