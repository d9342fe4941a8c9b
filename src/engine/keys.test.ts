// Properties of the key layout (keys.ts): byte order is numeric order, regions and column
// families never interleave, local keys sort before data keys, and decoding inverts encoding.

import t from 'tap';
import * as keys from './keys.js';

const cmp = Buffer.compare;
type Tap = Pick<typeof t, 'fail' | 'pass'>;

/** Asserts that the keys are strictly increasing byte-wise. */
function increasing(t: Tap, list: Buffer[], what: string): void {
  for (let i = 1; i < list.length; i++) {
    if (cmp(list[i - 1]!, list[i]!) >= 0) {
      t.fail(`${what}: ${list[i - 1]!.toString('hex')} is not below ${list[i]!.toString('hex')}`);
      return;
    }
  }
  t.pass(`${what}: ${list.length} keys strictly increasing`);
}

const NUMBERS = [0, 1, 2, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER];

t.test('u64be is 8 bytes big-endian and readU64be inverts it', async (t) => {
  t.same(keys.u64be(1), Buffer.from('0000000000000001', 'hex'));
  t.same(keys.u64be(256), Buffer.from('0000000000000100', 'hex'));
  increasing(t, NUMBERS.map((n) => keys.u64be(n)), 'u64be');
  for (const n of NUMBERS) t.equal(keys.readU64be(keys.u64be(n)), n);
  t.equal(keys.readU64be(Buffer.concat([Buffer.from('ab', 'hex'), keys.u64be(7)]), 1), 7, 'at an offset');
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) t.throws(() => keys.u64be(bad), RangeError, `rejects ${bad}`);
  t.throws(() => keys.readU64be(Buffer.alloc(7)), { code: 'BAD_ENCODING' });
  t.throws(() => keys.readU64be(Buffer.alloc(8, 0xff)), { code: 'BAD_ENCODING' }, 'above 2^53 - 1');
});

t.test('raft log keys: index order is byte order, regions do not interleave', async (t) => {
  increasing(t, [1, 2, 256, 2 ** 40].map((i) => keys.raftLogKey(1, i)), 'log 1 < 2 < 256 < 2^40');
  increasing(t, NUMBERS.map((i) => keys.raftLogKey(7, i)), 'log indexes');
  // Every key of region 1 sorts before every key of region 2, whatever the index.
  const r1 = [keys.raftLogKey(1, 0), keys.raftLogKey(1, Number.MAX_SAFE_INTEGER), keys.raftStateKey(1), keys.applyStateKey(1),
    keys.clientSessionKey(1, Number.MAX_SAFE_INTEGER)];
  const r2 = [keys.raftLogKey(2, 0), keys.raftLogKey(2, 1), keys.raftStateKey(2), keys.applyStateKey(2), keys.clientSessionKey(2, 0)];
  t.ok(r1.every((a) => r2.every((c) => cmp(a, c) < 0)), 'region 1 keys < region 2 keys');
  t.ok(cmp(keys.raftLogKey(255, 9), keys.raftLogKey(256, 1)) < 0, 'region 255 < region 256');
  for (const regionId of [1, 300]) {
    for (const index of NUMBERS) t.same(keys.decodeRaftLogKey(keys.raftLogKey(regionId, index)), { regionId, index });
  }
  t.throws(() => keys.raftLogKey(1, -1), RangeError);
  t.throws(() => keys.raftLogKey(1, 2.5), RangeError);
  t.throws(() => keys.raftLogKey(-3, 1), RangeError);
  t.throws(() => keys.decodeRaftLogKey(keys.raftStateKey(1)), { code: 'BAD_ENCODING' });
  t.throws(() => keys.decodeRaftLogKey(keys.applyStateKey(1)), { code: 'BAD_ENCODING' });
});

t.test('raftLogRange covers exactly the wanted indexes of one region', async (t) => {
  const [start, end] = keys.raftLogRange(5, 10, 20);
  const inside = (k: Buffer) => cmp(k, start) >= 0 && cmp(k, end) < 0;
  t.ok(inside(keys.raftLogKey(5, 10)) && inside(keys.raftLogKey(5, 19)));
  t.notOk(inside(keys.raftLogKey(5, 9)) || inside(keys.raftLogKey(5, 20)));
  const [tailStart, tailEnd] = keys.raftLogRange(5, 10);
  const inTail = (k: Buffer) => cmp(k, tailStart) >= 0 && cmp(k, tailEnd) < 0;
  t.ok(inTail(keys.raftLogKey(5, Number.MAX_SAFE_INTEGER)), 'an open range reaches the largest index');
  for (const other of [keys.raftLogKey(4, 99), keys.raftLogKey(6, 11), keys.raftStateKey(5), keys.applyStateKey(5)]) {
    t.notOk(inTail(other), `${other.toString('hex')} is outside region 5's log`);
  }
});

t.test('metadata keys are distinct, local, and below every data key', async (t) => {
  const meta = [keys.storeIdentKey(), keys.raftStateKey(1), keys.applyStateKey(1), keys.regionStateKey(1),
    keys.clientSessionKey(1, 1), keys.raftLogKey(1, 1)];
  t.equal(new Set(meta.map((k) => k.toString('hex'))).size, meta.length, 'all distinct');
  for (const k of meta) t.equal(k[0], keys.LOCAL_PREFIX);
  const lowestData = keys.dataKey('default', Buffer.alloc(0));
  t.ok(meta.every((k) => cmp(k, lowestData) < 0 && !keys.isDataKey(k)));
  const [s, e] = keys.clientSessionRange(3);
  t.ok(cmp(s, keys.clientSessionKey(3, 0)) <= 0 && cmp(keys.clientSessionKey(3, Number.MAX_SAFE_INTEGER), e) < 0);
  t.ok(cmp(keys.applyStateKey(3), s) < 0 && cmp(keys.clientSessionKey(4, 0), e) >= 0, 'nothing else in the session range');
  t.same(keys.decodeClientSessionKey(keys.clientSessionKey(3, 2 ** 40)), { regionId: 3, clientId: 2 ** 40 });
});

t.test('data keys: column families do not interleave, user key order is kept', async (t) => {
  const users = ['', '00', '00ff', '01', '7f', '80', 'ff', 'ffff'].map((h) => Buffer.from(h, 'hex'));
  const all = keys.CFS.flatMap((cf) => users.map((u) => keys.dataKey(cf, u)));
  increasing(t, all, 'cf by cf (default, lock, write), each in user-key order');
  // Sorting all keys together must group them by column family, each group in user-key order.
  const sorted = [...all].sort(cmp).map((k) => keys.decodeDataKey(k));
  const cfsInOrder = sorted.map((d) => d.cf);
  t.same(cfsInOrder, [...cfsInOrder].sort((a, c) => keys.CFS.indexOf(a) - keys.CFS.indexOf(c)), 'grouped by cf');
  for (const cf of keys.CFS) {
    t.same(sorted.filter((d) => d.cf === cf).map((d) => d.key), users, `${cf}: user order kept`);
    t.ok(users.every((u) => cmp(keys.dataKey(cf, u), keys.dataKeyEnd(cf)) < 0), `${cf}: below dataKeyEnd`);
  }
  t.ok(cmp(keys.dataKeyEnd('default'), keys.dataKey('lock', Buffer.alloc(0))) <= 0, 'default ends before lock starts');
  t.ok(cmp(keys.dataKeyEnd('lock'), keys.dataKey('write', Buffer.alloc(0))) <= 0, 'lock ends before write starts');
  t.same(keys.decodeDataKey(keys.dataKey('write', Buffer.from('hello'))), { cf: 'write', key: Buffer.from('hello') });
  t.same(keys.dataKey('default', new Uint8Array([1, 2])), keys.dataKey('default', Buffer.of(1, 2)), 'Uint8Array accepted');
  t.throws(() => keys.decodeDataKey(keys.raftStateKey(1)), { code: 'BAD_ENCODING' });
  t.throws(() => keys.decodeDataKey(Buffer.from('zq')), { code: 'BAD_ENCODING' }, 'unknown cf byte');
  t.throws(() => keys.dataKey('toString' as keys.Cf, Buffer.alloc(0)), TypeError);
});

t.test('dataRange maps a user range; an empty end means to the end of the cf', async (t) => {
  const [s, e] = keys.dataRange('default', Buffer.from('b'), Buffer.from('d'));
  const inside = (u: string) => cmp(keys.dataKey('default', Buffer.from(u)), s) >= 0 && cmp(keys.dataKey('default', Buffer.from(u)), e) < 0;
  t.same(['a', 'b', 'c', 'czzz', 'd', 'e'].map(inside), [false, true, true, true, false, false]);
  const [s2, e2] = keys.dataRange('lock', Buffer.from('b'), Buffer.alloc(0));
  t.same(s2, keys.dataKey('lock', Buffer.from('b')));
  t.same(e2, keys.dataKeyEnd('lock'));
  t.ok(cmp(keys.dataKey('lock', Buffer.alloc(100, 0xff)), e2) < 0, 'the largest lock key is inside');
  t.ok(cmp(keys.dataKey('write', Buffer.alloc(0)), e2) >= 0, 'no write key is inside');
});
