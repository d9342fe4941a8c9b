// A tiny synchronous harness for unit tests of the Raft core: N RawNodes over
// MemoryStorage, with a message queue the test drains explicitly. Persisting a Ready
// is modelled by appending to MemoryStorage before messages are queued.

import type { Config } from '../config.js';
import { MemoryStorage } from '../storage.js';
import { RawNode } from '../raw-node.js';
import type { Entry, Message, NodeId, ReadState } from '../types.js';
import { seededRng } from '../rng.js';

export interface MemNetworkOptions {
  readonly ids: readonly NodeId[];
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly seed?: number;
  readonly config?: Partial<Config>;
}

export class MemNetwork {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  queue: Message[] = [];
  /** Pairs (from→to) whose messages are dropped. */
  private cut = new Set<string>();

  constructor(private readonly opts: MemNetworkOptions) {
    for (const id of opts.ids) {
      this.storages.set(id, new MemoryStorage(opts.ids, 5, 5));
      this.start(id);
    }
  }

  private start(id: NodeId): void {
    const o = this.opts;
    this.nodes.set(id, new RawNode({
      id, storage: this.storages.get(id)!, electionTick: o.electionTick ?? 10,
      heartbeatTick: o.heartbeatTick ?? 1, preVote: o.preVote ?? true, checkQuorum: o.checkQuorum ?? true,
      rng: seededRng((o.seed ?? 1) * 1000 + id), ...o.config,
    }));
    this.applied.set(id, []);
    this.readStates.set(id, []);
  }

  node(id: NodeId): RawNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Handles every pending Ready of every node (persist, queue messages, apply). */
  processReadies(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const rd = n.ready();
        const st = this.storages.get(id)!;
        st.append(rd.entries);
        if (rd.hardState) st.setHardState(rd.hardState);
        this.queue.push(...rd.messages);
        this.applied.get(id)!.push(...rd.committedEntries);
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

  deliver(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`)) return;
    const n = this.nodes.get(m.to);
    if (n) n.step(m);
  }

  isolate(id: NodeId): void {
    for (const other of this.opts.ids) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
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
