// The wire codec: every raft Message type survives messageToProto → messageFromProto,
// the same through protobuf bytes, and a whole RaftEnvelope through envelopeCodec —
// with typical values, with zero/empty values (protobuf defaults) and with the largest
// safe integers (no Long objects or precision loss).

import t from 'tap';
import { eraftpb, raft_serverpb } from '../gen/proto.js';
import type { Entry, Message, MessageType } from '../raft/index.js';
import { decodeEntry, encodeEntry, hardStateFromProto, hardStateToProto, messageFromProto, messageToProto } from './codec.js';
import type { RaftEnvelope } from './envelope.js';
import { envelopeCodec } from './envelope-codec.js';
import type { PeerId, StoreId } from './ids.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const BIG = Number.MAX_SAFE_INTEGER;

/** Replaces every Uint8Array (Buffer or not) by its hex, so values compare by content. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return { hex: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  }
  return v;
}

const entries: Entry[] = [
  { index: 11, term: 4, type: 'normal', data: bytes('put a=1') },
  { index: 12, term: 4, type: 'normal', data: new Uint8Array(0) },
  { index: 13, term: 5, type: 'confChange', data: bytes('add 4') },
];

/** One message of every type; a Record so the compiler insists on all of them. */
function samples(scale: 'typical' | 'zero' | 'big'): Record<MessageType, Message> {
  const n = (x: number) => (scale === 'zero' ? 0 : scale === 'big' ? BIG - x : x);
  const ctx = scale === 'zero' ? new Uint8Array(0) : bytes(`ctx-${scale}`);
  const ents = scale === 'zero' ? [] : entries;
  const base = { from: n(1), to: n(2), term: n(7) };
  return {
    MsgHup: { type: 'MsgHup', ...base },
    MsgBeat: { type: 'MsgBeat', ...base },
    MsgCheckQuorum: { type: 'MsgCheckQuorum', ...base },
    MsgPropose: { type: 'MsgPropose', ...base, entries: ents },
    MsgAppend: { type: 'MsgAppend', ...base, index: n(10), logTerm: n(4), commit: n(9), entries: ents },
    MsgAppendResponse: { type: 'MsgAppendResponse', ...base, index: n(13), reject: scale !== 'zero', rejectHint: n(8), logTerm: n(3) },
    MsgRequestVote: { type: 'MsgRequestVote', ...base, index: n(13), logTerm: n(5), ...(scale === 'typical' ? { transfer: true } : {}) },
    MsgRequestVoteResponse: { type: 'MsgRequestVoteResponse', ...base, reject: scale !== 'zero' },
    MsgRequestPreVote: { type: 'MsgRequestPreVote', ...base, index: n(14), logTerm: n(6) },
    MsgRequestPreVoteResponse: { type: 'MsgRequestPreVoteResponse', ...base, reject: scale === 'typical' },
    MsgHeartbeat: { type: 'MsgHeartbeat', ...base, commit: n(12), context: ctx },
    MsgHeartbeatResponse: { type: 'MsgHeartbeatResponse', ...base, context: ctx },
    MsgReadIndex: { type: 'MsgReadIndex', ...base, context: ctx },
    MsgReadIndexResponse: { type: 'MsgReadIndexResponse', ...base, index: n(13), context: ctx },
    MsgSnapshot: {
      type: 'MsgSnapshot', ...base,
      snapshot: {
        metadata: { index: n(20), term: n(6), confState: { voters: scale === 'zero' ? [] : [n(1), n(2), n(3)], learners: scale === 'zero' ? [] : [n(4)] } },
        data: ctx,
      },
    },
    MsgTransferLeader: { type: 'MsgTransferLeader', ...base, transferee: n(3) },
    MsgTimeoutNow: { type: 'MsgTimeoutNow', ...base },
  };
}

const ALL_TYPES = Object.keys(samples('typical')) as MessageType[];

t.test('the samples cover every message type of eraftpb', async (t) => {
  // Every enum value of eraftpb.MessageType that the core uses must have a sample.
  t.equal(ALL_TYPES.length, 17);
  const enumNames = Object.keys(eraftpb.MessageType).filter((k) => Number.isNaN(Number(k)));
  for (const name of ALL_TYPES) t.ok(enumNames.includes(name), `${name} is an eraftpb.MessageType`);
});

for (const scale of ['typical', 'zero', 'big'] as const) {
  t.test(`every message type round-trips (${scale} values)`, async (t) => {
    for (const [type, m] of Object.entries(samples(scale))) {
      const p = messageToProto(m);
      t.same(norm(messageFromProto(p)), norm(m), `${type}: through the proto object`);

      const wire = eraftpb.Message.encode(p).finish();
      const back = messageFromProto(eraftpb.Message.decode(wire));
      t.same(norm(back), norm(m), `${type}: through protobuf bytes`);
      t.equal(back.type, type, `${type}: the type survives`);
      for (const [k, v] of Object.entries(back)) {
        if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v) && k !== 'snapshot') {
          t.fail(`${type}.${k} decoded as a ${v.constructor?.name ?? 'object'} (Long?)`);
        }
      }
    }
  });

  t.test(`every message type round-trips inside a RaftEnvelope (${scale} values)`, async (t) => {
    for (const [type, m] of Object.entries(samples(scale))) {
      const env: RaftEnvelope = {
        regionId: scale === 'big' ? BIG : 1,
        fromPeer: { id: 1 as PeerId, storeId: 1 as StoreId },
        toPeer: { id: 3 as PeerId, storeId: (scale === 'big' ? BIG - 1 : 3) as StoreId },
        regionEpoch: { confVer: scale === 'zero' ? 0 : 2, version: scale === 'big' ? BIG - 2 : 5 },
        message: m,
      };
      const buf = envelopeCodec.encode(env);
      t.ok(buf instanceof Uint8Array && buf.length > 0, `${type}: encodes to bytes`);
      t.same(norm(envelopeCodec.decode(buf)), norm(env), `${type}: the envelope survives`);
    }
  });
}

t.test('entries and hard state round-trip', async (t) => {
  for (const e of entries) t.same(norm(decodeEntry(encodeEntry(e))), norm(e), `entry ${e.index} (${e.type})`);
  const big: Entry = { index: BIG, term: BIG - 1, type: 'normal', data: bytes('x') };
  t.same(norm(decodeEntry(encodeEntry(big))), norm(big), 'entry with the largest safe index');
  for (const hs of [{ term: 0, vote: 0, commit: 0 }, { term: 9, vote: 2, commit: 40 }, { term: BIG, vote: 3, commit: BIG - 1 }]) {
    const wire = eraftpb.HardState.encode(hardStateToProto(hs)).finish();
    t.same(hardStateFromProto(eraftpb.HardState.decode(wire)), hs, `hard state ${JSON.stringify(hs)}`);
  }
  t.same(hardStateFromProto(undefined), { term: 0, vote: 0, commit: 0 }, 'a missing hard state reads as empty');
});

t.test('malformed input is refused with a clear error', async (t) => {
  t.throws(() => messageFromProto({ msg_type: 999 as eraftpb.MessageType }), { name: 'TypeError', message: /unknown raft message type 999/ });
  t.throws(() => messageFromProto({}), /unknown raft message type/);
  const noMessage = raft_serverpb.RaftMessage.encode({ region_id: 1, from_peer: { id: 1, store_id: 1 }, to_peer: { id: 2, store_id: 2 } }).finish();
  t.throws(() => envelopeCodec.decode(noMessage), /without a message/);
});
