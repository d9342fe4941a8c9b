// The vocabulary of the Raft core: log entries, messages, persistent state and the
// Ready batch handed to the application. Pure data, no behaviour; every other file in
// src/raft builds on these. Messages are a discriminated union on `type`, so a switch
// over them is checked for exhaustiveness by the compiler.

/** A Raft term: increases with each election, never reused. */
export type Term = number;
/** A log position, 1-based; 0 means before the first entry. */
export type Index = number;
/** A Raft node id (a Peer id in raftstore terms). 0 means "none". */
export type NodeId = number;

/** The NodeId that names no node (no vote, no known leader). */
export const NONE: NodeId = 0;

/** What a log entry carries: application data, or a ConfChange. */
export type EntryType = 'normal' | 'confChange';

/** One log entry; (index, term) names it uniquely across the group (Log Matching). */
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

/** A group's membership: the voters and the learners. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  /** Members that receive the log but neither vote nor count toward any quorum. */
  readonly learners?: readonly NodeId[];
}

/** What a snapshot covers: the log up to (index, term), and the configuration at that index. */
export interface SnapshotMetadata {
  readonly index: Index;
  readonly term: Term;
  readonly confState: ConfState;
}

/** A state machine image at metadata.index; data is the application's. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** The role a node plays in its current term. */
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

/** Local: start an election (sent by tick when the election timeout passes, or by a caller). */
export interface MsgHup extends MessageBase { readonly type: 'MsgHup' }
/** Local: a leader's heartbeat tick; sends heartbeats to every peer. */
export interface MsgBeat extends MessageBase { readonly type: 'MsgBeat' }
/** Local: a leader checks that a quorum was heard from this election timeout, or steps down. */
export interface MsgCheckQuorum extends MessageBase { readonly type: 'MsgCheckQuorum' }
/** Entries to append: handled by a leader, refused elsewhere (ProposalDroppedError). */
export interface MsgPropose extends MessageBase {
  readonly type: 'MsgPropose';
  readonly entries: readonly Entry[];
}
/** Leader to follower: entries after (index, logTerm), and the leader's commit index. */
export interface MsgAppend extends MessageBase {
  readonly type: 'MsgAppend';
  /** Index and term of the entry immediately preceding `entries`. */
  readonly index: Index;
  readonly logTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: Index;
}
/**
 * Follower to leader: an append accepted up to `index`, or rejected with a hint where the
 * logs may match.
 */
export interface MsgAppendResponse extends MessageBase {
  readonly type: 'MsgAppendResponse';
  /** Accepted: the last index now known to match. Rejected: the probed index. */
  readonly index: Index;
  readonly reject: boolean;
  /** On rejection, the follower's guess of where the logs may match, and its term there. */
  readonly rejectHint: Index;
  readonly logTerm: Term;
}
/** A candidate (or pre-candidate) asks for a vote, giving its last log position. */
export interface MsgRequestVote extends MessageBase {
  readonly type: 'MsgRequestVote' | 'MsgRequestPreVote';
  /** The candidate's last log index and term, for the up-to-date check (§5.4.1). */
  readonly index: Index;
  readonly logTerm: Term;
  /** The leader asked for this election (leader transfer): voters that still hear it vote anyway. */
  readonly transfer?: boolean;
}
/** A vote (or pre-vote) granted or refused. */
export interface MsgRequestVoteResponse extends MessageBase {
  readonly type: 'MsgRequestVoteResponse' | 'MsgRequestPreVoteResponse';
  readonly reject: boolean;
}
/**
 * Leader to follower: keeps the follower from campaigning, carries the commit index and a
 * ReadIndex context.
 */
export interface MsgHeartbeat extends MessageBase {
  readonly type: 'MsgHeartbeat';
  readonly commit: Index;
  /** The ReadIndex context this round confirms, if any. */
  readonly context: Uint8Array;
}
/** Follower to leader: a heartbeat answered, echoing its context. */
export interface MsgHeartbeatResponse extends MessageBase {
  readonly type: 'MsgHeartbeatResponse';
  readonly context: Uint8Array;
}
/** A request to confirm leadership for a linearizable read; `context` names the read. */
export interface MsgReadIndex extends MessageBase {
  readonly type: 'MsgReadIndex';
  readonly context: Uint8Array;
}
/** The commit index a read with `context` may be served at, once applied. */
export interface MsgReadIndexResponse extends MessageBase {
  readonly type: 'MsgReadIndexResponse';
  readonly index: Index;
  readonly context: Uint8Array;
}
/** Leader to follower: a snapshot, for a follower whose next entries are compacted away. */
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

/** Every message the core sends, receives or steps locally; switch on `type`. */
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

/** The `type` of a Message. */
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

/** Whether `m` answers another message (and so never needs an answer itself). */
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

/** Whether `hs` is the state of a node that has never voted, heard a term or committed. */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

/** Whether two hard states are the same (term, vote and commit). */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** The hard state of a brand-new node: term 0, no vote, nothing committed. */
export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };
