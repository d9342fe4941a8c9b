// Runs a Raft transcript: a script of commands over a MemNetwork, each followed by the
// output it must print (format: transcript-format.ts). The output says what happened in
// order, Ready by Ready and message by message, so a change in which messages leave, in
// what order, or when a node commits, shows as a line-by-line diff of the transcript.
// src/raft/transcripts.test.ts runs every src/raft/testdata/*.txt through runTranscript.
//
// Commands (ids are node ids; `k=v` are options; a filter is any of from=<id>, to=<id>,
// type=<MsgType,...>, reject=<true|false>):
//
//   initial-log <id> <term>[:<data>]... [term=T] [vote=V] [commit=C]
//                            before add-nodes: node <id> starts with entries of these terms
//                            (and data, default empty) after the bootstrap point, and hard
//                            state T/V/C (default: the last entry's term, no vote, the
//                            bootstrap index)
//   add-nodes <n> [boot=I@T] [prevote=B] [checkquorum=B] [election=N] [heartbeat=N]
//                 [inflight=N] [max-msg-size=N] [learners=ids] [seed=N]
//                            a new network of nodes 1..n (learners: ids that are learners),
//                            bootstrapped at index I, term T (default 5@5, as MemNetwork);
//                            prints each node's state
//   campaign <id>            the node starts an election
//   propose <id> <data>...   one proposal per datum; prints where they sit
//   transfer-leader <id> <transferee>
//   tick <id> [n]            n ticks (default 1); tick-heartbeat / tick-election <id>:
//                            heartbeatTick / electionTick ticks
//   compact <id> <index>     snapshot at the applied index and compact the log through <index>
//   process-ready            every node handles its pending Readies (prints each Ready)
//   deliver-msgs [filter]    delivers the queued messages that match, in order (prints each)
//   drop-msgs [filter]       removes them from the queue (a lost MsgSnapshot is reported
//                            to its sender as failed, as a transport would)
//   stabilize [quiet]        process-ready and deliver everything until the network is
//                            quiet; prints the Readies, and of deliveries only the lost
//                            messages and the snapshot reports (quiet: prints nothing,
//                            for set-up steps)
//   isolate <id>, partition <ids,..> <ids,..>..., cut <from> <to>, lose [filter] [count=N]
//                            messages across the cut, or matching (the next N), are lost
//                            on delivery until heal
//   heal
//   raft-state               every node's role, term, vote, leader, commit, applied, last
//   status <id>              the leader's progress of each follower
//   log <id>...              the durable log: [snapshot point] then entries with their data
//
// Input commands (campaign, propose, tick, ...) do not process Readies: what they cause
// shows at the next process-ready or stabilize. Errors the Raft core raises to its caller
// (a dropped proposal) print as `error: ...`; a malformed command throws.

import type { FaultInjection } from '../config.js';
import { RaftError } from '../errors.js';
import { MemoryStorage } from '../storage.js';
import type { Entry, Message, NodeId, Term } from '../types.js';
import { sendableBeforePersist } from '../types.js';
import { describeMessage, describeReady, entryRef, entryRuns, entryWithData } from './describe.js';
import { MemNetwork } from './mem-network.js';
import { parse, render } from './transcript-format.js';

export interface TranscriptOptions {
  /** Deliberate bugs switched on in every network the transcript builds (to show a transcript notices one). */
  readonly faults?: FaultInjection;
}

/** Runs `text`'s commands; returns the file as it would be with the actual outputs. */
export function runTranscript(text: string, name = 'transcript', opts: TranscriptOptions = {}): string {
  const t = parse(text, name);
  const runner = new Runner(opts);
  const outputs = t.blocks.map((b) => {
    try {
      return runner.run(b.command);
    } catch (e) {
      if (e instanceof CommandError) throw new Error(`${name}:${b.line}: ${b.command}: ${e.message}`);
      throw e;
    }
  });
  return render(t, outputs);
}

/** A mistake in the script itself (not something Raft did). */
class CommandError extends Error {}

interface Args {
  readonly pos: string[];
  readonly opt: Map<string, string>;
}

interface Filter {
  readonly from?: NodeId;
  readonly to?: NodeId;
  readonly types?: readonly string[];
  /** Only answers that reject (true) or accept (false). */
  readonly reject?: boolean;
}

interface InitialLog {
  readonly entries: ReadonlyArray<{ term: Term; data: string }>;
  readonly term?: Term;
  readonly vote?: NodeId;
  readonly commit?: number;
}

const enc = new TextEncoder();

function int(s: string | undefined, what: string): number {
  if (s === undefined || !/^\d+$/.test(s)) throw new CommandError(`${what}: expected a number, got ${s ?? 'nothing'}`);
  return Number(s);
}

function bool(s: string, what: string): boolean {
  if (s !== 'true' && s !== 'false') throw new CommandError(`${what}: expected true or false, got ${s}`);
  return s === 'true';
}

const idList = (s: string, what: string) => s.split(',').map((x) => int(x, what));

function parseArgs(words: string[], allowed: readonly string[]): Args {
  const pos: string[] = [];
  const opt = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      pos.push(w);
      continue;
    }
    const k = w.slice(0, eq);
    if (!allowed.includes(k)) throw new CommandError(`unknown option ${k} (allowed: ${allowed.join(', ') || 'none'})`);
    opt.set(k, w.slice(eq + 1));
  }
  return { pos, opt };
}

const FILTER_KEYS = ['from', 'to', 'type', 'reject'];

function filterOf(a: Args): Filter {
  const from = a.opt.get('from');
  const to = a.opt.get('to');
  const type = a.opt.get('type');
  const reject = a.opt.get('reject');
  return {
    ...(from !== undefined ? { from: int(from, 'from') } : {}),
    ...(to !== undefined ? { to: int(to, 'to') } : {}),
    ...(type !== undefined ? { types: type.split(',') } : {}),
    ...(reject !== undefined ? { reject: bool(reject, 'reject') } : {}),
  };
}

const matches = (f: Filter, m: Message) =>
  (f.from === undefined || m.from === f.from) && (f.to === undefined || m.to === f.to) &&
  (f.types === undefined || f.types.includes(m.type)) && (f.reject === undefined || ('reject' in m && m.reject === f.reject));

class Runner {
  private net: MemNetwork | undefined;
  private out: string[] = [];
  private initialLogs = new Map<NodeId, InitialLog>();
  /** Per node, the term of its last persisted hard state: what sendableBeforePersist compares with. */
  private persistedTerm = new Map<NodeId, Term>();
  /** Pairs `from>to` whose messages are lost. */
  private cuts = new Set<string>();
  private lossRules: Array<{ filter: Filter; left: number }> = [];
  /** The network's heartbeatTick and electionTick, for tick-heartbeat and tick-election. */
  private tickCounts = { heartbeat: 1, election: 10 };
  /** deliver-msgs prints every message it delivers; stabilize only the lost ones. */
  private echoDeliveries = false;

  constructor(private readonly opts: TranscriptOptions) {}

  run(command: string): string[] {
    this.out = [];
    const [name, ...words] = command.trim().split(/\s+/);
    switch (name) {
      case 'initial-log': return this.initialLog(parseArgs(words, ['term', 'vote', 'commit']));
      case 'add-nodes': return this.addNodes(parseArgs(words, ['boot', 'prevote', 'checkquorum', 'election', 'heartbeat', 'inflight', 'max-msg-size', 'learners', 'seed']));
      case 'campaign': return this.input(words, (id) => this.node(id).campaign());
      case 'propose': return this.propose(parseArgs(words, []));
      case 'transfer-leader': return this.input(words, (id, a) => this.node(id).transferLeader(int(a.pos[1], 'transferee')));
      case 'tick': return this.input(words, (id, a) => this.network().tick(id, a.pos[1] === undefined ? 1 : int(a.pos[1], 'count')));
      case 'tick-heartbeat': return this.input(words, (id) => this.network().tick(id, this.tickCounts.heartbeat));
      case 'tick-election': return this.input(words, (id) => this.network().tick(id, this.tickCounts.election));
      case 'compact': return this.input(words, (id, a) => this.network().compact(id, int(a.pos[1], 'index')));
      case 'process-ready': return this.processReady(parseArgs(words, []));
      case 'deliver-msgs': return this.deliverMsgs(parseArgs(words, FILTER_KEYS));
      case 'drop-msgs': return this.dropMsgs(parseArgs(words, FILTER_KEYS));
      case 'stabilize': return this.stabilize(parseArgs(words, []));
      case 'isolate': return this.isolate(parseArgs(words, []));
      case 'partition': return this.partition(parseArgs(words, []));
      case 'cut': return this.cut(parseArgs(words, []));
      case 'lose': return this.lose(parseArgs(words, [...FILTER_KEYS, 'count']));
      case 'heal': return this.heal(parseArgs(words, []));
      case 'raft-state': return this.raftState(parseArgs(words, []));
      case 'status': return this.status(parseArgs(words, []));
      case 'log': return this.log(parseArgs(words, []));
      default: throw new CommandError(`unknown command ${name ?? ''}`);
    }
  }

  // ---- building a network ----------------------------------------------------------

  private initialLog(a: Args): string[] {
    const [id, ...terms] = a.pos;
    const o = a.opt;
    this.initialLogs.set(int(id, 'id'), {
      entries: terms.map((x) => {
        const colon = x.indexOf(':');
        return colon < 0 ? { term: int(x, 'term'), data: '' } : { term: int(x.slice(0, colon), 'term'), data: x.slice(colon + 1) };
      }),
      ...(o.has('term') ? { term: int(o.get('term'), 'term') } : {}),
      ...(o.has('vote') ? { vote: int(o.get('vote'), 'vote') } : {}),
      ...(o.has('commit') ? { commit: int(o.get('commit'), 'commit') } : {}),
    });
    return this.out;
  }

  private addNodes(a: Args): string[] {
    const n = int(a.pos[0], 'node count');
    const o = a.opt;
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const learners = o.has('learners') ? idList(o.get('learners')!, 'learners') : [];
    const voters = ids.filter((id) => !learners.includes(id));
    const [bootIndex, bootTerm] = (o.get('boot') ?? '5@5').split('@').map((x) => int(x, 'boot'));
    const storage = (id: NodeId) => this.storage(id, voters, learners, bootIndex!, bootTerm!);
    const num = (k: string) => (o.has(k) ? int(o.get(k), k) : undefined);
    const flag = (k: string) => (o.has(k) ? bool(o.get(k)!, k) : undefined);
    const maxInflightMsgs = num('inflight');
    const maxSizePerMsg = num('max-msg-size');
    const electionTick = num('election');
    const heartbeatTick = num('heartbeat');
    const preVote = flag('prevote');
    const checkQuorum = flag('checkquorum');
    const seed = num('seed');
    const net = new MemNetwork({
      ids, storage,
      ...(electionTick !== undefined ? { electionTick } : {}),
      ...(heartbeatTick !== undefined ? { heartbeatTick } : {}),
      ...(preVote !== undefined ? { preVote } : {}),
      ...(checkQuorum !== undefined ? { checkQuorum } : {}),
      ...(seed !== undefined ? { seed } : {}),
      config: {
        ...(maxInflightMsgs !== undefined ? { maxInflightMsgs } : {}),
        ...(maxSizePerMsg !== undefined ? { maxSizePerMsg } : {}),
        ...(this.opts.faults ? { faults: this.opts.faults } : {}),
      },
    });
    this.initialLogs.clear();
    this.net = net;
    this.tickCounts = { heartbeat: heartbeatTick ?? 1, election: electionTick ?? 10 }; // MemNetwork's defaults
    this.cuts.clear();
    this.lossRules = [];
    this.persistedTerm = new Map(ids.map((id) => [id, net.storages.get(id)!.initialState().hardState.term]));
    net.observeReady((id, rd) => {
      const term = this.persistedTerm.get(id)!;
      this.out.push(...describeReady(id, rd, (m) => sendableBeforePersist(m, rd, term)));
      if (rd.hardState) this.persistedTerm.set(id, rd.hardState.term);
    });
    net.drop((m) => this.onDelivery(m));
    return this.raftState(a);
  }

  private storage(id: NodeId, voters: NodeId[], learners: NodeId[], bootIndex: number, bootTerm: Term): MemoryStorage {
    let st: MemoryStorage;
    if (learners.length === 0) {
      st = new MemoryStorage(voters, bootIndex, bootTerm);
    } else {
      // MemoryStorage's constructor takes voters only: install the bootstrap snapshot over one a step earlier.
      if (bootIndex < 1) throw new CommandError('learners need a bootstrap index of at least 1');
      st = new MemoryStorage(voters, bootIndex - 1, bootTerm);
      st.applySnapshot({ metadata: { index: bootIndex, term: bootTerm, confState: { voters, learners } }, data: new Uint8Array(0) });
    }
    const init = this.initialLogs.get(id);
    if (init) {
      const ents: Entry[] = init.entries.map((e, i) => ({ term: e.term, index: bootIndex + 1 + i, type: 'normal', data: enc.encode(e.data) }));
      st.append(ents);
      st.setHardState({
        term: init.term ?? ents.at(-1)?.term ?? bootTerm, vote: init.vote ?? 0, commit: init.commit ?? bootIndex,
      });
    }
    return st;
  }

  // ---- inputs ----------------------------------------------------------------------

  /** Runs an input on node pos[0]; a RaftError is the node's answer and prints. */
  private input(words: string[], fn: (id: NodeId, a: Args) => void): string[] {
    const a = parseArgs(words, []);
    try {
      fn(int(a.pos[0], 'id'), a);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.out.push(`error: ${e.message}`);
    }
    return this.out;
  }

  private propose(a: Args): string[] {
    const [id, ...datas] = a.pos;
    const n = this.node(int(id, 'id'));
    if (datas.length === 0) throw new CommandError('propose: nothing to propose');
    const placed: Array<{ index: number; term: Term }> = [];
    try {
      for (const d of datas) placed.push(n.propose(enc.encode(d)));
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      if (placed.length > 0) this.out.push(`proposed ${entryRuns(placed)}`);
      this.out.push(`error: ${e.message}`);
      return this.out;
    }
    this.out.push(`proposed ${entryRuns(placed)}`);
    return this.out;
  }

  // ---- the network -------------------------------------------------------------------

  /**
   * MemNetwork asks this of every message it delivers: whether it is lost. It prints the
   * lost ones (and, in deliver-msgs, the others), and the snapshot report that
   * MemNetwork.deliver then gives the sender.
   */
  private onDelivery(m: Message): boolean {
    const net = this.net!;
    let lost = this.cuts.has(`${m.from}>${m.to}`) || !net.nodes.has(m.to);
    if (!lost) {
      const rule = this.lossRules.find((r) => r.left > 0 && matches(r.filter, m));
      if (rule) {
        rule.left--;
        lost = true;
      }
    }
    if (lost) this.out.push(`lost ${describeMessage(m)}`);
    else if (this.echoDeliveries) this.out.push(describeMessage(m));
    if (m.type === 'MsgSnapshot' && net.nodes.has(m.from)) this.out.push(`snapshot ${m.from}->${m.to} reported ${lost ? 'failure' : 'finish'}`);
    return lost;
  }

  private processReady(a: Args): string[] {
    this.noArgs(a);
    this.network().processReadies();
    return this.out;
  }

  /** Removes the queued messages matching `f` from the queue, in order. */
  private takeQueued(f: Filter): Message[] {
    const net = this.network();
    const taken = net.queue.filter((m) => matches(f, m));
    net.queue = net.queue.filter((m) => !matches(f, m));
    return taken;
  }

  private deliverMsgs(a: Args): string[] {
    this.noArgs(a);
    this.echoDeliveries = true;
    try {
      for (const m of this.takeQueued(filterOf(a))) this.net!.deliver(m);
    } finally {
      this.echoDeliveries = false;
    }
    return this.out;
  }

  private dropMsgs(a: Args): string[] {
    this.noArgs(a);
    for (const m of this.takeQueued(filterOf(a))) {
      this.out.push(`dropped ${describeMessage(m)}`);
      if (m.type === 'MsgSnapshot' && this.net!.nodes.has(m.from)) {
        this.net!.node(m.from).reportSnapshot(m.to, 'failure');
        this.out.push(`snapshot ${m.from}->${m.to} reported failure`);
      }
    }
    return this.out;
  }

  private stabilize(a: Args): string[] {
    const quiet = a.pos[0] === 'quiet';
    if (a.pos.length > (quiet ? 1 : 0)) throw new CommandError(`unexpected argument ${a.pos[quiet ? 1 : 0]}`);
    this.network().stabilize();
    // A set-up step whose messages another transcript shows already: keep the file to the point.
    if (quiet) this.out = [];
    return this.out;
  }

  private isolate(a: Args): string[] {
    for (const id of a.pos.map((x) => int(x, 'id'))) {
      for (const other of this.network().ids) {
        if (other === id) continue;
        this.cuts.add(`${id}>${other}`);
        this.cuts.add(`${other}>${id}`);
      }
    }
    return this.out;
  }

  /** `partition 1,2 3,4,5`: messages between groups are lost (a node in no group is alone). */
  private partition(a: Args): string[] {
    const groups = a.pos.map((g) => idList(g, 'partition'));
    const groupOf = (id: NodeId) => groups.findIndex((g) => g.includes(id));
    for (const from of this.network().ids) {
      for (const to of this.network().ids) {
        if (from === to) continue;
        const gf = groupOf(from);
        if (gf < 0 || gf !== groupOf(to)) this.cuts.add(`${from}>${to}`);
      }
    }
    return this.out;
  }

  private cut(a: Args): string[] {
    this.network();
    this.cuts.add(`${int(a.pos[0], 'from')}>${int(a.pos[1], 'to')}`);
    return this.out;
  }

  private lose(a: Args): string[] {
    this.network();
    this.noArgs(a);
    const count = a.opt.get('count');
    this.lossRules.push({ filter: filterOf(a), left: count === undefined ? Infinity : int(count, 'count') });
    return this.out;
  }

  private heal(a: Args): string[] {
    this.noArgs(a);
    this.cuts.clear();
    this.lossRules = [];
    return this.out;
  }

  // ---- looking -----------------------------------------------------------------------

  private raftState(_a: Args): string[] {
    const net = this.network();
    for (const id of net.ids) {
      const n = net.nodes.get(id);
      if (!n) {
        this.out.push(`${id}: stopped`);
        continue;
      }
      const s = n.status();
      const transferee = n.leadTransferee();
      this.out.push(`${id}: ${s.role} term=${s.term} vote=${s.vote} lead=${s.lead} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}` +
        (transferee !== 0 ? ` transferee=${transferee}` : ''));
    }
    return this.out;
  }

  private status(a: Args): string[] {
    const net = this.network();
    const id = int(a.pos[0], 'id');
    const n = this.node(id);
    for (const other of net.ids) {
      if (other === id) continue;
      const pr = n.progress(other);
      const flags = n.progressFlags(other);
      if (!pr || !flags) continue;
      this.out.push(`${other}: ${pr.state} match=${pr.match} next=${pr.next}${flags.recentActive ? '' : ' inactive'}${flags.paused ? ' paused' : ''}`);
    }
    if (this.out.length === 0) this.out.push(`${id} tracks no progress (not the leader)`);
    return this.out;
  }

  private log(a: Args): string[] {
    const net = this.network();
    const ids = a.pos.length > 0 ? a.pos.map((x) => int(x, 'id')) : net.ids;
    for (const id of ids) {
      const st = net.storages.get(id);
      if (!st) throw new CommandError(`no node ${id}`);
      const first = st.firstIndex();
      const point = entryRef({ index: first - 1, term: st.term(first - 1) });
      const ents = st.entries(first, st.lastIndex() + 1);
      this.out.push(`${id}: [${point}]${ents.map((e) => ` ${entryWithData(e)}`).join('')}`);
    }
    return this.out;
  }

  // ---- helpers -----------------------------------------------------------------------

  private network(): MemNetwork {
    if (!this.net) throw new CommandError('no network yet: add-nodes first');
    return this.net;
  }

  private node(id: NodeId) {
    const n = this.network().nodes.get(id);
    if (!n) throw new CommandError(`no running node ${id}`);
    return n;
  }

  private noArgs(a: Args): void {
    if (a.pos.length > 0) throw new CommandError(`unexpected argument ${a.pos[0]}`);
  }
}
