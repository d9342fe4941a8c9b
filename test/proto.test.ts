// Round-trips messages of the generated protobuf code (src/gen/proto.js, made by
// `npm run gen` from proto/*.proto): encode then decode must give back every field.
// Also pins two properties of the generator set-up that other code relies on: field
// names keep their snake_case, and 64-bit integers decode as plain numbers (never Long).

import t from 'tap';
import { eraftpb, kvrpcpb, raft_cmdpb, raft_serverpb } from '../src/gen/proto.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const hex = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('hex') : '<none>');

/** The input with every Uint8Array turned into an array of numbers, as decodedPlain() gives for the decoded message. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/**
 * A decoded message as a plain object of the fields it carries: what plain() gives for the
 * input. (Decoding sets only the fields on the wire, plus an empty array for each repeated
 * field; the generated code has no toObject, which the build leaves out: see gen-proto.mjs.)
 */
function decodedPlain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(decodedPlain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).filter(([, x]) => !(Array.isArray(x) && x.length === 0)).map(([k, x]) => [k, decodedPlain(x)]),
    );
  }
  return v;
}

t.test('eraftpb.Message with entries and a snapshot', async (t) => {
  // No field is at its default value, so a dropped field shows up in the whole-object check.
  const input = {
    msg_type: eraftpb.MessageType.MsgAppend,
    to: 2,
    from: 1,
    term: 2 ** 40 + 7, // beyond 32 bits: exercises the 64-bit path
    log_term: 6,
    index: 41,
    entries: [
      // entry_type left out: EntryNormal is 0, the default, which the wire does not carry.
      { term: 7, index: 42, data: bytes('put a=1') },
      { entry_type: eraftpb.EntryType.EntryConfChange, term: 7, index: 43, data: new Uint8Array([0, 255, 1]) },
    ],
    commit: 40,
    snapshot: {
      data: bytes('state'),
      metadata: { conf_state: { voters: [1, 2, 3] }, index: 30, term: 5 },
    },
    reject: true,
    reject_hint: 39,
    context: bytes('read-17'),
  };
  const wire = eraftpb.Message.encode(input).finish();
  const out = eraftpb.Message.decode(wire);

  t.equal(out.msg_type, eraftpb.MessageType.MsgAppend);
  t.equal(out.msg_type, 3, 'enum values are plain numbers');
  t.equal(eraftpb.MessageType[out.msg_type], 'MsgAppend', 'enums map numbers back to names');
  t.equal(out.to, 2);
  t.equal(out.from, 1);
  t.equal(out.term, 2 ** 40 + 7);
  t.equal(typeof out.term, 'number', 'uint64 decodes as a number, not a Long');
  t.equal(out.log_term, 6);
  t.equal(out.index, 41);
  t.equal(out.commit, 40);
  t.equal(out.reject, true);
  t.equal(out.reject_hint, 39);
  t.equal(hex(out.context), hex(bytes('read-17')));
  t.equal(out.entries.length, 2);
  t.equal(out.entries[0]?.entry_type, eraftpb.EntryType.EntryNormal);
  t.equal(out.entries[1]?.entry_type, eraftpb.EntryType.EntryConfChange);
  t.equal(out.entries[1]?.index, 43);
  t.equal(hex(out.entries[1]?.data), '00ff01');
  t.strictSame(out.snapshot?.metadata?.conf_state?.voters, [1, 2, 3]);
  t.strictSame(decodedPlain(out), plain(input), 'every field survives');

  // The whole-object check can tell messages apart.
  const other = eraftpb.Message.decode(eraftpb.Message.encode({ ...input, reject_hint: 38 }).finish());
  t.notSame(decodedPlain(other), plain(input));
});

t.test('eraftpb.Message defaults after decoding an empty buffer', async (t) => {
  const out = eraftpb.Message.decode(new Uint8Array());
  t.equal(out.msg_type, eraftpb.MessageType.MsgHup);
  t.equal(out.term, 0, 'a default uint64 is the number 0');
  t.equal(typeof out.term, 'number');
  t.equal(out.reject, false);
  t.strictSame(out.entries, []);
  t.equal(out.snapshot, null, 'an unset message field is null');
  t.equal(out.context.length, 0);
});

t.test('raft_serverpb.RaftLocalState', async (t) => {
  const input = { hard_state: { term: 9, vote: 3, commit: 120 }, last_index: 125, last_term: 9 };
  const out = raft_serverpb.RaftLocalState.decode(raft_serverpb.RaftLocalState.encode(input).finish());
  t.equal(out.hard_state?.term, 9);
  t.equal(out.hard_state?.vote, 3);
  t.equal(out.hard_state?.commit, 120);
  t.equal(out.last_index, 125);
  t.equal(out.last_term, 9);
  t.strictSame(decodedPlain(out), plain(input));
});

t.test('raft_cmdpb.RaftCmdRequest with normal and admin requests', async (t) => {
  const input = {
    header: {
      region_id: 1,
      peer: { id: 2, store_id: 2 },
      region_epoch: { conf_ver: 4, version: 5 },
      term: 8,
      client_id: 77,
      sequence: 1001,
    },
    requests: [
      { cmd_type: raft_cmdpb.CmdType.Put, put: { cf: 'default', key: bytes('k1'), value: bytes('v1') } },
      { cmd_type: raft_cmdpb.CmdType.Delete, delete: { cf: 'lock', key: bytes('k2') } },
      { cmd_type: raft_cmdpb.CmdType.Scan, scan: { cf: 'write', start_key: bytes('a'), end_key: bytes('z'), limit: 10 } },
    ],
    admin_request: {
      cmd_type: raft_cmdpb.AdminCmdType.ChangePeer,
      change_peer: { change_type: eraftpb.ConfChangeType.RemoveNode, peer: { id: 3, store_id: 3 } },
    },
  };
  const out = raft_cmdpb.RaftCmdRequest.decode(raft_cmdpb.RaftCmdRequest.encode(input).finish());
  t.equal(out.header?.region_id, 1);
  t.equal(out.header?.region_epoch?.conf_ver, 4);
  t.equal(out.header?.region_epoch?.version, 5);
  t.equal(out.header?.client_id, 77);
  t.equal(out.header?.sequence, 1001);
  t.equal(out.requests.length, 3);
  t.equal(out.requests[0]?.cmd_type, raft_cmdpb.CmdType.Put);
  t.equal(hex(out.requests[0]?.put?.value), hex(bytes('v1')));
  t.equal(out.requests[0]?.delete, null, 'only the field of its kind is set');
  t.equal(out.requests[1]?.delete?.cf, 'lock');
  t.equal(out.requests[2]?.scan?.limit, 10);
  t.equal(out.admin_request?.change_peer?.change_type, eraftpb.ConfChangeType.RemoveNode);
  t.equal(out.admin_request?.change_peer?.peer?.store_id, 3);
  t.strictSame(decodedPlain(out), plain(input));
});

t.test('kvrpcpb.RawPutRequest', async (t) => {
  const input = {
    context: { region_id: 1, region_epoch: { conf_ver: 1, version: 1 }, peer: { id: 1, store_id: 1 } },
    key: bytes('user:42'),
    value: new Uint8Array(300).fill(0xab), // longer than one varint byte of length
    cf: 'default',
    client_id: 2 ** 33,
    sequence: 3,
  };
  const out = kvrpcpb.RawPutRequest.decode(kvrpcpb.RawPutRequest.encode(input).finish());
  t.equal(out.context?.region_id, 1);
  t.equal(out.context?.peer?.id, 1);
  t.equal(hex(out.key), hex(bytes('user:42')));
  t.equal(out.value.length, 300);
  t.equal(hex(out.value), 'ab'.repeat(300));
  t.equal(out.cf, 'default');
  t.equal(out.client_id, 2 ** 33);
  t.equal(out.sequence, 3);
  t.strictSame(decodedPlain(out), plain(input));
});
