// The safety properties of Raft (paper Figure 3), checked against what the nodes made
// durable and what they applied, never against Raft's own opinion of itself:
//
//   election safety      at most one leader per term, over the whole run;
//   log matching         a durable (index, term) always carries the same data and follows
//                        the same term at index-1 — so two logs sharing it agree up to it;
//   leader completeness  every committed entry is in the log of every leader of a later term;
//   committed entry lost no node ever overwrites or truncates a committed entry;
//   state machine safety no two nodes (nor two lives of one node) apply different entries
//                        at one index; a payload applies once, where propose() put it;
//   read index           a ReadState's index covers every entry some node knew was
//                        committed before readIndex() was called;
//   hard state           a node's durable term never falls and its vote never changes
//                        within a term;
//   snapshots            an installed snapshot is exactly the committed prefix up to its
//                        point, and installing it discards no committed entry;
//   message rate         on a healed, reliable network, messages stop flowing between two
//                        ticks unless they make progress: no exchange loops without changing
//                        any node's log, commit, term or the leader's view of a follower;
//   membership           (seeds with conf changes, checked in cluster.ts) only a voter of its
//                        own configuration campaigns or leads; a leader appends a conf change
//                        only when every conf change in its log is applied; every commit index
//                        a leader reaches is held by a majority of the voters in force.
//
// "Committed" is learned two ways: a node durably records commit >= i (its log up to i is
// then committed), or an entry of term t is durably held by a quorum of nodes that each
// accepted it while in term t (the paper's definition, which holds even if no leader
// noticed). The second needs a fixed set of voters, so seeds that change membership use
// the first only. Each committed entry carries a `bound`: leaders of any term above it must
// hold the entry. The set of committed indexes is always contiguous from the first index.

import type { Entry, HardState, Index, MemoryStorage, NodeId, ReadState, Snapshot, StateRole, Term } from '../../src/raft/index.js';
import { showBytes } from './trace.js';

export type Invariant =
  | 'election safety'
  | 'log matching'
  | 'leader completeness'
  | 'committed entry lost'
  | 'state machine safety'
  | 'read index'
  | 'hard state'
  | 'snapshot'
  | 'message rate'
  | 'membership'
  | 'core exception'
  | 'liveness'
  | 'simulator error';

/**
 * A broken property. Safety violations are the Raft properties above; the others are a
 * failure to make progress, an exception out of the core, or a bug in the simulator.
 */
export class SimViolation extends Error {
  constructor(readonly invariant: Invariant, readonly detail: string) {
    super(`${invariant}: ${detail}`);
    this.name = 'SimViolation';
  }

  get isSafety(): boolean {
    return this.invariant !== 'liveness' && this.invariant !== 'core exception' && this.invariant !== 'simulator error';
  }
}

interface EntryInfo {
  readonly data: string;
  readonly prevTerm: Term;
  /** Nodes durably holding this entry that accepted it while in the entry's own term. */
  readonly replicas: Set<NodeId>;
}

interface Committed {
  readonly term: Term;
  readonly data: string;
  /** Leaders of terms above this must hold the entry. */
  bound: Term;
  /** How we learned it was committed, for messages. */
  readonly source: string;
  /** Who applied it first, if anyone has. */
  appliedBy?: NodeId;
}

interface PendingRead {
  readonly node: NodeId;
  readonly floor: Index;
  readonly step: number;
}

const key = (index: Index, term: Term): string => `${index}/${term}`;
const fmt = (index: Index, term: Term, data: string): string => `${index}/t${term} ${JSON.stringify(data)}`;

export class SafetyChecker {
  /** Replicas that prove an entry committed; undefined when membership changes (see above). */
  private readonly quorum: number | undefined;
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  private readonly entries = new Map<string, EntryInfo>();
  private readonly committed = new Map<Index, Committed>();
  /** Highest index known committed; every index from the first up to it is in `committed`. */
  maxCommitted: Index;
  /**
   * Highest index some node knows is committed (its durable commit, or applied). Unlike
   * maxCommitted it excludes what only an observer could infer from quorum replication:
   * a client can have seen a write complete only if some node knew it committed.
   */
  maxKnownCommitted: Index;
  /** Per node: durable log indexes already compared with (or added to) `committed`. */
  private readonly verified = new Map<NodeId, Index>();
  /** Per node: the last index its current life applied. */
  private readonly applyCursor = new Map<NodeId, Index>();
  /** Per (leader, term): committed indexes already found in its log. */
  private readonly leaderChecked = new Map<string, Index>();
  private readonly proposals = new Map<string, { index: Index; term: Term }>();
  private readonly appliedPayload = new Map<string, Index>();
  private readonly reads = new Map<string, PendingRead>();
  private readonly served = new Set<string>();

  constructor(ids: readonly NodeId[], private readonly firstIndex: Index, fixedVoters = true) {
    this.quorum = fixedVoters ? Math.floor(ids.length / 2) + 1 : undefined;
    this.maxCommitted = firstIndex - 1;
    this.maxKnownCommitted = firstIndex - 1;
    for (const id of ids) {
      this.verified.set(id, firstIndex - 1);
      this.applyCursor.set(id, firstIndex - 1);
    }
  }

  /** Number of distinct terms that had a leader. */
  get leaderTerms(): number {
    return this.leaderOfTerm.size;
  }

  // ---- roles ------------------------------------------------------------------

  onRole(id: NodeId, role: StateRole, term: Term): void {
    if (role !== 'leader') return;
    const prev = this.leaderOfTerm.get(term);
    if (prev === undefined) this.leaderOfTerm.set(term, id);
    else if (prev !== id) throw new SimViolation('election safety', `term ${term} has two leaders: n${prev} and n${id}`);
  }

  // ---- persistence --------------------------------------------------------------

  /** Called with the storage as it is before a Ready's entries and hard state are written. */
  beforePersist(id: NodeId, st: MemoryStorage, ents: readonly Entry[], hs: HardState | undefined): void {
    if (hs) this.checkHardState(id, st.initialState().hardState, hs);
    if (ents.length === 0) return;
    const first = ents[0]!.index;
    const oldLast = st.lastIndex();
    if (first > oldLast) return;
    for (const old of st.entries(Math.max(first, st.firstIndex()), oldLast + 1)) {
      const replacement = ents[old.index - first];
      if (replacement && replacement.term === old.term) continue;
      const c = this.committed.get(old.index);
      if (c && c.term === old.term) {
        const by = replacement ? `with ${replacement.index}/t${replacement.term}` : `by truncating its log to ${first + ents.length - 1}`;
        throw new SimViolation('committed entry lost',
          `n${id} replaced committed entry ${fmt(old.index, old.term, c.data)} ${by} (committed: ${c.source})`);
      }
      this.entries.get(key(old.index, old.term))?.replicas.delete(id);
    }
  }

  private checkHardState(id: NodeId, old: HardState, hs: HardState): void {
    if (hs.term < old.term) {
      throw new SimViolation('hard state', `n${id} durable term went back from ${old.term} to ${hs.term}`);
    }
    if (hs.term === old.term && old.vote !== 0 && hs.vote !== old.vote) {
      throw new SimViolation('hard state', `n${id} voted for n${old.vote} and then n${hs.vote} in term ${hs.term}`);
    }
    if (hs.commit < old.commit) {
      throw new SimViolation('hard state', `n${id} durable commit went back from ${old.commit} to ${hs.commit}`);
    }
  }

  /** Called once the Ready's entries and hard state are durable. */
  afterPersist(id: NodeId, st: MemoryStorage, ents: readonly Entry[], hs: HardState | undefined): void {
    const term = st.initialState().hardState.term;
    for (const e of ents) {
      const k = key(e.index, e.term);
      const data = showBytes(e.data);
      const prevTerm = st.term(e.index - 1);
      let info = this.entries.get(k);
      if (!info) {
        info = { data, prevTerm, replicas: new Set() };
        this.entries.set(k, info);
      } else if (info.data !== data || info.prevTerm !== prevTerm) {
        throw new SimViolation('log matching',
          `n${id} holds ${fmt(e.index, e.term, data)} after t${prevTerm}, but another log held ` +
          `${fmt(e.index, e.term, info.data)} after t${info.prevTerm}`);
      }
      if (term === e.term) {
        info.replicas.add(id);
        if (this.quorum !== undefined && info.replicas.size >= this.quorum) {
          this.reveal(id, st, e.index, e.term, `${e.index}/t${e.term} held by a quorum {${[...info.replicas].join(',')}}`);
        }
      }
    }
    if (hs && hs.commit > this.firstIndex - 1) {
      this.reveal(id, st, hs.commit, hs.term, `n${id} durable commit ${hs.commit} in t${hs.term}`);
      if (hs.commit > this.maxKnownCommitted) this.maxKnownCommitted = hs.commit;
    }
  }

  /** Node `id`'s durable log is committed up to `upTo`; leaders above `bound` must hold it. */
  private reveal(id: NodeId, st: MemoryStorage, upTo: Index, bound: Term, source: string): void {
    // Compacted entries were checked when applied, or when their snapshot was installed.
    const done = Math.max(this.verified.get(id)!, st.firstIndex() - 1);
    if (upTo > st.lastIndex()) {
      throw new SimViolation('hard state', `n${id}: ${source}, but its durable log ends at ${st.lastIndex()}`);
    }
    const c = this.committed.get(upTo);
    if (c && bound < c.bound) c.bound = bound;
    if (upTo <= done) return;
    for (const e of st.entries(done + 1, upTo + 1)) {
      const data = showBytes(e.data);
      const known = this.committed.get(e.index);
      if (!known) {
        this.committed.set(e.index, { term: e.term, data, bound, source });
      } else if (known.term !== e.term || known.data !== data) {
        throw new SimViolation('committed entry lost',
          `${fmt(e.index, known.term, known.data)} was committed (${known.source}), ` +
          `but now ${fmt(e.index, e.term, data)} is committed at that index (${source})`);
      } else if (bound < known.bound) {
        known.bound = bound;
      }
    }
    this.verified.set(id, upTo);
    if (upTo > this.maxCommitted) this.maxCommitted = upTo;
  }

  // ---- leaders ----------------------------------------------------------------

  /**
   * Leader completeness for one leader whose durable log is its whole log (it has no
   * unpersisted entries): every committed entry with bound < term must be there.
   */
  checkLeader(id: NodeId, term: Term, st: MemoryStorage): void {
    const k = key(id, term);
    const from = (this.leaderChecked.get(k) ?? this.firstIndex - 1) + 1;
    for (let i = Math.max(from, st.firstIndex()); i <= this.maxCommitted; i++) {
      const c = this.committed.get(i)!;
      if (c.bound >= term) continue;
      const held = i <= st.lastIndex() ? st.term(i) : undefined;
      if (held !== c.term) {
        const has = held === undefined ? `its log ends at ${st.lastIndex()}` : `it holds ${i}/t${held}`;
        throw new SimViolation('leader completeness',
          `leader n${id} of t${term} lacks committed entry ${fmt(i, c.term, c.data)} (${c.source}): ${has}`);
      }
    }
    this.leaderChecked.set(k, this.maxCommitted);
  }

  // ---- apply ------------------------------------------------------------------

  /** A node applied `e`; `term` is the node's current term. */
  onApply(id: NodeId, e: Entry, term: Term): void {
    const expected = this.applyCursor.get(id)! + 1;
    if (e.index !== expected) {
      throw new SimViolation('state machine safety', `n${id} applied index ${e.index}, expected ${expected} next`);
    }
    this.applyCursor.set(id, e.index);
    const data = showBytes(e.data);
    let c = this.committed.get(e.index);
    if (!c) {
      if (e.index !== this.maxCommitted + 1) {
        throw new SimViolation('state machine safety',
          `n${id} applied ${fmt(e.index, e.term, data)} beyond everything known committed (${this.maxCommitted})`);
      }
      c = { term: e.term, data, bound: term, source: `applied by n${id}` };
      this.committed.set(e.index, c);
      this.maxCommitted = e.index;
    }
    if (c.term !== e.term || c.data !== data) {
      const other = c.appliedBy !== undefined ? `n${c.appliedBy} applied` : `committed was`;
      throw new SimViolation('state machine safety',
        `n${id} applied ${fmt(e.index, e.term, data)} but ${other} ${fmt(e.index, c.term, c.data)} (${c.source})`);
    }
    c.appliedBy ??= id;
    if (e.index > this.maxKnownCommitted) this.maxKnownCommitted = e.index;
    // Conf changes repeat (the same node may be added twice); their bytes are not unique.
    if (data.length > 0 && e.type !== 'confChange') this.checkPayload(id, e, data);
  }

  private checkPayload(id: NodeId, e: Entry, data: string): void {
    const at = this.appliedPayload.get(data);
    if (at !== undefined && at !== e.index) {
      throw new SimViolation('state machine safety',
        `n${id} applied ${JSON.stringify(data)} at ${e.index}, but it was applied at ${at} before`);
    }
    this.appliedPayload.set(data, e.index);
    const p = this.proposals.get(data);
    if (p && (p.index !== e.index || p.term !== e.term)) {
      throw new SimViolation('state machine safety',
        `n${id} applied ${fmt(e.index, e.term, data)}, but propose() placed it at ${p.index}/t${p.term}`);
    }
  }

  // ---- snapshots ----------------------------------------------------------------

  /**
   * Before node `id` installs snapshot `s` (whose state machine is `content`) over `st`:
   * the snapshot must be the committed prefix, and the entries it discards after its
   * point must not be committed.
   */
  onSnapshotPersist(id: NodeId, st: MemoryStorage, s: Snapshot, content: readonly Entry[]): void {
    const { index, term } = s.metadata;
    const last = content[content.length - 1];
    if (content.length !== index - this.firstIndex + 1 || (last && (last.index !== index || last.term !== term))) {
      throw new SimViolation('snapshot', `n${id} got snapshot ${index}/t${term} whose contents end at ${last ? `${last.index}/t${last.term}` : 'nothing'}`);
    }
    for (const e of content) {
      const c = this.committed.get(e.index);
      const data = showBytes(e.data);
      if (!c) {
        throw new SimViolation('snapshot', `n${id} got snapshot ${index}/t${term} holding ${fmt(e.index, e.term, data)}, which is not known committed`);
      }
      if (c.term !== e.term || c.data !== data) {
        throw new SimViolation('snapshot', `n${id} got snapshot ${index}/t${term} holding ${fmt(e.index, e.term, data)}, but ${fmt(e.index, c.term, c.data)} was committed (${c.source})`);
      }
    }
    if (st.lastIndex() > index) {
      for (const old of st.entries(Math.max(index + 1, st.firstIndex()), st.lastIndex() + 1)) {
        const c = this.committed.get(old.index);
        if (c && c.term === old.term) {
          throw new SimViolation('committed entry lost', `n${id} installing snapshot ${index}/t${term} discarded committed entry ${fmt(old.index, old.term, c.data)} (committed: ${c.source})`);
        }
        this.entries.get(key(old.index, old.term))?.replicas.delete(id);
      }
    }
    if (this.verified.get(id)! < index) this.verified.set(id, index);
  }

  /** Node `id` replaced its state machine by the snapshot: as if it applied every entry. */
  onSnapshotApply(id: NodeId, s: Snapshot, content: readonly Entry[], term: Term): void {
    const from = this.applyCursor.get(id)! + 1;
    for (const e of content) if (e.index >= from) this.onApply(id, e, term);
    if (this.applyCursor.get(id) !== s.metadata.index) {
      throw new SimViolation('snapshot', `n${id} installed snapshot ${s.metadata.index}, but its state machine is at ${this.applyCursor.get(id)}`);
    }
  }

  /** A node restarted: its new life applies again from the start of the log. */
  onRestart(id: NodeId, st: MemoryStorage): void {
    // A node added later starts empty: its first state machine comes from a snapshot.
    this.applyCursor.set(id, Math.max(this.firstIndex - 1, st.firstIndex() - 1));
    if (!this.verified.has(id)) this.verified.set(id, this.firstIndex - 1);
  }

  onProposed(data: string, index: Index, term: Term): void {
    this.proposals.set(data, { index, term });
  }

  // ---- reads ------------------------------------------------------------------

  /** Records a readIndex() call; returns the floor its answer must reach. */
  onReadIndex(id: NodeId, ctx: string, step: number): Index {
    this.reads.set(ctx, { node: id, floor: this.maxKnownCommitted, step });
    return this.maxKnownCommitted;
  }

  wasServed(ctx: string): boolean {
    return this.served.has(ctx);
  }

  onReadState(id: NodeId, rs: ReadState): void {
    const ctx = showBytes(rs.context);
    const r = this.reads.get(ctx);
    if (!r) throw new SimViolation('read index', `n${id} got a ReadState for unknown context ${ctx}`);
    this.served.add(ctx);
    if (r.node !== id) throw new SimViolation('read index', `n${id} got the ReadState for ${ctx}, which n${r.node} asked for`);
    if (rs.index < r.floor) {
      throw new SimViolation('read index',
        `n${id} got read index ${rs.index} for ${ctx}, but a node knew ${r.floor} was committed before readIndex() (step ${r.step})`);
    }
    if (rs.index > this.maxCommitted) {
      throw new SimViolation('read index',
        `n${id} got read index ${rs.index} for ${ctx}, beyond anything known committed (${this.maxCommitted})`);
    }
  }
}

/**
 * Log matching checked directly on every pair of durable logs: where two logs hold an
 * entry with the same index and term, they are identical up to it.
 */
export function checkLogMatching(storages: ReadonlyMap<NodeId, MemoryStorage>): void {
  const ids = [...storages.keys()];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      comparePair(ids[a]!, storages.get(ids[a]!)!, ids[b]!, storages.get(ids[b]!)!);
    }
  }
}

function comparePair(ia: NodeId, sa: MemoryStorage, ib: NodeId, sb: MemoryStorage): void {
  const lo = Math.max(sa.firstIndex(), sb.firstIndex());
  const hi = Math.min(sa.lastIndex(), sb.lastIndex());
  if (hi < lo) return;
  const ea = sa.entries(lo, hi + 1);
  const eb = sb.entries(lo, hi + 1);
  let i = ea.length - 1;
  while (i >= 0 && ea[i]!.term !== eb[i]!.term) i--;
  for (; i >= 0; i--) {
    const x = ea[i]!;
    const y = eb[i]!;
    if (x.term !== y.term || showBytes(x.data) !== showBytes(y.data)) {
      throw new SimViolation('log matching',
        `n${ia} and n${ib} share a later (index, term) but differ at ${x.index}: ` +
        `${fmt(x.index, x.term, showBytes(x.data))} vs ${fmt(y.index, y.term, showBytes(y.data))}`);
    }
  }
}
