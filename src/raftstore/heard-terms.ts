// The durable record of what each other store has said: the newest of its peers heard
// from, and the highest term heard from that peer. A message that raises either waits
// (with any that follow it from that store) until the new record is fsynced in kvdb: so
// whatever this store acts on (a vote, an acknowledgement), it can later tell a store that
// comes back with less (src/node/identity.ts asks for these records).

import { WriteBatch } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import { keys } from '../engine/index.js';
import type { Message } from '../raft/index.js';
import type { RaftEnvelope } from './envelope.js';
import type { StoreId } from './ids.js';

/** Messages from one store held while its new term is being recorded; more are dropped. */
const MAX_WAITING_MESSAGES = 4096;

export class HeardTerms {
  private readonly records = new Map<StoreId, keys.HeardRecord>();
  private readonly waiting = new Map<StoreId, RaftEnvelope[]>();

  /**
   * `redeliver` takes back each held message once its record is durable (it goes through
   * admit again); `failed` is told when the record cannot be written.
   */
  constructor(
    private readonly kv: KvEngine,
    private readonly redeliver: (env: RaftEnvelope) => void,
    private readonly failed: (err: Error) => void,
  ) {}

  /** Reads the records kvdb holds (at start, before any message). */
  async load(): Promise<void> {
    const [start, end] = keys.peerTermRange();
    for (const [k, v] of await this.kv.scan({ start, end })) {
      this.records.set(keys.decodePeerTermKey(k) as StoreId, keys.decodeHeardRecord(v));
    }
  }

  /**
   * Whether `env` may be delivered now. If not, it is held (behind a record being written,
   * or as the message that raises one) and handed to `redeliver` once that is durable.
   */
  admit(env: RaftEnvelope): boolean {
    const from = env.fromPeer.storeId;
    const waiting = this.waiting.get(from);
    if (waiting) {
      if (waiting.length < MAX_WAITING_MESSAGES) waiting.push(env); // beyond: dropped, Raft resends
      return false;
    }
    const term = recordedTerm(env.message);
    const heard = this.records.get(from);
    const peerId = env.fromPeer.id as number;
    // A message from an older peer of that store (a late one) changes nothing.
    if (term > 0 && (!heard || peerId > heard.peerId || (peerId === heard.peerId && term > heard.term))) {
      this.record(from, { peerId, term }, env);
      return false;
    }
    return true;
  }

  private record(from: StoreId, rec: keys.HeardRecord, first: RaftEnvelope): void {
    const queue = [first];
    this.waiting.set(from, queue);
    const wb = new WriteBatch();
    wb.put(keys.peerTermKey(from), keys.encodeHeardRecord(rec));
    this.kv.write(wb, { sync: true }).then(() => {
      this.records.set(from, rec);
      this.waiting.delete(from);
      for (const env of queue) this.redeliver(env);
    }, (e: Error) => {
      this.waiting.delete(from);
      this.failed(e);
    });
  }

  /** The highest term durably recorded as heard from `storeId` (0: never). */
  heardTerm(storeId: StoreId): number {
    return this.records.get(storeId)?.term ?? 0;
  }
}

/**
 * The term a message proves its sender had durably reached, or 0. Pre-vote messages carry
 * a term the sender has not adopted (a pre-candidate asks in term + 1 without moving), so
 * they prove nothing.
 */
function recordedTerm(m: Message): number {
  return m.type === 'MsgRequestPreVote' || m.type === 'MsgRequestPreVoteResponse' ? 0 : m.term;
}
