// Conversions between the Raft core's TypeScript types and their protobuf forms
// (eraftpb), used for the raft log on disk and for messages on the wire. The core
// never sees protobuf; this file is the only bridge.

import { eraftpb } from '../gen/proto.js';
import type { Entry, HardState, Message, MessageType, Snapshot } from '../raft/index.js';

const EMPTY = new Uint8Array(0);

const MSG_TYPES: Record<MessageType, eraftpb.MessageType> = {
  MsgHup: eraftpb.MessageType.MsgHup,
  MsgBeat: eraftpb.MessageType.MsgBeat,
  MsgCheckQuorum: eraftpb.MessageType.MsgCheckQuorum,
  MsgPropose: eraftpb.MessageType.MsgPropose,
  MsgAppend: eraftpb.MessageType.MsgAppend,
  MsgAppendResponse: eraftpb.MessageType.MsgAppendResponse,
  MsgRequestVote: eraftpb.MessageType.MsgRequestVote,
  MsgRequestVoteResponse: eraftpb.MessageType.MsgRequestVoteResponse,
  MsgRequestPreVote: eraftpb.MessageType.MsgRequestPreVote,
  MsgRequestPreVoteResponse: eraftpb.MessageType.MsgRequestPreVoteResponse,
  MsgHeartbeat: eraftpb.MessageType.MsgHeartbeat,
  MsgHeartbeatResponse: eraftpb.MessageType.MsgHeartbeatResponse,
  MsgReadIndex: eraftpb.MessageType.MsgReadIndex,
  MsgReadIndexResponse: eraftpb.MessageType.MsgReadIndexResponse,
  MsgSnapshot: eraftpb.MessageType.MsgSnapshot,
  MsgTransferLeader: eraftpb.MessageType.MsgTransferLeader,
  MsgTimeoutNow: eraftpb.MessageType.MsgTimeoutNow,
};

const MSG_TYPE_NAMES = new Map<number, MessageType>(
  Object.entries(MSG_TYPES).map(([name, num]) => [num, name as MessageType]),
);

export function entryToProto(e: Entry): eraftpb.IEntry {
  return {
    entry_type: e.type === 'confChange' ? eraftpb.EntryType.EntryConfChange : eraftpb.EntryType.EntryNormal,
    term: e.term,
    index: e.index,
    data: e.data,
  };
}

export function entryFromProto(p: eraftpb.IEntry): Entry {
  return {
    type: p.entry_type === eraftpb.EntryType.EntryConfChange ? 'confChange' : 'normal',
    term: Number(p.term ?? 0),
    index: Number(p.index ?? 0),
    data: p.data ?? EMPTY,
  };
}

export function encodeEntry(e: Entry): Uint8Array {
  return eraftpb.Entry.encode(entryToProto(e)).finish();
}

export function decodeEntry(b: Uint8Array): Entry {
  return entryFromProto(eraftpb.Entry.decode(b));
}

export function hardStateToProto(hs: HardState): eraftpb.IHardState {
  return { term: hs.term, vote: hs.vote, commit: hs.commit };
}

export function hardStateFromProto(p: eraftpb.IHardState | null | undefined): HardState {
  return { term: Number(p?.term ?? 0), vote: Number(p?.vote ?? 0), commit: Number(p?.commit ?? 0) };
}

function snapshotToProto(s: Snapshot): eraftpb.ISnapshot {
  return {
    data: s.data,
    metadata: { index: s.metadata.index, term: s.metadata.term, conf_state: { voters: [...s.metadata.confState.voters], learners: [...(s.metadata.confState.learners ?? [])] } },
  };
}

function snapshotFromProto(p: eraftpb.ISnapshot | null | undefined): Snapshot {
  const md = p?.metadata;
  return {
    data: p?.data ?? EMPTY,
    metadata: {
      index: Number(md?.index ?? 0),
      term: Number(md?.term ?? 0),
      confState: { voters: (md?.conf_state?.voters ?? []).map(Number), learners: (md?.conf_state?.learners ?? []).map(Number) },
    },
  };
}

/** Every field a message type may carry, flattened into eraftpb.Message. */
export function messageToProto(m: Message): eraftpb.IMessage {
  const p: eraftpb.IMessage = { msg_type: MSG_TYPES[m.type], from: m.from, to: m.to, term: m.term };
  switch (m.type) {
    case 'MsgHup': case 'MsgBeat': case 'MsgCheckQuorum':
      break;
    case 'MsgPropose':
      p.entries = m.entries.map(entryToProto);
      break;
    case 'MsgAppend':
      Object.assign(p, { index: m.index, log_term: m.logTerm, commit: m.commit, entries: m.entries.map(entryToProto) });
      break;
    case 'MsgAppendResponse':
      Object.assign(p, { index: m.index, reject: m.reject, reject_hint: m.rejectHint, log_term: m.logTerm });
      break;
    case 'MsgRequestVote': case 'MsgRequestPreVote':
      Object.assign(p, { index: m.index, log_term: m.logTerm, ...(m.transfer ? { transfer: true } : {}) });
      break;
    case 'MsgRequestVoteResponse': case 'MsgRequestPreVoteResponse':
      p.reject = m.reject;
      break;
    case 'MsgHeartbeat':
      Object.assign(p, { commit: m.commit, context: m.context });
      break;
    case 'MsgHeartbeatResponse': case 'MsgReadIndex':
      p.context = m.context;
      break;
    case 'MsgReadIndexResponse':
      Object.assign(p, { index: m.index, context: m.context });
      break;
    case 'MsgSnapshot':
      p.snapshot = snapshotToProto(m.snapshot);
      break;
    case 'MsgTransferLeader':
      p.transferee = m.transferee;
      break;
    case 'MsgTimeoutNow':
      break;
    default: {
      const never: never = m;
      throw new TypeError(`unknown message ${JSON.stringify(never)}`);
    }
  }
  return p;
}

export function messageFromProto(p: eraftpb.IMessage): Message {
  const type = MSG_TYPE_NAMES.get(Number(p.msg_type ?? -1));
  if (!type) throw new TypeError(`unknown raft message type ${String(p.msg_type)}`);
  const base = { from: Number(p.from ?? 0), to: Number(p.to ?? 0), term: Number(p.term ?? 0) };
  const index = Number(p.index ?? 0);
  const logTerm = Number(p.log_term ?? 0);
  const context = p.context ?? EMPTY;
  switch (type) {
    case 'MsgHup': case 'MsgBeat': case 'MsgCheckQuorum':
      return { type, ...base };
    case 'MsgPropose':
      return { type, ...base, entries: (p.entries ?? []).map(entryFromProto) };
    case 'MsgAppend':
      return { type, ...base, index, logTerm, commit: Number(p.commit ?? 0), entries: (p.entries ?? []).map(entryFromProto) };
    case 'MsgAppendResponse':
      return { type, ...base, index, logTerm, reject: Boolean(p.reject), rejectHint: Number(p.reject_hint ?? 0) };
    case 'MsgRequestVote': case 'MsgRequestPreVote':
      return { type, ...base, index, logTerm, ...(p.transfer ? { transfer: true } : {}) };
    case 'MsgRequestVoteResponse': case 'MsgRequestPreVoteResponse':
      return { type, ...base, reject: Boolean(p.reject) };
    case 'MsgHeartbeat':
      return { type, ...base, commit: Number(p.commit ?? 0), context };
    case 'MsgHeartbeatResponse': case 'MsgReadIndex':
      return { type, ...base, context };
    case 'MsgReadIndexResponse':
      return { type, ...base, index, context };
    case 'MsgSnapshot':
      return { type, ...base, snapshot: snapshotFromProto(p.snapshot) };
    case 'MsgTransferLeader':
      return { type, ...base, transferee: Number(p.transferee ?? 0) };
    case 'MsgTimeoutNow':
      return { type, ...base };
    default: {
      const never: never = type;
      throw new TypeError(`unknown message type ${String(never)}`);
    }
  }
}
