// One-line text forms of entries, messages and Readies for transcripts. Each form names
// only what the rule under test can depend on (index and term of an entry, the fields of
// a message the receiver reads), so a transcript changes when behaviour changes and not
// when an unrelated field is added.

import { decodeConfChange } from '../conf-change.js';
import type { Entry, Message, Ready, Snapshot } from '../types.js';

const dec = new TextDecoder();

/** `7@6`: the entry at index 7 of term 6. */
export function entryRef(e: Pick<Entry, 'index' | 'term'>): string {
  return `${e.index}@${e.term}`;
}

/** Entries in order, runs of one term shortened: `7..16@6,17@7`. */
export function entryRuns(es: ReadonlyArray<Pick<Entry, 'index' | 'term'>>): string {
  const parts: string[] = [];
  let i = 0;
  while (i < es.length) {
    let j = i;
    while (j + 1 < es.length && es[j + 1]!.term === es[i]!.term && es[j + 1]!.index === es[j]!.index + 1) j++;
    parts.push(j === i ? entryRef(es[i]!) : `${es[i]!.index}..${es[j]!.index}@${es[i]!.term}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Bytes as text when printable without spaces, else as a JSON string. */
export function bytes(b: Uint8Array): string {
  const s = dec.decode(b);
  return /^[\x21-\x7e]+$/.test(s) ? s : JSON.stringify(s);
}

/** `7@6:a` with the entry's data (nothing after the term for an empty one). */
export function entryWithData(e: Entry): string {
  if (e.type === 'confChange') {
    try {
      const cc = decodeConfChange(e.data);
      return `${entryRef(e)}:conf(${cc.type} ${cc.nodeId})`;
    } catch {
      return `${entryRef(e)}:conf(?)`;
    }
  }
  return e.data.length === 0 ? entryRef(e) : `${entryRef(e)}:${bytes(e.data)}`;
}

function snapshotFields(s: Snapshot): string {
  const { index, term, confState } = s.metadata;
  const learners = confState.learners ?? [];
  return `${index}@${term} voters=${confState.voters.join(',')}${learners.length > 0 ? ` learners=${learners.join(',')}` : ''}`;
}

const ctx = (c: Uint8Array) => (c.length > 0 ? ` ctx=${bytes(c)}` : '');

/** `1->2 MsgAppend term=6 prev=5@5 entries=6@6 commit=5`. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'MsgAppend':
      return `${head} prev=${m.index}@${m.logTerm}${m.entries.length > 0 ? ` entries=${entryRuns(m.entries)}` : ''} commit=${m.commit}`;
    case 'MsgAppendResponse':
      return m.reject ? `${head} index=${m.index} reject hint=${m.rejectHint}@${m.logTerm}` : `${head} index=${m.index}`;
    case 'MsgRequestVote':
    case 'MsgRequestPreVote':
      return `${head} last=${m.index}@${m.logTerm}${m.transfer === true ? ' transfer' : ''}`;
    case 'MsgRequestVoteResponse':
    case 'MsgRequestPreVoteResponse':
      return m.reject ? `${head} reject` : head;
    case 'MsgHeartbeat':
      return `${head} commit=${m.commit}${ctx(m.context)}`;
    case 'MsgHeartbeatResponse':
    case 'MsgReadIndex':
      return `${head}${ctx(m.context)}`;
    case 'MsgReadIndexResponse':
      return `${head} index=${m.index}${ctx(m.context)}`;
    case 'MsgSnapshot':
      return `${head} snapshot=${snapshotFields(m.snapshot)}`;
    case 'MsgTransferLeader':
      return `${head} transferee=${m.transferee}`;
    case 'MsgPropose':
      return `${head} entries=${entryRuns(m.entries)}`;
    default:
      return head; // MsgHup, MsgBeat, MsgCheckQuorum, MsgTimeoutNow: the type says it all
  }
}

/**
 * A Ready as indented lines under a header with its soft and hard state (only the parts it
 * carries). Each message is marked `send-early` when sendableBeforePersist allows it to
 * leave before the Ready is persisted, `send` otherwise; `early` decides which.
 */
export function describeReady(id: number, rd: Ready, early: (m: Message) => boolean): string[] {
  let head = `ready ${id}`;
  const fields: string[] = [];
  if (rd.softState) fields.push(`role=${rd.softState.role} lead=${rd.softState.lead}`);
  if (rd.hardState) fields.push(`term=${rd.hardState.term} vote=${rd.hardState.vote} commit=${rd.hardState.commit}`);
  if (fields.length > 0) head += `: ${fields.join(' ')}`;
  const out = [head];
  if (rd.snapshot) out.push(`  snapshot ${snapshotFields(rd.snapshot)}`);
  if (rd.entries.length > 0) out.push(`  entries ${entryRuns(rd.entries)}`);
  if (rd.committedEntries.length > 0) out.push(`  apply ${entryRuns(rd.committedEntries)}`);
  for (const r of rd.readStates) out.push(`  read index=${r.index}${ctx(r.context)}`);
  for (const m of rd.messages) out.push(`  ${early(m) ? 'send-early' : 'send'} ${describeMessage(m)}`);
  return out;
}
