// The simulation's flight recorder: a fixed-size ring of the most recent events, kept as
// small objects and formatted to one line each only when a failure (or verbose mode)
// asks for them, so recording costs almost nothing on the many seeds that pass.
//
//   step 412 n2→n3 MsgAppend t7 idx 40/t6 ents 2 commit 39
//   step 413 crash n1
//   step 415 partition {1,2}|{3,4,5}

import type { Message, NodeId, StateRole } from '../../src/raft/index.js';

export type DropReason = 'random' | 'partition' | 'down' | 'overflow';

/** One thing that happened; `step` is filled in by the Trace. */
export type TraceEvent =
  | { readonly k: 'deliver'; readonly m: Message }
  | { readonly k: 'drop'; readonly m: Message; readonly why: DropReason }
  | { readonly k: 'dup'; readonly m: Message }
  | { readonly k: 'tick'; readonly node: NodeId | 'all' }
  | { readonly k: 'campaign'; readonly node: NodeId }
  | { readonly k: 'propose'; readonly node: NodeId; readonly data: string; readonly index: number; readonly term: number }
  | { readonly k: 'read'; readonly node: NodeId; readonly ctx: string; readonly floor: number }
  | { readonly k: 'readState'; readonly node: NodeId; readonly ctx: string; readonly index: number }
  | { readonly k: 'partition'; readonly text: string }
  | { readonly k: 'heal' }
  | { readonly k: 'crash'; readonly node: NodeId; readonly midReady: boolean }
  | { readonly k: 'restart'; readonly node: NodeId }
  | { readonly k: 'role'; readonly node: NodeId; readonly role: StateRole; readonly term: number }
  | { readonly k: 'persist'; readonly node: NodeId; readonly first: number; readonly last: number; readonly hs: string }
  | { readonly k: 'apply'; readonly node: NodeId; readonly first: number; readonly last: number }
  | { readonly k: 'note'; readonly text: string };

interface Stamped {
  readonly step: number;
  readonly ev: TraceEvent;
}

/** Renders bytes we created ourselves (`p17`, `r3`) as text; anything else as hex. */
export function showBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c < 0x20 || c > 0x7e) return `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
    s += String.fromCharCode(c);
  }
  return s;
}

/** One message, compactly: type, term and the fields that matter for that type. */
export function formatMessage(m: Message): string {
  const head = `n${m.from}→n${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'MsgAppend':
      return `${head} idx ${m.index}/t${m.logTerm} ents ${m.entries.length} commit ${m.commit}`;
    case 'MsgAppendResponse':
      return m.reject
        ? `${head} reject idx ${m.index} hint ${m.rejectHint}/t${m.logTerm}`
        : `${head} idx ${m.index}`;
    case 'MsgRequestVote':
    case 'MsgRequestPreVote':
      return `${head} last ${m.index}/t${m.logTerm}`;
    case 'MsgRequestVoteResponse':
    case 'MsgRequestPreVoteResponse':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'MsgHeartbeat':
      return `${head} commit ${m.commit}${m.context.length > 0 ? ` ctx ${showBytes(m.context)}` : ''}`;
    case 'MsgHeartbeatResponse':
      return m.context.length > 0 ? `${head} ctx ${showBytes(m.context)}` : head;
    case 'MsgReadIndex':
      return `${head} ctx ${showBytes(m.context)}`;
    case 'MsgReadIndexResponse':
      return `${head} idx ${m.index} ctx ${showBytes(m.context)}`;
    case 'MsgPropose':
      return `${head} ents ${m.entries.length}`;
    case 'MsgSnapshot':
      return `${head} snap ${m.snapshot.metadata.index}/t${m.snapshot.metadata.term}`;
    case 'MsgTransferLeader':
      return `${head} to ${m.transferee}`;
    case 'MsgHup':
    case 'MsgBeat':
    case 'MsgCheckQuorum':
    case 'MsgTimeoutNow':
      return head;
    default: {
      const never: never = m;
      return String(never);
    }
  }
}

export function formatEvent(ev: TraceEvent): string {
  switch (ev.k) {
    case 'deliver': return formatMessage(ev.m);
    case 'drop': return `drop (${ev.why}) ${formatMessage(ev.m)}`;
    case 'dup': return `dup ${formatMessage(ev.m)}`;
    case 'tick': return ev.node === 'all' ? 'tick all' : `tick n${ev.node}`;
    case 'campaign': return `campaign n${ev.node}`;
    case 'propose': return `propose n${ev.node} ${ev.data} → idx ${ev.index} t${ev.term}`;
    case 'read': return `readIndex n${ev.node} ctx ${ev.ctx} (committed so far ${ev.floor})`;
    case 'readState': return `readState n${ev.node} ctx ${ev.ctx} idx ${ev.index}`;
    case 'partition': return `partition ${ev.text}`;
    case 'heal': return 'heal';
    case 'crash': return `crash n${ev.node}${ev.midReady ? ' (after persisting, before sending)' : ''}`;
    case 'restart': return `restart n${ev.node}`;
    case 'role': return `n${ev.node} is ${ev.role} t${ev.term}`;
    case 'persist': {
      const ents = ev.first > ev.last ? [] : [`ents ${ev.first}..${ev.last}`];
      return [`n${ev.node} persist`, ...ents, ...(ev.hs ? [ev.hs] : [])].join(' ');
    }
    case 'apply': return `n${ev.node} apply ${ev.first}..${ev.last}`;
    case 'note': return ev.text;
    default: {
      const never: never = ev;
      return String(never);
    }
  }
}

export interface TraceOptions {
  /** How many recent events to keep for a failure report. */
  readonly capacity?: number;
  /** Verbose mode: every event is also formatted and passed here as it happens. */
  readonly sink?: (line: string) => void;
}

export class Trace {
  /** The step number stamped on events recorded from now on. */
  step = 0;
  private readonly ring: (Stamped | undefined)[];
  /** Total events recorded; ring[recorded % capacity] is the next slot. */
  private recorded = 0;
  private readonly sink: ((line: string) => void) | undefined;

  constructor(opts: TraceOptions = {}) {
    this.ring = new Array<Stamped | undefined>(opts.capacity ?? 60).fill(undefined);
    this.sink = opts.sink;
  }

  record(ev: TraceEvent): void {
    const s: Stamped = { step: this.step, ev };
    this.ring[this.recorded % this.ring.length] = s;
    this.recorded++;
    if (this.sink) this.sink(formatStamped(s));
  }

  /** The kept events, oldest first, one line each. */
  lines(): string[] {
    const n = Math.min(this.recorded, this.ring.length);
    const out: string[] = [];
    for (let i = this.recorded - n; i < this.recorded; i++) out.push(formatStamped(this.ring[i % this.ring.length]!));
    return out;
  }
}

function formatStamped(s: Stamped): string {
  return `step ${s.step} ${formatEvent(s.ev)}`;
}
