// Membership changes, one node at a time (Raft thesis §4.1): a change is a log entry of
// type 'confChange' and takes effect on a node when the application applies it
// (RawNode.applyConfChange), after it commits. A leader lets at most one change be
// pending (proposed and not yet applied), so any two consecutive configurations share a
// majority and no two leaders can be elected from disjoint quorums.
//
// Learners receive the log and snapshots but never vote, campaign, or count toward commit,
// ReadIndex or CheckQuorum quorums: a new store catches up as a learner and is promoted
// once it has, so adding it never costs the cluster its quorum while it is far behind.
//
// The entry's data is the application's; this file gives the core's own encoding (used by
// the tests and the simulation) and the rules every application follows when it applies.

import type { ConfState, NodeId } from './types.js';

/** What a membership change does to one node. */
export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

/** One membership change (one node at a time), the data of a 'confChange' entry. */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/** A change that cannot apply to the configuration in force (the caller's mistake, or a stale proposal). */
export class ConfChangeError extends Error {
  override readonly name: string = 'ConfChangeError';
}

/** Refused at proposal: another conf change is still pending (proposed, not applied). */
export class ConfChangePendingError extends ConfChangeError {
  override readonly name = 'ConfChangePendingError';
}

const TYPE_BYTE: Record<ConfChangeType, number> = { addVoter: 1, addLearner: 2, removeNode: 3 };
const BYTE_TYPE: Record<number, ConfChangeType> = { 1: 'addVoter', 2: 'addLearner', 3: 'removeNode' };

/** 1 type byte + the node id as 8 bytes big-endian. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) throw new RangeError(`conf change: bad node id ${cc.nodeId}`);
  const out = new Uint8Array(9);
  out[0] = TYPE_BYTE[cc.type];
  new DataView(out.buffer).setBigUint64(1, BigInt(cc.nodeId));
  return out;
}

/** Reads what encodeConfChange wrote; throws TypeError on anything else. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length !== 9) throw new TypeError(`conf change: expected 9 bytes, got ${data.length}`);
  const type = BYTE_TYPE[data[0]!];
  if (!type) throw new TypeError(`conf change: unknown type ${data[0]}`);
  const nodeId = Number(new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1));
  return { type, nodeId };
}

/**
 * The configuration after `cc`, or ConfChangeError if it does not apply: adding a voter
 * that is one (or a learner that is a voter: no demotion), removing a node that is not a
 * member, or removing the last voter.
 */
export function nextConfState(cs: ConfState, cc: ConfChange): ConfState {
  const voters = new Set(cs.voters);
  const learners = new Set(cs.learners ?? []);
  const id = cc.nodeId;
  switch (cc.type) {
    case 'addVoter':
      if (voters.has(id)) throw new ConfChangeError(`node ${id} is already a voter`);
      learners.delete(id); // a promotion, or a brand-new voter
      voters.add(id);
      break;
    case 'addLearner':
      if (voters.has(id)) throw new ConfChangeError(`node ${id} is a voter; demoting a voter is not supported`);
      if (learners.has(id)) throw new ConfChangeError(`node ${id} is already a learner`);
      learners.add(id);
      break;
    case 'removeNode':
      if (!voters.has(id) && !learners.has(id)) throw new ConfChangeError(`node ${id} is not a member`);
      if (voters.has(id) && voters.size === 1) throw new ConfChangeError(`node ${id} is the last voter`);
      voters.delete(id);
      learners.delete(id);
      break;
    default: {
      const never: never = cc.type;
      throw new ConfChangeError(`unknown conf change ${String(never)}`);
    }
  }
  return { voters: [...voters].sort((a, b) => a - b), learners: [...learners].sort((a, b) => a - b) };
}

/** Whether `id` is a voter or a learner of `cs`. */
export function isMember(cs: ConfState, id: NodeId): boolean {
  // Stryker disable next-line ArrayDeclaration: with no learner list, [] and ["Stryker was here"] alike hold no (numeric) node id
  return cs.voters.includes(id) || (cs.learners ?? []).includes(id);
}
