// The vocabulary of the Raft core: log entries, messages, persistent state and the
// Ready batch handed to the application. Pure data, no behaviour; every other file in
// src/raft builds on these. Messages are a discriminated union on `type`, so a switch
// over them is checked for exhaustiveness by the compiler.

export type Term = number;
export type Index = number;
/** A Raft node id (a Peer id in raftstore terms). 0 means "none". */
export type NodeId = number;

export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  readonly term: Term;
  readonly index: Index;
  readonly type: EntryType;
  /** Opaque to Raft. Empty for the no-op a new leader appends. */
  readonly data: Uint8Array;
}

/** What must be durable before the node answers a vote or an append. */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: Index;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  /** Members that receive the log but neither vote nor count toward any quorum. */
  readonly learners?: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: Index;
  readonly term: Term;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export type StateRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state worth reporting to the application when it changes. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: StateRole;
}

/** A ReadIndex result: once applied >= index, a read tagged `context` is linearizable. */
export interface ReadState {
  readonly index: Index;
  readonly context: Uint8Array;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** 0 for local messages (hup, beat, checkQuorum, propose). */
  readonly term: Term;
}

export interface MsgHup extends MessageBase { readonly type: 'MsgHup' }
export interface MsgBeat extends MessageBase { readonly type: 'MsgBeat' }
export interface MsgCheckQuorum extends MessageBase { readonly type: 'MsgCheckQuorum' }
export interface MsgPropose extends MessageBase {
  readonly type: 'MsgPropose';
  readonly entries: readonly Entry[];
}
export interface MsgAppend extends MessageBase {
  readonly type: 'MsgAppend';
  /** Index and term of the entry immediately preceding `entries`. */
  readonly index: Index;
  readonly logTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: Index;
}
export interface MsgAppendResponse extends MessageBase {
  readonly type: 'MsgAppendResponse';
  /** Accepted: the last index now known to match. Rejected: the probed index. */
  readonly index: Index;
  readonly reject: boolean;
  /** On rejection, the follower's guess of where the logs may match, and its term there. */
  readonly rejectHint: Index;
  readonly logTerm: Term;
}
export interface MsgRequestVote extends MessageBase {
  readonly type: 'MsgRequestVote' | 'MsgRequestPreVote';
  /** The candidate's last log index and term, for the up-to-date check (§5.4.1). */
  readonly index: Index;
  readonly logTerm: Term;
  /** The leader asked for this election (leader transfer): voters that still hear it vote anyway. */
  readonly transfer?: boolean;
}
export interface MsgRequestVoteResponse extends MessageBase {
  readonly type: 'MsgRequestVoteResponse' | 'MsgRequestPreVoteResponse';
  readonly reject: boolean;
}
export interface MsgHeartbeat extends MessageBase {
  readonly type: 'MsgHeartbeat';
  readonly commit: Index;
  /** The ReadIndex context this round confirms, if any. */
  readonly context: Uint8Array;
}
export interface MsgHeartbeatResponse extends MessageBase {
  readonly type: 'MsgHeartbeatResponse';
  readonly context: Uint8Array;
}
export interface MsgReadIndex extends MessageBase {
  readonly type: 'MsgReadIndex';
  readonly context: Uint8Array;
}
export interface MsgReadIndexResponse extends MessageBase {
  readonly type: 'MsgReadIndexResponse';
  readonly index: Index;
  readonly context: Uint8Array;
}
export interface MsgSnapshot extends MessageBase {
  readonly type: 'MsgSnapshot';
  readonly snapshot: Snapshot;
}
/** Asks the leader (forwarded to it by followers) to hand leadership to `transferee`. */
export interface MsgTransferLeader extends MessageBase {
  readonly type: 'MsgTransferLeader';
  readonly transferee: NodeId;
}
/** The leader tells its up-to-date transferee to campaign now (thesis §3.10). */
export interface MsgTimeoutNow extends MessageBase { readonly type: 'MsgTimeoutNow' }

export type Message =
  | MsgHup
  | MsgBeat
  | MsgCheckQuorum
  | MsgPropose
  | MsgAppend
  | MsgAppendResponse
  | MsgRequestVote
  | MsgRequestVoteResponse
  | MsgHeartbeat
  | MsgHeartbeatResponse
  | MsgReadIndex
  | MsgReadIndexResponse
  | MsgSnapshot
  | MsgTransferLeader
  | MsgTimeoutNow;

export type MessageType = Message['type'];

/** Messages that never leave the node that created them. */
export function isLocalMessage(m: Message): boolean {
  return m.type === 'MsgHup' || m.type === 'MsgBeat' || m.type === 'MsgCheckQuorum';
}

/**
 * Whether `m`, from `rd`, may be sent before `rd` is persisted: a leader's append or
 * heartbeat of a term already durable (`persistedTerm`, the stored hard state's term; a
 * leader's vote for itself was stored with it) whose commit index covers none of the
 * entries `rd` appends. The entries it carries may not be on the leader's disk yet (Raft
 * thesis §10.2.1: the leader writes its log in parallel with replicating it). That is safe
 * because nothing derived from them leaves the leader before they are durable: a commit
 * that counts them reaches the followers and the application only in a later Ready, and
 * the next Ready comes only after this one is persisted — except when the leader commits
 * them at once, alone a quorum (a single voter with learners): then its commit index does
 * cover them, and the message waits. Everything else a Ready holds — votes,
 * acknowledgements, snapshots — goes out only once it is persisted.
 */
export function sendableBeforePersist(m: Message, rd: Ready, persistedTerm: Term): boolean {
  if ((m.type !== 'MsgAppend' && m.type !== 'MsgHeartbeat') || m.term !== persistedTerm) return false;
  const firstNew = rd.entries[0]?.index;
  return firstNew === undefined || m.commit < firstNew;
}

export function isResponseMessage(m: Message): boolean {
  switch (m.type) {
    case 'MsgAppendResponse':
    case 'MsgRequestVoteResponse':
    case 'MsgRequestPreVoteResponse':
    case 'MsgHeartbeatResponse':
    case 'MsgReadIndexResponse':
      return true;
    default:
      return false;
  }
}

/**
 * Everything the application must do after a batch of inputs, in order:
 * persist `hardState` and `entries` (and `snapshot`) durably, then send `messages`,
 * then apply `committedEntries`, then call `advance(ready)`.
 */
export interface Ready {
  /** Present only when it changed since the last Ready. */
  readonly softState?: SoftState;
  /** Present only when it changed since the last Ready; persist before sending. */
  readonly hardState?: HardState;
  /** New log entries to append to stable storage, replacing any conflicting tail. */
  readonly entries: readonly Entry[];
  /**
   * A snapshot from the leader to install before anything else in this Ready: it replaces
   * the log (everything up to and including its index) and the state machine. A Ready
   * that carries one carries no committed entries.
   */
  readonly snapshot?: Snapshot;
  /** Entries committed and not yet applied, in log order. */
  readonly committedEntries: readonly Entry[];
  /**
   * Outbound messages; send only after the hard state and entries are durable, except
   * those sendableBeforePersist() allows.
   */
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };
