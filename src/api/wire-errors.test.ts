// Every ErrorCode through the bridge: built, encoded into real protobuf bytes, decoded,
// and compared with what was sent (class, code, message, every field). It walks
// ERROR_CODES, so a code added without a mapping (or without an example here) fails.

import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { errorpb, kvrpcpb } from '../gen/proto.js';
import { ERROR_CODES, type ErrorCode } from './codes.js';
import {
  ChangePeerRefusedError, EpochNotMatchError, InvalidRequestError, KeyNotInRegionError, NotLeaderError, RegionNotFoundError,
  ServerIsBusyError, SessionExpiredError, StaleCommandError, StoreNotMatchError, StoreStoppedError,
} from './errors.js';
import { errorFromAnswer, errorToWire, GrpcStatus, regionErrorFromProto, WIRE } from './wire-errors.js';

/** Errors that cross the wire, by code; several for a code whose fields have cases. */
const EXAMPLES: Partial<Record<ErrorCode, readonly Error[]>> = {
  NOT_LEADER: [
    new NotLeaderError(1, { id: 7, storeId: 3 }),
    new NotLeaderError(4, { id: 8, storeId: 5, learner: true }),
    new NotLeaderError(1, undefined),
  ],
  REGION_NOT_FOUND: [new RegionNotFoundError(9)],
  STORE_NOT_MATCH: [new StoreNotMatchError(2, 3)],
  EPOCH_NOT_MATCH: [
    new EpochNotMatchError(1, { confVer: 5, version: 2 }),
    // After a split: two regions where the request's was, each with its range and peers.
    new EpochNotMatchError(1, { confVer: 5, version: 3 }, [
      { id: 1, startKey: new Uint8Array(), endKey: Buffer.from('m'), epoch: { confVer: 5, version: 3 }, peers: [{ id: 11, storeId: 1 }, { id: 12, storeId: 2, learner: true }] },
      { id: 4, startKey: Buffer.from('m'), endKey: new Uint8Array(), epoch: { confVer: 5, version: 3 }, peers: [{ id: 41, storeId: 1 }] },
    ]),
  ],
  KEY_NOT_IN_REGION: [
    new KeyNotInRegionError(1, Buffer.from([0, 0xff, 0x61])),
    new KeyNotInRegionError(2, Buffer.from('z'), Buffer.from('a'), Buffer.from('m')),
  ],
  STALE_COMMAND: [new StaleCommandError('index 12 was taken by term 4')],
  SERVER_IS_BUSY: [new ServerIsBusyError('1024 proposals pending')],
  STORE_STOPPED: [new StoreStoppedError(3)],
  SESSION_EXPIRED: [new SessionExpiredError(77, 1_000_001)],
  CHANGE_PEER_REFUSED: [
    new ChangePeerRefusedError(1, 'store 4 is already a voter'),
    new ChangePeerRefusedError(1, 'an earlier change is not applied yet', true),
  ],
  INVALID_REQUEST: [new InvalidRequestError('key of 5000 bytes is over the limit')],
};

/** An error's own fields, byte arrays as plain arrays (a decoded one may be a Buffer). */
function fields(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { class: e.constructor.name, message: e.message };
  for (const [k, v] of Object.entries(e)) out[k] = v instanceof Uint8Array ? [...v] : v;
  return out;
}

/** Over the wire as a store sends it: in an answer, as protobuf bytes. */
function roundTrip(e: Error): Error | undefined {
  const w = errorToWire(e);
  if (!('answer' in w)) return undefined;
  // ChangePeerResponse: an answer with both `region_error` and `error`.
  const bytes = kvrpcpb.ChangePeerResponse.encode(kvrpcpb.ChangePeerResponse.create(w.answer)).finish();
  return errorFromAnswer(kvrpcpb.ChangePeerResponse.decode(bytes));
}

t.test('every error code crosses the wire unchanged, or is marked as never crossing it', async (t) => {
  for (const code of ERROR_CODES) {
    const m = WIRE[code];
    if (!m) {
      t.fail(`${code}: no wire mapping`);
      continue;
    }
    const examples = EXAMPLES[code];
    if (m.via === 'never') {
      t.ok(m.why.length > 0, `${code}: never on the wire (${m.why})`);
      t.equal(examples, undefined, `${code}: an example for a code that never crosses`);
      continue;
    }
    if (!examples) {
      t.fail(`${code}: crosses the wire (${m.via}) but has no example here`);
      continue;
    }
    for (const sent of examples) {
      t.equal((sent as { code?: unknown }).code, code, `example for ${code} has that code`);
      const w = errorToWire(sent);
      const inAnswer = 'answer' in w ? w.answer : undefined;
      if (m.via === 'region_error') {
        t.ok(inAnswer && 'region_error' in inAnswer && inAnswer.region_error[m.field], `${code} travels in region_error.${m.field}`);
      } else {
        t.ok(inAnswer && 'error' in inAnswer, `${code} travels as the answer's error text`);
      }
      const got = roundTrip(sent);
      t.ok(got, `${code}: decoded to an error`);
      if (!got) continue;
      t.equal(got.constructor, sent.constructor, `${code}: same class`);
      t.same(fields(got), fields(sent), `${code}: same code, message and fields (${sent.message})`);
    }
  }
});

t.test('only the codes that cross the wire have examples', async (t) => {
  const codes: readonly string[] = ERROR_CODES;
  for (const code of Object.keys(EXAMPLES)) t.ok(codes.includes(code), `${code} is a code`);
});

t.test('anything else is a failure of the call, UNAVAILABLE unless the caller says otherwise', async (t) => {
  t.same(errorToWire(new Error('engine on fire')), { status: GrpcStatus.UNAVAILABLE, details: 'engine on fire' });
  t.same(errorToWire(new Error('x'), GrpcStatus.INTERNAL), { status: GrpcStatus.INTERNAL, details: 'x' });
  t.same(errorToWire('a string'), { status: GrpcStatus.UNAVAILABLE, details: 'a string' });
  t.equal(errorFromAnswer({}), undefined, 'an answer without an error');
});

t.test('a region error of a kind this client does not know is retried as SERVER_IS_BUSY', async (t) => {
  // What a client sees of a newer store's kind: no field it knows, and the message.
  const e = regionErrorFromProto(errorpb.Error.decode(errorpb.Error.encode({ message: 'something new' }).finish()));
  t.ok(e instanceof ServerIsBusyError);
  t.equal((e as ServerIsBusyError).reason, 'something new');
});

t.test('the named gRPC statuses are gRPC\'s', async (t) => {
  for (const [name, value] of Object.entries(GrpcStatus)) {
    t.equal(value, grpc.status[name as keyof typeof grpc.status], name);
  }
});
