// Raft: the consensus state machine of one node. Inputs are ticks, proposals and
// messages; outputs are queued messages, log entries and read states that RawNode
// packages into a Ready. No I/O, no clock, no ambient randomness.
//
// Election uses randomized timeouts in [electionTick, 2*electionTick), with PreVote
// (a would-be candidate first asks whether it could win, so a node that rejoins from a
// partition cannot inflate terms and depose a healthy leader) and CheckQuorum (a leader
// that has not heard from a quorum within an election timeout steps down, and followers
// that recently heard from a leader ignore vote requests). Replication and ReadIndex
// handling live in the leader half of this file; the follower side of AppendEntries in
// the follower half.

import type { ResolvedConfig } from './config.js';
import { CompactedError, ProposalDroppedError, RaftInvariantError, SnapshotTemporarilyUnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { Progress } from './progress.js';
import { MajorityConfig } from './quorum.js';
import type { VoteResult } from './quorum.js';
import { RaftLog } from './raft-log.js';
import { entriesSize } from './storage.js';
import { ReadOnly } from './read-only.js';
import type {
  ConfState, Entry, HardState, Index, Message, MsgAppend, MsgAppendResponse, MsgHeartbeat,
  MsgHeartbeatResponse, MsgReadIndex, MsgRequestVote, MsgSnapshot, MsgTransferLeader, NodeId, ReadState, Snapshot, SoftState, StateRole, Term,
} from './types.js';
import type { ConfChange } from './conf-change.js';
import { ConfChangeError, ConfChangePendingError, isMember, nextConfState } from './conf-change.js';
import { isEmptyHardState, NONE } from './types.js';

/** A message as built by this node: `from` is filled in, `term` defaults to ours. */
type Outgoing = Message extends infer M
  ? M extends Message ? Omit<M, 'from' | 'term'> & { term?: Term } : never
  : never;

type CampaignKind = 'preElection' | 'election' | 'transfer';

const EMPTY = new Uint8Array(0);

export class Raft {
  readonly id: NodeId;
  term: Term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: StateRole = 'follower';
  readonly raftLog: RaftLog;
  /** Messages to send once the current Ready is persisted. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  private voters: MajorityConfig;
  private learners = new Set<NodeId>();
  /** Progress of every other member, voters and learners (and our own, as leader). */
  private prs = new Map<NodeId, Progress>();
  /**
   * As leader: the index of the last conf change proposed (or, on election, the last index
   * then, since the log may hold one). A new one is refused until it is applied.
   */
  private pendingConfIndex: Index = 0;
  /** As leader: the voter leadership is being handed to, or NONE. */
  private leadTransferee: NodeId = NONE;
  private votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndex: MsgReadIndex[] = [];
  /** Ticks since the last election timeout reset (leader: since the last quorum check). */
  private electionElapsed = 0;
  /** Ticks since this node started (counted up to electionTick only): see leaseAfterStart. */
  private ticksSinceStart = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly logger: Logger;

  constructor(private readonly cfg: ResolvedConfig) {
    this.id = cfg.id;
    this.logger = cfg.logger;
    this.raftLog = new RaftLog(cfg.storage, cfg.logger);
    const { hardState, confState } = cfg.storage.initialState();
    this.voters = new MajorityConfig(confState.voters, cfg.faults.minorityQuorum);
    this.learners = new Set(confState.learners ?? []);
    this.loadHardState(hardState);
    if (cfg.applied > 0) this.raftLog.appliedTo(cfg.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info('raft node started', {
      id: this.id, term: this.term, commit: this.raftLog.committed, applied: this.raftLog.applied,
      lastIndex: this.raftLog.lastIndex(), voters: this.voters.voters, learners: [...this.learners],
    });
  }

  private loadHardState(hs: HardState): void {
    if (isEmptyHardState(hs)) return;
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new RangeError(
        `raft ${this.id}: hard state commit ${hs.commit} is outside [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
      );
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  voterIds(): readonly NodeId[] {
    return this.voters.voters;
  }

  confState(): ConfState {
    return { voters: [...this.voters.voters], learners: [...this.learners].sort((a, b) => a - b) };
  }

  transferee(): NodeId {
    return this.leadTransferee;
  }

  /** Every member but us: who gets appends and heartbeats. */
  private peers(): NodeId[] {
    return [...this.voters.voters, ...this.learners].filter((id) => id !== this.id);
  }

  progressOf(id: NodeId): Progress | undefined {
    return this.prs.get(id);
  }

  private promotable(): boolean {
    return this.voters.voters.includes(this.id);
  }

  // ---- role changes -------------------------------------------------------------

  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.rng.intBetween(this.cfg.electionTick, 2 * this.cfg.electionTick);
    this.votes.clear();
    this.prs = new Map();
    const last = this.raftLog.lastIndex();
    for (const id of [...this.voters.voters, ...this.learners]) {
      const pr = new Progress(last + 1, this.cfg.maxInflightMsgs);
      if (id === this.id) pr.match = last;
      this.prs.set(id, pr);
    }
    this.readOnly.reset();
    this.pendingReadIndex = [];
    this.leadTransferee = NONE;
  }

  becomeFollower(term: Term, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
    this.logger.debug('became follower', { id: this.id, term, lead });
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') throw new Error('invalid transition leader -> preCandidate');
    // Neither the term nor the vote changes: a pre-election is only a question.
    this.votes.clear();
    this.lead = NONE;
    this.role = 'preCandidate';
    this.logger.debug('became pre-candidate', { id: this.id, term: this.term });
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') throw new Error('invalid transition leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.logger.debug('became candidate', { id: this.id, term: this.term });
  }

  private becomeLeader(): void {
    if (this.role === 'follower') throw new Error('invalid transition follower -> leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.prs.get(this.id)?.becomeReplicate();
    // The uncommitted tail may hold a conf change: allow no new one until all of it applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // A no-op of the new term lets the leader commit (and learn the commit index of)
    // everything before it; ReadIndex waits for it (thesis §6.4).
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY }]);
    this.logger.info('became leader', { id: this.id, term: this.term, lastIndex: this.raftLog.lastIndex() });
  }

  // ---- ticks --------------------------------------------------------------------

  tick(): void {
    if (this.ticksSinceStart < this.cfg.electionTick) this.ticksSinceStart++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step({ type: 'MsgHup', from: this.id, to: this.id, term: 0 });
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step({ type: 'MsgCheckQuorum', from: this.id, to: this.id, term: 0 });
      // A transfer that did not finish within an election timeout is given up (a leader
      // that is no longer a voter tries again, perhaps with another voter).
      if (this.role === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer('timed out');
      if (this.role === 'leader' && !this.voters.voters.includes(this.id)) this.handOffLeadership();
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step({ type: 'MsgBeat', from: this.id, to: this.id, term: 0 });
    }
  }

  // ---- elections ----------------------------------------------------------------

  private hup(): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) {
      // Stryker disable next-line StringLiteral, ObjectLiteral: log text only
      this.logger.warn('not a voter; ignoring campaign', { id: this.id });
      return;
    }
    if (this.unappliedConfChange()) return;
    // Stryker disable next-line StringLiteral: campaign() tells only 'preElection' and 'transfer' apart; any other kind is an election
    this.campaign(this.cfg.preVote ? 'preElection' : 'election');
  }

  /**
   * Whether a committed conf change waits to be applied here: until it is, this node's
   * configuration is older than the group's, and votes counted by it could make a second
   * leader in one term (a majority two changes back may share no voter with the newest).
   * The node campaigns at its next timeout, once the application has applied it.
   */
  private unappliedConfChange(): boolean {
    const { applied, committed } = this.raftLog;
    if (committed <= applied || this.cfg.faults.campaignWithUnappliedConfChange === true) return false;
    // Entries a restored snapshot covers are not in the log; its configuration is already ours.
    const from = Math.max(applied + 1, this.raftLog.firstIndex());
    if (from > committed || !this.raftLog.slice(from, committed + 1).some((e) => e.type === 'confChange')) return false;
    this.logger.warn('not campaigning: a committed configuration change is not applied yet', { id: this.id, applied, committed });
    return true;
  }

  private campaign(kind: CampaignKind): void {
    let type: 'MsgRequestPreVote' | 'MsgRequestVote';
    let term: Term;
    const transfer = kind === 'transfer';
    if (kind === 'preElection') {
      this.becomePreCandidate();
      type = 'MsgRequestPreVote';
      term = this.term + 1; // the term we would stand in
    } else {
      this.becomeCandidate();
      type = 'MsgRequestVote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter group wins at once.
      // Stryker disable next-line StringLiteral: campaign() tells only 'preElection' and 'transfer' apart; any other kind is an election
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const index = this.raftLog.lastIndex();
    const logTerm = this.raftLog.lastTerm();
    for (const to of this.voters.voters) {
      if (to !== this.id) this.send({ type, to, term, index, logTerm, ...(transfer ? { transfer: true } : {}) });
    }
  }

  private poll(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return this.voters.voteResult(this.votes);
  }

  private handleVoteRequest(m: MsgRequestVote): void {
    const preVote = m.type === 'MsgRequestPreVote';
    // We may vote for the same candidate again (a retransmit), for anyone if we have
    // neither voted nor heard of a leader this term, and in a pre-vote for a future term.
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (preVote && m.term > this.term);
    // Stryker disable next-line ConditionalExpression, BooleanLiteral: only disarms a deliberate-bug switch that is off outside tests (test/raft-sim's self-test shows the switch bites)
    const upToDate = this.cfg.faults.skipLogUpToDateCheck === true || this.raftLog.isUpToDate(m.index, m.logTerm);
    const respType = preVote ? 'MsgRequestPreVoteResponse' : 'MsgRequestVoteResponse';
    if (canVote && upToDate) {
      // The response carries the candidate's term so a pre-candidate can count it.
      this.send({ type: respType, to: m.from, term: m.term, reject: false });
      if (!preVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, reject: true });
    }
  }

  // ---- message entry point ------------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case 'MsgHup':
        this.hup();
        return;
      case 'MsgTimeoutNow':
        this.handleTimeoutNow(m.from);
        return;
      case 'MsgRequestVote':
      case 'MsgRequestPreVote':
        this.handleVoteRequest(m);
        return;
      // Stryker disable next-line ConditionalExpression: the last case; without its break the switch ends the same
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
      // Stryker disable next-line BlockStatement, ConditionalExpression: unreachable, the role is one of the four cases above
      default: {
        const never: never = this.role;
        // Stryker disable next-line StringLiteral: unreachable, the role is one of the four cases above
        throw new Error(`unknown role ${String(never)}`);
      }
    }
  }

  /** Handles a message from a higher term; returns false if it should be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'MsgRequestVote' || m.type === 'MsgRequestPreVote') {
      // CheckQuorum's lease: while we hear from a live leader, a vote request is most
      // likely from a node that was cut off; ignoring it keeps the leader in place.
      // A transfer's election is the leader's own wish, so the lease does not hold it off.
      const bypass = m.transfer === true && this.cfg.faults.transferHeldOffByLease !== true;
      const heardLeader = this.lead !== NONE && this.electionElapsed < this.cfg.electionTick;
      const justStarted = this.cfg.leaseAfterStart && this.ticksSinceStart < this.cfg.electionTick;
      const inLease = this.cfg.checkQuorum && (heardLeader || justStarted) && !bypass;
      if (inLease) {
        // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
        this.logger.debug('ignoring vote request within lease', { id: this.id, from: m.from, term: m.term });
        return false;
      }
    }
    if (m.type === 'MsgRequestPreVote') return true; // a pre-vote never changes our term
    if (m.type === 'MsgRequestPreVoteResponse' && !m.reject) return true; // counted in our future term
    // Stryker disable next-line ConditionalExpression, LogicalOperator, StringLiteral: stepFollower sets lead = m.from for these three right after, so NONE here ends the same (variants naming any other sender lead are killed)
    const fromLeader = m.type === 'MsgAppend' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnapshot';
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgAppend')) {
      // A stale leader (e.g. one healed from a partition) learns our term and steps down.
      // Without this, with PreVote on, a node stuck at a higher term could never rejoin.
      // Stryker disable next-line BooleanLiteral: our higher term deposes the sender before it reads `reject`; at an equal term either answer about index 0 is stale news to it
      this.send({ type: 'MsgAppendResponse', to: m.from, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
    } else if (m.type === 'MsgRequestPreVote') {
      this.send({ type: 'MsgRequestPreVoteResponse', to: m.from, reject: true });
    }
    // Everything else from an older term is stale and ignored.
  }

  // ---- leader -------------------------------------------------------------------

  /** Appends a proposal to the leader's log and replicates it. */
  propose(entries: ReadonlyArray<Pick<Entry, 'type' | 'data'>>): { index: Index; term: Term } {
    if (this.role !== 'leader') throw new ProposalDroppedError(this.lead);
    // While handing over leadership, take nothing new: the transferee must catch up.
    if (this.leadTransferee !== NONE) throw new ProposalDroppedError(this.lead);
    if (entries.length === 0) throw new RangeError('propose: no entries');
    const changes = entries.filter((e) => e.type === 'confChange').length;
    if (changes > 0) {
      if (changes > 1) throw new ConfChangePendingError('one conf change per proposal');
      if (this.pendingConfIndex > this.raftLog.applied && this.cfg.faults.concurrentConfChanges !== true) {
        throw new ConfChangePendingError(`a conf change at index ${this.pendingConfIndex} is not applied yet (applied ${this.raftLog.applied})`);
      }
    }
    const first = this.raftLog.lastIndex() + 1;
    this.appendEntries(entries.map((e) => ({ term: 0, index: 0, type: e.type, data: e.data })));
    entries.forEach((e, i) => {
      if (e.type === 'confChange') this.pendingConfIndex = first + i;
    });
    this.bcastAppend();
    return { index: this.raftLog.lastIndex(), term: this.term };
  }

  /**
   * Proposes a membership change, checked against the configuration it will apply to (the
   * current one: no other change is pending). A leader never proposes its own removal:
   * it transfers leadership first, and the new leader removes it. (A removal that leaves
   * the group waiting on a vote only the removed node could give is avoided that way.)
   */
  proposeConfChange(cc: ConfChange, data: Uint8Array): { index: Index; term: Term } {
    if (this.role !== 'leader') throw new ProposalDroppedError(this.lead);
    if (cc.type === 'removeNode' && cc.nodeId === this.id && this.cfg.faults.removedLeaderStepsDownAtOnce !== true) {
      throw new ConfChangeError(`node ${this.id} leads: transfer leadership before removing it`);
    }
    nextConfState(this.confState(), cc); // throws ConfChangeError if it cannot apply
    return this.propose([{ type: 'confChange', data }]);
  }

  private appendEntries(ents: Entry[]): void {
    let index = this.raftLog.lastIndex();
    const stamped = ents.map((e) => ({ ...e, term: this.term, index: ++index }));
    this.raftLog.append(stamped);
    this.prs.get(this.id)?.maybeUpdate(this.raftLog.lastIndex());
    this.maybeCommit();
  }

  private maybeCommit(): boolean {
    // Stryker disable next-line EqualityOperator, ConditionalExpression: with no learners the config built has the same voters (it only drops the minorityQuorum fault, never combined with this one); other variants are killed
    const counted = this.cfg.faults.learnersCountInQuorum === true && this.learners.size > 0
      ? new MajorityConfig([...this.voters.voters, ...this.learners]) : this.voters;
    // Stryker disable next-line OptionalChaining: a leader holds a Progress for every voter and learner (reset() and applyConfChange create them), so get(id) is never undefined here
    const mci = counted.committedIndex((id) => this.prs.get(id)?.match);
    let committed: boolean;
    if (this.cfg.faults.commitPreviousTermByCount === true) {
      // Stryker disable next-line ConditionalExpression: mci <= lastIndex() always holds (the leader's own match is lastIndex() and no follower acknowledges past the leader's log), so its `true` variant is equivalent; the whole-`true`, left-`true` and `false` variants are killed (replication.test.ts)
      committed = mci > this.raftLog.committed && mci <= this.raftLog.lastIndex();
      // Stryker disable next-line ConditionalExpression: commitTo ignores an index at or below the commit index and mci never passes lastIndex(), so an unconditional call changes nothing (the `false` variant is killed)
      if (committed) this.raftLog.commitTo(mci);
    } else {
      committed = this.raftLog.maybeCommit(mci, this.term);
    }
    // Stryker disable next-line ConditionalExpression: releasePendingReadIndex checks for itself that an entry of this term is committed (the `false` variant is killed)
    if (committed) this.releasePendingReadIndex();
    return committed;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        for (const pr of this.prs.values()) pr.resendOnHeartbeat = true;
        this.bcastHeartbeat(this.readOnly.lastPendingContext() ?? EMPTY);
        return;
      case 'MsgCheckQuorum':
        this.checkQuorumActive();
        return;
      case 'MsgReadIndex':
        this.handleReadIndex(m);
        return;
      case 'MsgAppendResponse':
        this.handleAppendResponse(m);
        return;
      case 'MsgHeartbeatResponse':
        this.handleHeartbeatResponse(m);
        return;
      case 'MsgTransferLeader':
        this.handleTransferLeader(m);
        return;
      default:
        return; // votes of our own term we no longer need, stale responses
    }
  }

  // ---- leader transfer (thesis §3.10) --------------------------------------------

  private handleTransferLeader(m: MsgTransferLeader): void {
    const to = m.transferee;
    if (to === this.id) return; // already leading
    if (!this.voters.voters.includes(to)) {
      this.logger.warn('ignoring a leader transfer to a node that is not a voter', { id: this.id, transferee: to });
      return;
    }
    if (this.leadTransferee === to) return; // under way
    if (this.leadTransferee !== NONE) this.abortLeaderTransfer(`superseded by a transfer to ${to}`);
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer has one election timeout to finish
    this.logger.info('transferring leadership', { id: this.id, term: this.term, transferee: to });
    const pr = this.prs.get(to)!;
    if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
  }

  /** A leader that is no longer a voter transfers leadership to the voter furthest along. */
  private handOffLeadership(): void {
    if (this.leadTransferee !== NONE) return;
    let best: NodeId = NONE;
    let bestMatch = -1;
    for (const id of this.voters.voters) {
      const m = this.prs.get(id)?.match ?? 0;
      if (m > bestMatch) {
        best = id;
        bestMatch = m;
      }
    }
    if (best === NONE) return;
    this.logger.info('no longer a voter; handing leadership over', { id: this.id, term: this.term, to: best });
    this.handleTransferLeader({ type: 'MsgTransferLeader', from: this.id, to: this.id, term: 0, transferee: best });
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'MsgTimeoutNow', to });
  }

  private abortLeaderTransfer(why: string): void {
    this.logger.info('leader transfer given up', { id: this.id, transferee: this.leadTransferee, why });
    this.leadTransferee = NONE;
  }

  /** The leader asks us to campaign at once: we are up to date, so we should win. */
  private handleTimeoutNow(from: NodeId): void {
    if (this.role === 'leader' || !this.promotable()) {
      this.logger.debug('ignoring MsgTimeoutNow', { id: this.id, from, role: this.role });
      return;
    }
    // A transfer's election is not held back by an unapplied conf change (unlike one on a
    // timeout): the leader asked for it and the transferee's log matches its own; a removed
    // leader's hand-over depends on it.
    this.logger.info('campaigning on the leader\'s request', { id: this.id, term: this.term, from });
    this.campaign('transfer');
  }

  // ---- membership ----------------------------------------------------------------

  /**
   * Applies a committed conf change: the configuration in force changes now. Throws
   * ConfChangeError, changing nothing, if it does not apply to the current configuration.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const next = nextConfState(this.confState(), cc);
    this.voters = new MajorityConfig(next.voters, this.cfg.faults.minorityQuorum);
    this.learners = new Set(next.learners);
    const last = this.raftLog.lastIndex();
    for (const id of [...next.voters, ...(next.learners ?? [])]) {
      if (this.prs.has(id)) continue;
      const pr = new Progress(last + 1, this.cfg.maxInflightMsgs);
      // A new member counts as heard from, so CheckQuorum gives it a timeout to answer.
      pr.recentActive = true;
      this.prs.set(id, pr);
    }
    for (const id of [...this.prs.keys()]) if (!isMember(next, id)) this.prs.delete(id);
    this.logger.info('configuration changed', { id: this.id, change: cc, voters: next.voters, learners: next.learners });
    if ((this.role === 'candidate' || this.role === 'preCandidate') && !next.voters.includes(this.id)) {
      // Campaigning (say on a leader's MsgTimeoutNow sent before our removal) as a non-voter.
      this.becomeFollower(this.term, NONE);
      return next;
    }
    if (this.role !== 'leader') return next;
    if (this.leadTransferee !== NONE && !next.voters.includes(this.leadTransferee)) this.abortLeaderTransfer('transferee removed');
    if (!next.voters.includes(this.id)) {
      // Removed. Stepping down at once could leave the group without a leader for good: a
      // voter that has not heard that the change committed still counts us, and our log
      // (with entries it lacks) makes us refuse it our vote. So we go on leading, take no
      // proposals, and hand over to the most up-to-date voter, which learns the commit
      // index from us first; the transfer's election then deposes us.
      if (this.cfg.faults.removedLeaderStepsDownAtOnce === true) {
        this.becomeFollower(this.term, NONE);
        return next;
      }
      this.handOffLeadership();
      if (this.maybeCommit()) this.bcastAppend();
      return next;
    }
    // A smaller quorum may commit more; new members need the log.
    if (this.maybeCommit()) this.bcastAppend();
    else for (const id of this.peers()) if (this.prs.get(id)!.match === 0) this.sendAppend(id);
    return next;
  }

  private checkQuorumActive(): void {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.prs) active.set(id, id === this.id || pr.recentActive);
    for (const [id, pr] of this.prs) pr.recentActive = id === this.id;
    if (this.voters.voteResult(active) !== 'won') {
      this.logger.warn('stepping down: cannot hear from a quorum', { id: this.id, term: this.term });
      this.becomeFollower(this.term, NONE);
    }
  }

  private handleAppendResponse(m: MsgAppendResponse): void {
    const pr = this.prs.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.reject) {
      // Fast backtracking: skip past every entry of terms the follower cannot match.
      const hint = m.logTerm > 0 ? this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
      const outcome = pr.maybeDecrTo(m.index, hint, this.cfg.faults.unpacedProbes === true);
      if (outcome === 'stale') return;
      // Stryker disable next-line ConditionalExpression, EqualityOperator, StringLiteral, BlockStatement: decides only whether to log a warning
      if (outcome === 'lostLog') {
        // Stryker disable next-line StringLiteral, ObjectLiteral: log text only
        this.logger.warn('follower rejected an index it had acknowledged; probing it from its hint', {
          id: this.id, follower: m.from, rejected: m.index, hint,
        });
      }
      if (pr.state === 'replicate') pr.becomeProbe();
      this.sendAppend(m.from);
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) {
      if (this.cfg.faults.resendOnStaleAck === true) this.sendAppend(m.from);
      return;
    }
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.raftLog.firstIndex()) {
      // The follower installed a snapshot (ours or a newer one); the log covers it again.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (
      // Stryker disable next-line ConditionalExpression: otherwise reached only in snapshot state, whose inflights are empty (becomeSnapshot resets them, sentEntries adds none), so freeLE changes nothing (the `false` variant is killed)
      pr.state === 'replicate'
    ) {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else if (wasPaused) {
      this.sendAppend(m.from);
    }
    // Stream whatever else the window allows.
    while (this.maybeSendAppend(m.from, false)) { /* keep sending */ }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: MsgHeartbeatResponse): void {
    const pr = this.prs.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (pr.resendOnHeartbeat || this.cfg.faults.unpacedHeartbeatResends === true) {
      // Once per heartbeat interval: resend what may have been lost.
      pr.resendOnHeartbeat = false;
      pr.probeSent = false;
      // If every in-flight append was lost, free a slot so replication can resume.
      // Stryker disable next-line ConditionalExpression: outside replicate state the inflights are empty (resetState clears them, sentEntries adds only in replicate), so full() alone decides the same; the `true` and `false` variants are killed
      if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
      if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
    }
    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks) return;
    const votes = new Map<NodeId, boolean>();
    for (const id of acks) votes.set(id, true);
    if (this.voters.voteResult(votes) !== 'won') return;
    for (const req of this.readOnly.advance(m.context)) {
      this.respondToRead(req.from, req.index, req.context);
    }
  }

  private handleReadIndex(m: MsgReadIndex): void {
    if (!this.voters.voters.includes(this.id)) {
      // A removed leader, handing over: another leader may already be serving writes in a
      // newer term, and no quorum of the new configuration answers for us. Dropped; the
      // client asks again (and finds the new leader).
      // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
      this.logger.debug('not a voter; dropping read index', { id: this.id });
      return;
    }
    if (this.voters.quorum() <= 1) {
      this.respondToRead(m.from, this.raftLog.committed, m.context);
      return;
    }
    if (!this.committedEntryInCurrentTerm()) {
      // Our commit index may lag the true one until our no-op commits.
      this.pendingReadIndex.push(m);
      return;
    }
    if (this.readOnly.add(m.context, m.from, this.raftLog.committed, this.id)) {
      this.bcastHeartbeat(m.context);
    }
  }

  private releasePendingReadIndex(): void {
    // Stryker disable next-line ConditionalExpression, LogicalOperator: called only once an entry of this term committed, and an empty list loops zero times (variants that never release are killed)
    if (this.pendingReadIndex.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndex;
    this.pendingReadIndex = [];
    for (const m of pending) this.handleReadIndex(m);
  }

  private respondToRead(from: NodeId, index: Index, context: Uint8Array): void {
    // Stryker disable next-line ConditionalExpression: no read arrives from NONE (RawNode.readIndex and forwarding set from), so dropping that test changes nothing (other variants are killed)
    if (from === this.id || from === NONE) {
      this.readStates.push({ index, context });
    } else {
      this.send({ type: 'MsgReadIndexResponse', to: from, index, context });
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the next append to `to` if its progress allows — or a snapshot, if the entries
   * it needs are compacted away; returns whether it sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: Term;
    let entries: Entry[];
    try {
      prevTerm = this.raftLog.term(prevIndex);
      entries = this.raftLog.entriesFrom(pr.next, this.cfg.maxSizePerMsg);
    } catch (e) {
      if (e instanceof CompactedError) return this.maybeSendSnapshot(to, pr);
      throw e;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    const joined = this.sendAppendMessage({ type: 'MsgAppend', to, index: prevIndex, logTerm: prevTerm, entries, commit: this.raftLog.committed });
    const last = entries.length > 0 ? entries[entries.length - 1]!.index : prevIndex;
    if (joined) pr.sentMoreEntries(last);
    else pr.sentEntries(last, entries.length);
    return true;
  }

  /**
   * The follower needs entries we compacted: send the storage's snapshot instead. Only to
   * a follower heard from recently (a snapshot to a dead node is wasted work), and not
   * while the storage is still generating one (we ask again on the next attempt).
   */
  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
      this.logger.debug('not sending a snapshot to a follower not recently active', { id: this.id, to });
      // Stryker disable next-line BooleanLiteral: only handleAppendResponse's streaming loop reads the answer, and it has just marked that follower recently active, so it never gets this one
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (e) {
      if (e instanceof SnapshotTemporarilyUnavailableError) {
        // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
        this.logger.debug('snapshot temporarily unavailable', { id: this.id, to });
        return false;
      }
      throw e;
    }
    const { index, term } = snapshot.metadata;
    if (index < this.raftLog.firstIndex() - 1) {
      throw new RaftInvariantError(`storage snapshot ${index}/t${term} is older than the compacted log (first index ${this.raftLog.firstIndex()})`);
    }
    this.send({ type: 'MsgSnapshot', to, snapshot });
    pr.becomeSnapshot(index);
    // Stryker disable next-line StringLiteral, ObjectLiteral: log text only
    this.logger.info('sent snapshot', { id: this.id, to, index, term, match: pr.match });
    // Stryker disable next-line BooleanLiteral: only handleAppendResponse's streaming loop reads the answer, and the follower is now in snapshot state (paused), so the loop's next call would end it anyway
    return true;
  }

  /**
   * The application's report on a snapshot sent to `from`: delivered ('finish') or lost
   * ('failure'). Either way the follower goes back to probing, paced by the next heartbeat
   * response, so a failure costs one heartbeat interval rather than a resend loop.
   */
  handleSnapshotStatus(from: NodeId, failed: boolean): void {
    // Stryker disable next-line ConditionalExpression: a non-leader's progresses are all fresh probes (reset on every role change), so the state check below returns anyway (the `true` variant is killed)
    if (this.role !== 'leader') return;
    const pr = this.prs.get(from);
    if (!pr || pr.state !== 'snapshot') return;
    if (failed) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true;
    // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
    this.logger.debug('snapshot status', { id: this.id, to: from, failed, next: pr.next });
  }

  private bcastAppend(): void {
    for (const id of this.peers()) this.sendAppend(id);
  }

  private bcastHeartbeat(context: Uint8Array): void {
    for (const id of this.peers()) {
      const pr = this.prs.get(id);
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr?.match ?? 0, this.raftLog.committed);
      this.send({ type: 'MsgHeartbeat', to: id, commit, context });
    }
  }

  // ---- candidate ----------------------------------------------------------------

  private stepCandidate(m: Message): void {
    const myResponse = this.role === 'preCandidate' ? 'MsgRequestPreVoteResponse' : 'MsgRequestVoteResponse';
    switch (m.type) {
      case 'MsgAppend':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgRequestVoteResponse':
      case 'MsgRequestPreVoteResponse': {
        if (m.type !== myResponse) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          // Stryker disable next-line StringLiteral: campaign() tells only 'preElection' and 'transfer' apart; any other kind is an election
          if (this.role === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      // Stryker disable next-line ConditionalExpression: the last case; its body is the end of the function anyway
      default:
        return; // no leader to forward reads to; proposals are refused by propose()
    }
  }

  // ---- follower -----------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgAppend':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgReadIndex':
        this.forwardToLeader('read index', (to) => ({ type: 'MsgReadIndex', to, context: m.context }));
        return;
      case 'MsgReadIndexResponse':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'MsgTransferLeader':
        this.forwardToLeader('leader transfer', (to) => ({ type: 'MsgTransferLeader', to, transferee: m.transferee }));
        return;
      default:
        return;
    }
  }

  /** A follower passes a request on to the leader it knows; without one it is dropped (the caller retries). */
  private forwardToLeader(what: string, build: (lead: NodeId) => Outgoing): void {
    if (this.lead === NONE) {
      this.logger.debug(`no leader; dropping ${what}`, { id: this.id });
      return;
    }
    this.send(build(this.lead));
  }

  private handleAppend(m: MsgAppend): void {
    if (m.index < this.raftLog.committed) {
      this.send({ type: 'MsgAppendResponse', to: m.from, index: this.raftLog.committed, reject: false, rejectHint: 0, logTerm: 0 });
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ type: 'MsgAppendResponse', to: m.from, index: lastNew, reject: false, rejectHint: 0, logTerm: 0 });
      return;
    }
    // Tell the leader where our log might match, so it can skip whole terms at once.
    // Stryker disable next-line MethodExpression: findConflictByTerm clamps the index to lastIndex() itself
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send({ type: 'MsgAppendResponse', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  /**
   * A snapshot from the leader. Answered like an append: accepted at our new last index if
   * we restored it, otherwise at our commit index (which the leader takes as old news).
   */
  private handleSnapshot(m: MsgSnapshot): void {
    const { index, term } = m.snapshot.metadata;
    if (this.restore(m.snapshot)) {
      this.send({ type: 'MsgAppendResponse', to: m.from, index: this.raftLog.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 });
    } else {
      // Stryker disable next-line StringLiteral, ObjectLiteral: debug log text only
      this.logger.debug('ignored snapshot', { id: this.id, index, term, committed: this.raftLog.committed });
      this.send({ type: 'MsgAppendResponse', to: m.from, index: this.raftLog.committed, reject: false, rejectHint: 0, logTerm: 0 });
    }
  }

  /**
   * Replaces our log with the snapshot if it brings news. Not if it is at or below our
   * commit index (restoring it would roll committed state back), nor if our log already
   * holds its (index, term): then our log agrees with it up to there, so we only learn that
   * it is committed, and keep the entries after it, which we may have acknowledged.
   */
  private restore(s: Snapshot): boolean {
    const { index, term, confState } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    if (!isMember(confState, this.id)) {
      // Stryker disable next-line StringLiteral, ObjectLiteral: log text only
      this.logger.warn('ignoring a snapshot whose configuration does not include us', { id: this.id, index, voters: confState.voters });
      return false;
    }
    if (this.raftLog.matchTerm(index, term) && this.cfg.faults.restoreOverMatchingLog !== true) {
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    this.voters = new MajorityConfig(confState.voters, this.cfg.faults.minorityQuorum);
    this.learners = new Set(confState.learners ?? []);
    // Stryker disable next-line BooleanLiteral: after raftLog.restore the commit index and the last index are both the snapshot's index, so handleSnapshot's two answers coincide (only its debug log differs)
    return true;
  }

  private handleHeartbeat(m: MsgHeartbeat): void {
    this.raftLog.commitTo(m.commit);
    this.send({ type: 'MsgHeartbeatResponse', to: m.from, context: m.context });
  }

  // ---- output -------------------------------------------------------------------

  // Two messages of one Ready to one peer that say one thing in two parts leave as one:
  // appends where the second continues the first (sendAppendMessage), and acknowledgements
  // (ackMerged). Under load a leader otherwise sends one append per proposal to each
  // follower, and each draws its own answer: the messages, not the entries, are what cost
  // the stores their CPU.

  private send(m: Outgoing): void {
    const msg = { ...m, from: this.id, term: m.term ?? this.term } as Message;
    if (msg.type === 'MsgAppendResponse' && this.ackMerged(msg)) return;
    this.msgs.push(msg);
  }

  /** Where in the pending messages the last one to `to` sits (-1: none). */
  private lastPendingTo(to: NodeId): number {
    let i = this.msgs.length - 1;
    while (i >= 0 && this.msgs[i]!.to !== to) i--;
    return i;
  }

  /**
   * Sends an append, joined to the previous message to the same follower if that is an
   * append of this term the new one continues (entries joined, the later commit index).
   * Returns whether the entries joined a message that already carried some: it keeps its
   * one slot in the follower's inflights window.
   */
  private sendAppendMessage(m: Omit<MsgAppend, 'from' | 'term'>): boolean {
    const i = this.lastPendingTo(m.to);
    const prev = i < 0 ? undefined : this.msgs[i]!;
    if (
      prev?.type === 'MsgAppend' && prev.term === this.term &&
      // Only a continuation: after a rejection the leader backs up and sends from earlier.
      (prev.index + prev.entries.length === m.index || this.cfg.faults.mergeAppendsBlindly === true) &&
      (prev.entries.length === 0 || m.entries.length === 0 || entriesSize(prev.entries) + entriesSize(m.entries) <= this.cfg.maxSizePerMsg)
    ) {
      const entries = prev.entries.length === 0 ? m.entries : m.entries.length === 0 ? prev.entries : [...prev.entries, ...m.entries];
      this.msgs[i] = { ...prev, entries, commit: Math.max(prev.commit, m.commit) };
      return prev.entries.length > 0 && m.entries.length > 0;
    }
    this.send(m);
    return false;
  }

  /** An acknowledgement replaces an older one still pending to the same leader. */
  private ackMerged(m: MsgAppendResponse): boolean {
    const i = this.lastPendingTo(m.to);
    const prev = i < 0 ? undefined : this.msgs[i]!;
    // A rejection carries a hint the leader needs; an older acknowledgement says less.
    if (prev?.type !== 'MsgAppendResponse' || prev.term !== m.term || prev.reject || m.reject || m.index < prev.index) return false;
    this.msgs[i] = m;
    return true;
  }
}
