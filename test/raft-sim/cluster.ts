// A simulated Raft group: N RawNodes, each over a MemoryStorage that stands for its
// disk. Handling a node's Ready follows the contract in order — append entries and set
// the hard state in storage (the fsync), hand messages to the network, apply committed
// entries to the node's state machine, advance — and tells the SafetyChecker about each
// stage. A crash drops the RawNode and its state machine but keeps the storage; a
// restart builds a new RawNode over the same storage, with applied 0, and an empty state
// machine that applies the log again. Only RawNode's public API is used.
//
// Snapshots: compact() snapshots a node's state machine at a point it applied and drops
// the log up to it; a Ready's snapshot is installed before its entries are persisted, and
// replaces the state machine when the Ready is applied. The sender of a MsgSnapshot hears
// whether it arrived (reportSnapshot), as from a real transport; a restarted node's state
// machine starts from its storage's snapshot.
//
// Membership: nodes beyond the initial voters start empty, members of nothing, until a
// conf change adds them and a snapshot reaches them. Applying a conf change records the
// node's new configuration and a snapshot at that point (so a newcomer gets one that
// names it); compaction snapshots carry the configuration in force at their index.

import type { ConfChange, ConfState, Entry, Message, NodeId, Ready, Snapshot, StateRole, Term } from '../../src/raft/index.js';
import type { FaultInjection } from '../../src/raft/testing/index.js';
import { sendableBeforePersist } from '../../src/raft/index.js';
import {
  ConfChangeError, decodeConfChange, isMember, MemoryStorage, ProposalDroppedError, RawNode, seededRng,
} from '../../src/raft/index.js';
import { SimViolation } from './invariants.js';
import type { SafetyChecker } from './invariants.js';
import { SnapshotRegistry } from './snapshots.js';
import type { SimNetwork } from './network.js';
import { showBytes } from './trace.js';
import type { Trace } from './trace.js';

/** Where a bootstrapped group's log starts (TinyKV's RAFT_INIT_LOG_INDEX/TERM). */
export const INIT_INDEX = 5;
export const INIT_TERM = 5;

const utf8 = new TextEncoder();

/** The Raft settings every node of a run shares. */
export interface NodeSetup {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly faults: FaultInjection;
}

export interface ClusterOptions {
  /** Every node; those not in initialVoters start empty. */
  readonly ids: readonly NodeId[];
  readonly initialVoters: readonly NodeId[];
  /** Seeds each node's own RNG (per node and per life), so election timeouts vary. */
  readonly seed: number;
  readonly setup: NodeSetup;
  readonly net: SimNetwork;
  readonly trace: Trace;
  readonly checker: SafetyChecker;
  /**
   * Consulted after each Ready is persisted; true kills the node right there, before it
   * sends or applies anything (the schedule uses it to crash leaders as they commit).
   */
  readonly crashPoint?: (id: NodeId, rd: Ready) => boolean;
}

export interface LeaderView {
  readonly id: NodeId;
  readonly term: Term;
}

/** A well-mixed 32-bit seed from a few small integers. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

export class SimCluster {
  readonly ids: readonly NodeId[];
  /** Each node's durable state; survives crashes. */
  readonly storages = new Map<NodeId, MemoryStorage>();
  /** Each live node's state machine: what its current life has applied, in order. */
  readonly applied = new Map<NodeId, Entry[]>();
  /** Counters for the run summary. */
  crashes = 0;
  proposals = 0;
  readStates = 0;
  compactions = 0;
  snapshotsInstalled = 0;
  confChanges = 0;
  transfers = 0;
  /** Per node, the configurations its current life went through (index where each took effect). */
  readonly confHistory = new Map<NodeId, Array<{ index: number; confState: ConfState }>>();
  /** Conf changes each leader proposed in each term (index), for the one-at-a-time check. */
  private readonly confProposals = new Map<string, number[]>();
  /** Per node: a conf change applied in the Ready being handled, to compact to once it is advanced. */
  private readonly compactAfterReady = new Map<NodeId, number>();
  /** A leader's Ready whose appends went out before it was persisted: finished on the node's next turn. */
  private readonly pendingReady = new Map<NodeId, { rd: Ready; early: Message[] }>();
  /** Per node, how many of its Readies could send appends early (see handleReady). */
  private readonly earlyReadies = new Map<NodeId, number>();
  /** Per (leader, term): the commit index already checked against the voters in force. */
  private readonly commitChecked = new Map<string, number>();
  readonly snapshots = new SnapshotRegistry();
  private readonly nodes = new Map<NodeId, RawNode>();
  private readonly lives = new Map<NodeId, number>();
  /** Last role and term seen per live node, to trace changes. */
  private readonly seen = new Map<NodeId, { role: StateRole; term: Term }>();

  constructor(private readonly opts: ClusterOptions) {
    this.ids = opts.ids;
    for (const id of opts.ids) {
      const voter = opts.initialVoters.includes(id);
      this.storages.set(id, voter ? new MemoryStorage(opts.initialVoters, INIT_INDEX, INIT_TERM) : new MemoryStorage());
      this.lives.set(id, 0);
      this.start(id);
    }
  }

  private start(id: NodeId): void {
    const s = this.opts.setup;
    const life = this.lives.get(id)!;
    const node = this.guard(id, () => new RawNode({
      id, storage: this.storages.get(id)!, applied: 0,
      electionTick: s.electionTick, heartbeatTick: s.heartbeatTick, preVote: s.preVote, checkQuorum: s.checkQuorum,
      maxSizePerMsg: s.maxSizePerMsg, maxInflightMsgs: s.maxInflightMsgs, faults: s.faults,
      rng: seededRng(mixSeed(this.opts.seed, id, life)),
    }));
    this.nodes.set(id, node);
    const snap = this.storages.get(id)!.storedSnapshot.metadata;
    this.confHistory.set(id, [{ index: snap.index, confState: snap.confState }]);
    // The state machine comes back from the snapshot; the log after it is applied again.
    this.applied.set(id, this.snapshots.contentOf(this.storages.get(id)!.storedSnapshot).slice());
    this.opts.checker.onRestart(id, this.storages.get(id)!);
    this.observe(id);
  }

  isUp(id: NodeId): boolean {
    return this.nodes.has(id);
  }

  upIds(): NodeId[] {
    return this.ids.filter((id) => this.nodes.has(id));
  }

  downIds(): NodeId[] {
    return this.ids.filter((id) => !this.nodes.has(id));
  }

  node(id: NodeId): RawNode | undefined {
    return this.nodes.get(id);
  }

  // ---- inputs -----------------------------------------------------------------

  tick(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n) return;
    this.guard(id, () => n.tick());
    this.observe(id);
  }

  tickAll(): void {
    for (const id of this.upIds()) this.tick(id);
  }

  campaign(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n) return;
    this.opts.trace.record({ k: 'campaign', node: id });
    this.guard(id, () => n.campaign());
    this.observe(id);
  }

  /** Delivers a message, unless a partition or a crash stands in the way. */
  deliver(m: Message): void {
    const why = this.opts.net.blocked(m, (id) => this.nodes.has(id));
    if (why) {
      this.opts.trace.record({ k: 'drop', m, why });
      this.onLost(m);
      return;
    }
    this.opts.trace.record({ k: 'deliver', m });
    if (m.type === 'MsgSnapshot') this.reportSnapshot(m, 'finish');
    this.guard(m.to, () => this.nodes.get(m.to)!.step(m));
    this.observe(m.to);
  }

  /** The network lost `m` (dropped, cut off, overflowed); a snapshot's sender is told. */
  onLost(m: Message): void {
    if (m.type === 'MsgSnapshot') this.reportSnapshot(m, 'failure');
  }

  private reportSnapshot(m: Message, status: 'finish' | 'failure'): void {
    const sender = this.nodes.get(m.from);
    if (!sender) return;
    this.guard(m.from, () => sender.reportSnapshot(m.to, status));
    this.observe(m.from);
  }

  /**
   * Snapshots node `id`'s state machine at `index` (at most what it applied) and
   * compacts its log up to there. `busy`: the storage then answers "temporarily
   * unavailable" when asked for a snapshot, until the next compaction or heal.
   */
  compact(id: NodeId, index: number, busy: boolean): void {
    const n = this.nodes.get(id);
    const st = this.storages.get(id)!;
    if (!n || index <= st.firstIndex() - 1 || index > n.status().applied) return;
    const sm = this.applied.get(id)!;
    st.createSnapshot(index, this.confAt(id, index), this.snapshots.register(sm.filter((e) => e.index <= index)));
    st.compact(index);
    st.snapshotUnavailable = busy;
    this.compactions++;
    this.opts.trace.record({ k: 'note', text: `n${id} compacts to ${index}${busy ? ' (snapshot busy)' : ''}` });
  }

  /** The configuration node `id` had in force at `index` (of what its life applied). */
  confAt(id: NodeId, index: number): ConfState {
    const h = this.confHistory.get(id)!;
    for (let i = h.length - 1; i >= 0; i--) if (h[i]!.index <= index) return h[i]!.confState;
    throw new SimViolation('simulator error', `n${id} has no configuration at ${index}`);
  }

  /** The configuration a live node has in force, or its last one if it is down. */
  confOf(id: NodeId): ConfState {
    const n = this.nodes.get(id);
    if (n) return n.confState();
    const h = this.confHistory.get(id)!;
    return h[h.length - 1]!.confState;
  }

  /**
   * Proposes a membership change on `leader`. The check that a leader takes one only when
   * every conf change in its log is applied: the durable log above its applied index, and
   * the changes it proposed this term (which may not be durable yet).
   */
  proposeConfChange(leader: NodeId, cc: ConfChange): void {
    const n = this.nodes.get(leader);
    if (!n) return;
    const { applied, term, lastIndex } = n.status();
    const st = this.storages.get(leader)!;
    const lo = Math.max(applied + 1, st.firstIndex());
    const pendingDurable = lo <= st.lastIndex() ? st.entries(lo, st.lastIndex() + 1).filter((e) => e.type === 'confChange').map((e) => e.index) : [];
    const k = `${leader}:${term}`;
    const pendingOwn = (this.confProposals.get(k) ?? []).filter((i) => i > applied && i <= lastIndex);
    const r = this.guard(leader, () => {
      try {
        return n.proposeConfChange(cc);
      } catch (e) {
        if (e instanceof ProposalDroppedError || e instanceof ConfChangeError) return undefined;
        throw e;
      }
    });
    this.opts.trace.record({ k: 'note', text: `n${leader} proposes ${cc.type} ${cc.nodeId}: ${r ? `at ${r.index}` : 'refused'}` });
    if (!r) return;
    const pending = [...new Set([...pendingDurable, ...pendingOwn])].filter((i) => i < r.index);
    if (pending.length > 0) {
      throw new SimViolation('membership',
        `leader n${leader} of t${term} appended conf change ${cc.type} ${cc.nodeId} at ${r.index} while the one at ${pending.join(', ')} was not applied (applied ${applied})`);
    }
    this.confProposals.set(k, [...(this.confProposals.get(k) ?? []), r.index]);
    this.confChanges++;
    this.observe(leader);
  }

  transferLeader(leader: NodeId, to: NodeId): void {
    const n = this.nodes.get(leader);
    if (!n) return;
    this.opts.trace.record({ k: 'note', text: `n${leader} asked to transfer leadership to n${to}` });
    this.guard(leader, () => n.transferLeader(to));
    this.transfers++;
    this.observe(leader);
  }

  /** Every storage answers snapshot() again. */
  snapshotsAvailable(): void {
    for (const st of this.storages.values()) st.snapshotUnavailable = false;
  }

  /** Proposes `data` on node `id`; returns its position, or undefined if not the leader. */
  propose(id: NodeId, data: string): { index: number; term: Term } | undefined {
    const n = this.nodes.get(id);
    if (!n) return undefined;
    const r = this.guard(id, () => {
      try {
        return n.propose(utf8.encode(data));
      } catch (e) {
        if (e instanceof ProposalDroppedError) return undefined;
        throw e;
      }
    });
    if (r) {
      this.proposals++;
      this.opts.checker.onProposed(data, r.index, r.term);
      this.opts.trace.record({ k: 'propose', node: id, data, index: r.index, term: r.term });
    }
    // A single voter commits its proposal at once: check it under the configuration in force now.
    this.observe(id);
    return r;
  }

  readIndex(id: NodeId, ctx: string): void {
    const n = this.nodes.get(id);
    if (!n) return;
    const floor = this.opts.checker.onReadIndex(id, ctx, this.opts.trace.step);
    this.opts.trace.record({ k: 'read', node: id, ctx, floor });
    this.guard(id, () => n.readIndex(utf8.encode(ctx)));
    this.observe(id);
  }

  // ---- crash and restart -------------------------------------------------------

  /** Members per the configuration of the live leader of the newest term (undefined: no leader). */
  currentMembers(): NodeId[] | undefined {
    const newest = this.leaders().reduce<LeaderView | undefined>((a, l) => (!a || l.term > a.term ? l : a), undefined);
    if (!newest) return undefined;
    const cs = this.nodes.get(newest.id)!.confState();
    return this.ids.filter((id) => isMember(cs, id));
  }

  /**
   * Kills a node: its RawNode, unpersisted entries, unsent messages and state machine
   * are gone. With `midReady`, it dies after persisting a pending Ready, before sending.
   */
  crash(id: NodeId, midReady: boolean): void {
    const n = this.nodes.get(id);
    if (!n) return;
    const mid = midReady && n.hasReady();
    if (mid) this.persist(id, this.guard(id, () => n.ready()));
    this.kill(id, mid);
  }

  private kill(id: NodeId, midReady: boolean): void {
    this.opts.trace.record({ k: 'crash', node: id, midReady });
    this.nodes.delete(id);
    this.pendingReady.delete(id);
    this.applied.delete(id);
    this.seen.delete(id);
    this.compactAfterReady.delete(id);
    this.crashes++;
  }

  restart(id: NodeId): void {
    if (this.nodes.has(id)) return;
    this.lives.set(id, this.lives.get(id)! + 1);
    this.opts.trace.record({ k: 'restart', node: id });
    this.start(id);
  }

  // ---- Ready ------------------------------------------------------------------

  /**
   * Handles every Ready node `id` has: persist, send, apply, advance. A leader sends its
   * appends before it persists them, as the raftstore does, and that Ready then stays
   * outstanding until the node's next turn: answers may reach it meanwhile (a real leader
   * steps them while its fsync runs), and a crash may strike before the entries are on
   * its disk.
   */
  handleReady(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n) return;
    const pending = this.pendingReady.get(id);
    if (pending) {
      this.pendingReady.delete(id);
      if (!this.finishReady(id, n, pending.rd, pending.early)) return;
    }
    for (let rounds = 0; this.guard(id, () => n.hasReady()); rounds++) {
      if (rounds > 100) throw new SimViolation('core exception', `n${id} still hasReady() after 100 Ready rounds`);
      const rd = this.guard(id, () => n.ready());
      // Leaders' Readies that could send appends early take turns between three orders, all
      // allowed: written before anything is sent (the crash window of Figure 8: a leader
      // dies with an entry nobody heard of); appends sent, then written at once; appends
      // sent and the write finished on the node's next turn (answers may arrive first).
      const persistedTerm = this.storages.get(id)!.initialState().hardState.term;
      let early = rd.messages.filter((m) => sendableBeforePersist(m, rd, persistedTerm));
      if (early.length > 0) {
        const turn = (this.earlyReadies.get(id) ?? 0) + 1;
        this.earlyReadies.set(id, turn);
        if (turn % 3 === 0) {
          early = [];
        } else {
          for (const m of early) this.opts.net.send(m);
          if (turn % 3 === 2) {
            this.pendingReady.set(id, { rd, early });
            return;
          }
        }
      }
      if (!this.finishReady(id, n, rd, early)) return;
    }
  }

  /** persist → send (what was not sent early) → apply → advance; false if the node crashed. */
  private finishReady(id: NodeId, n: RawNode, rd: Ready, early: readonly Message[]): boolean {
    if (early.length > 0 && this.opts.crashPoint?.(id, rd)) {
      this.kill(id, true);
      return false;
    }
    this.persist(id, rd);
    if (this.opts.crashPoint?.(id, rd)) {
      this.kill(id, true);
      return false;
    }
    for (const m of rd.messages) if (!early.includes(m)) this.opts.net.send(m);
    if (rd.snapshot) this.installSnapshot(id, rd.snapshot);
    this.apply(id, rd.committedEntries);
    for (const rs of rd.readStates) {
      this.readStates++;
      this.opts.trace.record({ k: 'readState', node: id, ctx: showBytes(rs.context), index: rs.index });
      this.opts.checker.onReadState(id, rs);
    }
    this.guard(id, () => n.advance(rd));
    // advance() is where a leader counts its own persisted entries: check that commit now.
    this.observe(id);
    const at = this.compactAfterReady.get(id);
    if (at !== undefined) {
      this.compactAfterReady.delete(id);
      this.compact(id, at, false);
    }
    return true;
  }

  private persist(id: NodeId, rd: Ready): void {
    const st = this.storages.get(id)!;
    const { checker, trace } = this.opts;
    if (rd.snapshot) {
      const s = rd.snapshot;
      checker.onSnapshotPersist(id, st, s, this.snapshots.contentOf(s));
      this.guard(id, () => st.applySnapshot(s));
      trace.record({ k: 'note', text: `n${id} installs snapshot ${s.metadata.index}/t${s.metadata.term}` });
    }
    checker.beforePersist(id, st, rd.entries, rd.hardState);
    this.guard(id, () => st.append(rd.entries));
    if (rd.hardState) st.setHardState(rd.hardState);
    checker.afterPersist(id, st, rd.entries, rd.hardState);
    if (rd.entries.length > 0 || rd.hardState) {
      const hs = rd.hardState ? `hs t${rd.hardState.term} v${rd.hardState.vote} c${rd.hardState.commit}` : '';
      const first = rd.entries[0]?.index ?? 0;
      trace.record({ k: 'persist', node: id, first, last: first + rd.entries.length - 1, hs });
    }
  }

  /** The snapshot replaces the state machine (the Ready's apply stage). */
  private installSnapshot(id: NodeId, s: Snapshot): void {
    this.confHistory.get(id)!.push({ index: s.metadata.index, confState: s.metadata.confState });
    const content = this.snapshots.contentOf(s);
    const term = this.nodes.get(id)!.status().term;
    this.opts.checker.onSnapshotApply(id, s, content, term);
    this.applied.set(id, content.slice());
    this.snapshotsInstalled++;
  }

  private apply(id: NodeId, ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const term = this.nodes.get(id)!.status().term;
    const sm = this.applied.get(id)!;
    for (const e of ents) {
      this.opts.checker.onApply(id, e, term);
      sm.push(e);
      if (e.type === 'confChange') this.applyConfChange(id, e);
    }
    this.opts.trace.record({ k: 'apply', node: id, first: ents[0]!.index, last: ents[ents.length - 1]!.index });
  }

  /**
   * The configuration changes now (a change that does not apply is a no-op on every node
   * alike). Compacting to this point once the Ready is advanced records it in the stored
   * snapshot, so a node it adds can be sent one.
   */
  private applyConfChange(id: NodeId, e: Entry): void {
    const n = this.nodes.get(id)!;
    let cs: ConfState;
    try {
      cs = n.applyConfChange(decodeConfChange(e.data));
    } catch (err) {
      if (err instanceof ConfChangeError) {
        this.opts.trace.record({ k: 'note', text: `n${id} skips conf change at ${e.index}: ${err.message}` });
        return;
      }
      this.guard(id, () => { throw err; });
      return;
    }
    this.confHistory.get(id)!.push({ index: e.index, confState: cs });
    // Compacted to here once this Ready is advanced: the new configuration is then in the
    // stored snapshot, which a restart starts from and a newcomer can be sent.
    this.compactAfterReady.set(id, e.index);
    this.opts.trace.record({ k: 'note', text: `n${id} applies conf change at ${e.index}: voters ${cs.voters.join(',')} learners ${(cs.learners ?? []).join(',')}` });
    this.observe(id);
  }

  // ---- observation ------------------------------------------------------------

  /** Records role changes (and leaders, for election safety) after any input to `id`. */
  private observe(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n) return;
    const { role, term } = n.status();
    const prev = this.seen.get(id);
    if (!prev || prev.role !== role || (role !== 'follower' && prev.term !== term)) {
      this.opts.trace.record({ k: 'role', node: id, role, term });
    }
    this.seen.set(id, { role, term });
    this.opts.checker.onRole(id, role, term);
    this.checkMembership(id, n);
  }

  /**
   * Only a voter of its own configuration campaigns or leads; a leader's commit index is
   * held by a majority of the voters in force (by its own account of their logs).
   */
  private checkMembership(id: NodeId, n: RawNode): void {
    const { role, term, commit } = n.status();
    if (role === 'follower') return;
    const cs = n.confState();
    // A removed leader leads on only to hand over (leader transfer) to a voter.
    if (!cs.voters.includes(id) && !(role === 'leader' && n.leadTransferee() !== 0)) {
      throw new SimViolation('membership', `n${id} is ${role} in t${term} but not a voter of its configuration (voters ${cs.voters.join(',')})`);
    }
    if (role !== 'leader') return;
    const k = `${id}:${term}`;
    const checked = this.commitChecked.get(k);
    this.commitChecked.set(k, commit);
    if (checked === undefined || commit <= checked) return;
    const holding = cs.voters.filter((v) => (n.progress(v)?.match ?? 0) >= commit);
    if (holding.length < Math.floor(cs.voters.length / 2) + 1) {
      throw new SimViolation('membership',
        `leader n${id} of t${term} committed ${commit}, held by voters {${holding.join(',')}} of {${cs.voters.join(',')}}: no majority (learners ${(cs.learners ?? []).join(',') || 'none'})`);
    }
  }

  /** Live leaders (more than one only while a deposed leader has not heard yet). */
  leaders(): LeaderView[] {
    const out: LeaderView[] = [];
    for (const [id, n] of this.nodes) {
      const s = n.status();
      if (s.role === 'leader') out.push({ id, term: s.term });
    }
    return out;
  }

  /** Leader completeness for every live leader whose whole log is durable. */
  checkLeaders(): void {
    for (const [id, n] of this.nodes) {
      const s = n.status();
      if (s.role === 'leader' && !n.hasReady()) this.opts.checker.checkLeader(id, s.term, this.storages.get(id)!);
    }
  }

  /**
   * Everything that counts as progress, in one string: each live node's role, term, log
   * end, commit and applied index, and each leader's view of its followers.
   */
  progressSignature(): string {
    const parts: string[] = [];
    for (const [id, n] of this.nodes) {
      const s = n.status();
      parts.push(`${id}:${s.role}/${s.term}/${s.lastIndex}/${s.commit}/${s.applied}`);
      if (s.role !== 'leader') continue;
      for (const peer of this.ids) {
        const pr = n.progress(peer);
        if (pr) parts.push(`${id}>${peer}:${pr.state}/${pr.match}/${pr.next}`);
      }
    }
    return parts.join(' ');
  }

  /** One line per node for failure reports. */
  describe(): string {
    return this.ids.map((id) => {
      const st = this.storages.get(id)!;
      const hs = st.initialState().hardState;
      const durable = `durable t${hs.term} v${hs.vote} c${hs.commit} last ${st.lastIndex()}`;
      const n = this.nodes.get(id);
      if (!n) return `n${id} down (${durable})`;
      const s = n.status();
      return `n${id} ${s.role} t${s.term} lead ${s.lead} commit ${s.commit} applied ${s.applied} last ${s.lastIndex} (${durable})`;
    }).join('\n');
  }

  /** Runs a call into the core; anything it throws becomes a 'core exception' violation. */
  private guard<T>(id: NodeId, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SimViolation) throw e;
      const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      // The innermost frames say where in the core it broke.
      const at = e instanceof Error ? (e.stack ?? '').split('\n').slice(1, 4).map((l) => l.trim()).join(' < ') : '';
      throw new SimViolation('core exception', `n${id} threw ${err}${at ? `\n  ${at}` : ''}`);
    }
  }
}
