// A tiny synchronous harness for unit tests of the Raft core: N RawNodes over
// MemoryStorage, with a message queue the test drains explicitly. Persisting a Ready
// is modelled by appending to MemoryStorage before messages are queued.
// Tests can shape the network (one-way cuts, drop predicates, crashes), look at every
// delivered message (observe), hand-pick which queued messages go out (take/send), and
// seed each node's storage (e.g. divergent logs) and config.

import type { Config } from '../config.js';
import { MemoryStorage } from '../storage.js';
import { RawNode } from '../raw-node.js';
import type { ConfState, Entry, Message, NodeId, ReadState, Ready, Snapshot, Term } from '../types.js';
import { ConfChangeError, decodeConfChange } from '../conf-change.js';
import { seededRng } from '../../util/rng.js';

// ---- one node, driven by hand ----------------------------------------------------

/** A RawNode over `storage` with test defaults (electionTick 10, heartbeatTick 1). */
export function newTestNode(id: NodeId, storage: MemoryStorage, config: Partial<Config> = {}): RawNode {
  return new RawNode({
    id, storage, electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false,
    rng: seededRng(id), ...config,
  });
}

/** Handles one Ready as the application would (persist, then advance); returns it. */
export function persistReady(node: RawNode, storage: MemoryStorage): Ready {
  const rd = node.ready();
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  node.advance(rd);
  return rd;
}

/** Persists Readies until there are none left; returns all of their messages. */
export function drainMessages(node: RawNode, storage: MemoryStorage): Message[] {
  const out: Message[] = [];
  for (let i = 0; node.hasReady(); i++) {
    if (i >= 1000) throw new Error('drainMessages: the node never runs out of Readies');
    out.push(...persistReady(node, storage).messages);
  }
  return out;
}

/** A storage whose log holds, after the bootstrap point (5, 5), entries of `terms`. */
export function storageWithLog(voters: readonly NodeId[], terms: readonly Term[], hard?: { term?: Term; vote?: NodeId; commit?: number }): MemoryStorage {
  const st = new MemoryStorage(voters, 5, 5);
  st.append(terms.map((term, i) => ({ term, index: 6 + i, type: 'normal' as const, data: new Uint8Array([i & 0xff]) })));
  const lastTerm = terms.length > 0 ? terms[terms.length - 1]! : 5;
  st.setHardState({ term: hard?.term ?? lastTerm, vote: hard?.vote ?? 0, commit: hard?.commit ?? 5 });
  return st;
}

export interface MemNetworkOptions {
  readonly ids: readonly NodeId[];
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly seed?: number;
  readonly config?: Partial<Config>;
  /** Per-node overrides, applied after `config` (e.g. PreVote off on one node). */
  readonly configFor?: (id: NodeId) => Partial<Config> | undefined;
  /** Initial durable state per node; default: bootstrapped at index 5, term 5. */
  readonly storage?: (id: NodeId, ids: readonly NodeId[]) => MemoryStorage;
}

/** Decides whether a message in flight is lost. */
export type DropRule = (m: Message) => boolean;
/** Replaces a message in flight (e.g. carries only a prefix of its entries). */
export type RewriteRule = (m: Message) => Message;
/** Sees each Ready after it is persisted and before its messages are queued. */
export type ReadyObserver = (id: NodeId, rd: Ready, storage: MemoryStorage) => void;

export class MemNetwork {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  /** Snapshots each node installed from a leader, in order. */
  readonly installed = new Map<NodeId, Snapshot[]>();
  /** Per node, the configurations it applied (index where each took effect), oldest first. */
  readonly confHistory = new Map<NodeId, Array<{ index: number; confState: ConfState }>>();
  /** Every node of the network, including ones added later (addNode). */
  readonly ids: NodeId[];
  queue: Message[] = [];
  /** Pairs (from→to) whose messages are dropped. */
  private cut = new Set<string>();
  private dropRules: DropRule[] = [];
  private rewriteRules: RewriteRule[] = [];
  private observers: Array<(m: Message) => void> = [];
  private readyObservers: ReadyObserver[] = [];

  constructor(private readonly opts: MemNetworkOptions) {
    this.ids = [...opts.ids];
    for (const id of opts.ids) {
      this.storages.set(id, opts.storage ? opts.storage(id, opts.ids) : new MemoryStorage(opts.ids, 5, 5));
      this.start(id);
    }
  }

  private start(id: NodeId, extra?: Partial<Config>): void {
    const o = this.opts;
    this.nodes.set(id, new RawNode({
      id, storage: this.storages.get(id)!, electionTick: o.electionTick ?? 10,
      heartbeatTick: o.heartbeatTick ?? 1, preVote: o.preVote ?? true, checkQuorum: o.checkQuorum ?? true,
      rng: seededRng((o.seed ?? 1) * 1000 + id), ...o.config, ...o.configFor?.(id), ...extra,
    }));
    this.applied.set(id, []);
    this.readStates.set(id, []);
    if (!this.installed.has(id)) this.installed.set(id, []);
    const snap = this.storages.get(id)!.storedSnapshot.metadata;
    this.confHistory.set(id, [{ index: snap.index, confState: snap.confState }]);
  }

  /**
   * Starts a brand-new node with empty storage: a member of nothing until a conf change
   * adds it and the leader's log or snapshot reaches it.
   */
  addNode(id: NodeId): void {
    if (this.storages.has(id)) throw new Error(`addNode: node ${id} exists`);
    this.ids.push(id);
    this.storages.set(id, new MemoryStorage());
    this.start(id);
  }

  /** The configuration node `id` applied last. */
  confState(id: NodeId): ConfState {
    return this.node(id).confState();
  }

  node(id: NodeId): RawNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Handles every pending Ready of every node (persist, queue messages, apply). */
  processReadies(): void {
    for (const [id, n] of this.nodes) {
      for (let i = 0; n.hasReady(); i++) {
        if (i >= 1000) throw new Error(`processReadies: node ${id} never runs out of Readies`);
        const rd = n.ready();
        const st = this.storages.get(id)!;
        if (rd.snapshot) {
          st.applySnapshot(rd.snapshot);
          this.installed.get(id)!.push(rd.snapshot);
          this.confHistory.get(id)!.push({ index: rd.snapshot.metadata.index, confState: rd.snapshot.metadata.confState });
        }
        st.append(rd.entries);
        if (rd.hardState) st.setHardState(rd.hardState);
        for (const see of this.readyObservers) see(id, rd, st);
        this.queue.push(...rd.messages);
        this.applied.get(id)!.push(...rd.committedEntries);
        for (const e of rd.committedEntries) {
          if (e.type !== 'confChange') continue;
          try {
            this.confHistory.get(id)!.push({ index: e.index, confState: n.applyConfChange(decodeConfChange(e.data)) });
          } catch (err) {
            if (!(err instanceof ConfChangeError)) throw err; // a change that does not apply is a no-op
          }
        }
        this.readStates.get(id)!.push(...rd.readStates);
        n.advance(rd);
      }
    }
  }

  /** Delivers queued messages (and their consequences) until the network is quiet. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.processReadies();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error('stabilize: network did not quiesce');
  }

  deliver(msg: Message): void {
    const n = this.nodes.get(msg.to);
    const lost = this.cut.has(`${msg.from}>${msg.to}`) || this.dropRules.some((drop) => drop(msg)) || !n;
    // The sender learns a snapshot's fate, as a real transport reports it.
    if (msg.type === 'MsgSnapshot') this.nodes.get(msg.from)?.reportSnapshot(msg.to, lost ? 'failure' : 'finish');
    if (lost) return;
    const m = this.rewriteRules.reduce((cur, rewrite) => rewrite(cur), msg);
    for (const see of this.observers) see(m);
    n.step(m);
  }

  /**
   * Snapshots node `id`'s state at its applied index and compacts its log up to `index`
   * (at most the applied index), as an application does to bound its log.
   */
  compact(id: NodeId, index: number): void {
    const st = this.storages.get(id)!;
    const applied = this.node(id).status().applied;
    if (index > applied) throw new Error(`compact: ${index} is beyond node ${id}'s applied index ${applied}`);
    const history = this.confHistory.get(id)!;
    const cs = [...history].reverse().find((h) => h.index <= index)!.confState;
    st.createSnapshot(index, cs, new TextEncoder().encode(`state of ${id} at ${index}`));
    st.compact(index);
  }

  /** Replaces node `id`'s storage with a freshly bootstrapped one (a wiped disk) and restarts it. */
  wipe(id: NodeId): void {
    this.nodes.delete(id);
    this.storages.set(id, new MemoryStorage(this.opts.ids, 5, 5));
    this.start(id);
  }

  /** Persists every pending Ready, then removes and returns the queued messages. */
  take(): Message[] {
    this.processReadies();
    const out = this.queue;
    this.queue = [];
    return out;
  }

  /** Puts messages (e.g. picked from take(), possibly edited) back in flight. */
  send(...msgs: Message[]): void {
    this.queue.push(...msgs);
  }

  /** Loses messages from `from` to `to` (one direction only) until heal(). */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Loses every message matching `rule` until heal(). */
  drop(rule: DropRule): void {
    this.dropRules.push(rule);
  }

  /** Rewrites every message in flight with `rule` until heal(). */
  rewrite(rule: RewriteRule): void {
    this.rewriteRules.push(rule);
  }

  /** Calls `fn` with each Ready once persisted, before its messages are queued. */
  observeReady(fn: ReadyObserver): void {
    this.readyObservers.push(fn);
  }

  /** Calls `fn` with every message that reaches a live node, before it is stepped. */
  observe(fn: (m: Message) => void): void {
    this.observers.push(fn);
  }

  /** Ticks one node `n` times. */
  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).tick();
  }

  /** Stops a node: it gets no ticks and messages to it are lost; its storage survives. */
  crash(id: NodeId): void {
    this.node(id);
    this.nodes.delete(id);
  }

  /** Starts a crashed node again from its storage, with optional config overrides. */
  recover(id: NodeId, extra?: Partial<Config>): void {
    if (this.nodes.has(id)) throw new Error(`recover: node ${id} is running`);
    this.start(id, extra);
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
    this.dropRules = [];
    this.rewriteRules = [];
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const node of this.nodes.values()) node.tick();
  }

  leader(): NodeId | undefined {
    for (const [id, n] of this.nodes) if (n.status().role === 'leader') return id;
    return undefined;
  }

  /** Crash and restart from durable state (storage) only. */
  restart(id: NodeId): void {
    this.nodes.delete(id);
    this.start(id);
  }
}

/** A settled group (3 nodes unless `ids` says otherwise) in which node 1 won the first election. */
export function groupLedBy1(opts: Partial<MemNetworkOptions> = {}): MemNetwork {
  const net = new MemNetwork({ ids: [1, 2, 3], ...opts });
  net.node(1).campaign();
  net.stabilize();
  if (net.leader() !== 1) throw new Error('setup: node 1 did not win');
  return net;
}
