// The client session table and one apply batch's changes to it: rows read back from kvdb
// as written (the reject-before mark under client id 0, not a row), a batch's changes
// seen by the rest of the same batch but folded into the table only by commit(), expiry
// dropping rows idle strictly before the cut (also rows written earlier in the batch), and
// a mark that never goes down. apply.test.ts checks the same rules through applyEntries.

import t from 'tap';
import { keys } from '../engine/index.js';
import { WriteBatch } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import { openMemoryEngine } from '../engine/index.js';
import { decodeSessionRow, encodeSessionRow, SESSION_MARK_ID, SessionChanges, SessionTable } from './session-table.js';
import type { SessionRow } from './session-table.js';

const REGION = 7;

function table(rows: Array<[number, SessionRow]>, rejectBeforeMs = 0): SessionTable {
  const tb = new SessionTable();
  for (const [id, r] of rows) tb.rows.set(id, r);
  tb.rejectBeforeMs = rejectBeforeMs;
  return tb;
}

/** A kvdb holding `tb` as its durable copy. */
async function engineWith(tb: SessionTable): Promise<KvEngine> {
  const kv = await openMemoryEngine();
  const batch = new WriteBatch();
  for (const [id, r] of tb.rows) batch.put(keys.clientSessionKey(REGION, id), encodeSessionRow(r));
  batch.put(keys.clientSessionKey(REGION, SESSION_MARK_ID), keys.u64be(tb.rejectBeforeMs));
  await kv.write(batch, { sync: false });
  return kv;
}

/** Writes the changes in one batch and loads the table back, as a restarted peer would. */
async function writeAndLoad(kv: KvEngine, c: SessionChanges): Promise<SessionTable> {
  const batch = new WriteBatch();
  c.writeTo(batch, REGION);
  await kv.write(batch, { sync: false });
  return SessionTable.load(kv, REGION);
}

const sorted = (tb: SessionTable) => [...tb.rows].sort((x, y) => x[0] - y[0]);

t.test('a row is 16 bytes (sequence, last use); an 8-byte row from before expiry reads as never used since', async (t) => {
  const row = { sequence: 2 ** 40 + 3, lastUsedMs: 1_700_000_000_123 };
  const enc = encodeSessionRow(row);
  t.equal(enc.length, 16);
  t.same(decodeSessionRow(enc), row, 'round trip');
  t.same(decodeSessionRow(keys.u64be(5)), { sequence: 5, lastUsedMs: 0 }, 'an old 8-byte row: last used at 0, the first to expire');
  for (const n of [0, 7, 9, 15, 17, 24]) {
    t.throws(() => decodeSessionRow(Buffer.alloc(n)), { name: 'TypeError', message: `client session row of ${n} bytes` }, `${n} bytes is corrupt`);
  }
});

t.test("load reads this region's rows and its mark (client id 0), and nothing of other regions", async (t) => {
  const kv = await openMemoryEngine();
  const empty = await SessionTable.load(kv, REGION);
  t.same([empty.rows.size, empty.rejectBeforeMs], [0, 0], 'no keys: no rows, mark 0');

  const batch = new WriteBatch();
  batch.put(keys.clientSessionKey(REGION, 1), encodeSessionRow({ sequence: 4, lastUsedMs: 100 }));
  batch.put(keys.clientSessionKey(REGION, 2), keys.u64be(9));
  batch.put(keys.clientSessionKey(REGION, SESSION_MARK_ID), keys.u64be(3500));
  batch.put(keys.clientSessionKey(REGION + 1, 1), encodeSessionRow({ sequence: 99, lastUsedMs: 99 }));
  batch.put(keys.clientSessionKey(REGION + 1, SESSION_MARK_ID), keys.u64be(99));
  await kv.write(batch, { sync: false });
  const tb = await SessionTable.load(kv, REGION);
  t.same(sorted(tb), [[1, { sequence: 4, lastUsedMs: 100 }], [2, { sequence: 9, lastUsedMs: 0 }]]);
  t.equal(tb.rejectBeforeMs, 3500, 'the mark is the mark, not a row');
});

t.test('replaceWith takes the other table whole: its rows only, and its mark', async (t) => {
  const mine = table([[1, { sequence: 1, lastUsedMs: 1 }], [2, { sequence: 2, lastUsedMs: 2 }]], 500);
  const theirs = table([[2, { sequence: 7, lastUsedMs: 70 }], [3, { sequence: 3, lastUsedMs: 30 }]], 100);
  mine.replaceWith(theirs);
  t.same(sorted(mine), [[2, { sequence: 7, lastUsedMs: 70 }], [3, { sequence: 3, lastUsedMs: 30 }]], 'row 1 is gone, row 2 replaced');
  t.equal(mine.rejectBeforeMs, 100, 'the mark is the snapshot\'s, even a lower one');
  theirs.rows.delete(3);
  t.equal(mine.rows.size, 2, 'a copy: later changes to the other table do not show');
});

t.test('oldestUseMs is the earliest last use, Infinity with no rows', async (t) => {
  t.equal(new SessionTable().oldestUseMs(), Infinity, 'nothing to expire');
  t.equal(table([[1, { sequence: 1, lastUsedMs: 300 }], [2, { sequence: 1, lastUsedMs: 100 }], [3, { sequence: 1, lastUsedMs: 200 }]]).oldestUseMs(), 100);
});

t.test("a batch's changes are seen by the rest of the batch and reach the table only on commit", async (t) => {
  const tb = table([[1, { sequence: 1, lastUsedMs: 100 }], [2, { sequence: 5, lastUsedMs: 100 }]], 50);
  const c = new SessionChanges(tb);
  t.equal(c.changed, false, 'nothing yet');
  t.same(c.get(1), { sequence: 1, lastUsedMs: 100 }, 'an untouched row is the table\'s');
  t.equal(c.get(3), undefined);
  t.equal(c.rejectBeforeMs, 50, 'the table\'s mark until an expiry');
  c.put(1, { sequence: 2, lastUsedMs: 900 });
  c.put(3, { sequence: 1, lastUsedMs: 900 });
  t.equal(c.changed, true);
  t.same([c.get(1), c.get(3)], [{ sequence: 2, lastUsedMs: 900 }, { sequence: 1, lastUsedMs: 900 }], 'the batch sees its own writes');
  t.same(sorted(tb), [[1, { sequence: 1, lastUsedMs: 100 }], [2, { sequence: 5, lastUsedMs: 100 }]], 'the table is untouched before commit');
  c.commit();
  t.same(sorted(tb), [[1, { sequence: 2, lastUsedMs: 900 }], [2, { sequence: 5, lastUsedMs: 100 }], [3, { sequence: 1, lastUsedMs: 900 }]]);
  t.equal(tb.rejectBeforeMs, 50, 'no expiry: the mark stays');
});

t.test('expire drops the rows last used strictly before the cut, also rows written earlier in the batch', async (t) => {
  const tb = table([
    [1, { sequence: 1, lastUsedMs: 999 }], // idle: dropped
    [2, { sequence: 1, lastUsedMs: 1000 }], // used at the cut itself: kept
    [3, { sequence: 1, lastUsedMs: 10 }], // idle in the table, but used again in this batch: kept
  ]);
  const c = new SessionChanges(tb);
  c.put(3, { sequence: 2, lastUsedMs: 5000 });
  c.put(4, { sequence: 1, lastUsedMs: 20 }); // new in this batch and already idle: dropped
  t.same(c.expire(1000, 1500).sort(), [1, 4], 'the ids dropped');
  t.same([c.get(1), c.get(2)?.sequence, c.get(3)?.sequence, c.get(4)], [undefined, 1, 2, undefined], 'the rest of the batch sees the drops');
  t.same(c.expire(1000, 1500), [], 'a second expiry does not drop (or count) them again');
  t.equal(c.rejectBeforeMs, 1500);

  const loaded = await writeAndLoad(await engineWith(tb), c);
  c.commit();
  for (const [how, got] of [['in memory', tb], ['from kvdb', loaded]] as const) {
    t.same(sorted(got), [[2, { sequence: 1, lastUsedMs: 1000 }], [3, { sequence: 2, lastUsedMs: 5000 }]], `${how}: rows 2 and 3 are left`);
    t.equal(got.rejectBeforeMs, 1500, `${how}: the mark is raised`);
  }
});

t.test('a client written again after its row was dropped in the same batch has a row again', async (t) => {
  const tb = table([[1, { sequence: 3, lastUsedMs: 10 }]]);
  const c = new SessionChanges(tb);
  t.same(c.expire(100, 200), [1]);
  c.put(1, { sequence: 1, lastUsedMs: 300 });
  t.same(c.get(1), { sequence: 1, lastUsedMs: 300 }, 'a new session');
  const loaded = await writeAndLoad(await engineWith(tb), c);
  c.commit();
  t.same(sorted(tb), [[1, { sequence: 1, lastUsedMs: 300 }]], 'in memory the row is the new one');
  t.same(sorted(loaded), [[1, { sequence: 1, lastUsedMs: 300 }]], 'and in kvdb: the drop did not delete it after the put');
});

t.test('the mark never goes down: an expiry with an older mark keeps the higher one', async (t) => {
  const tb = table([], 4000);
  const c = new SessionChanges(tb);
  c.expire(1000, 1500);
  t.equal(c.rejectBeforeMs, 4000, 'lower than the table\'s: the table\'s stays');
  t.equal(c.changed, true, 'an expiry is a change even when it drops nothing');
  c.expire(5000, 5500);
  c.expire(2000, 2500);
  t.equal(c.rejectBeforeMs, 5500, 'the highest of the batch');
  const loaded = await writeAndLoad(await engineWith(tb), c);
  c.commit();
  t.same([tb.rejectBeforeMs, loaded.rejectBeforeMs], [5500, 5500]);
});

t.test('writeTo writes exactly the changes: rows set, rows dropped, and the mark only after an expiry', async (t) => {
  const tb = table([[1, { sequence: 1, lastUsedMs: 10 }], [2, { sequence: 1, lastUsedMs: 5000 }]], 700);
  const none = new WriteBatch();
  new SessionChanges(tb).writeTo(none, REGION);
  t.equal(none.count, 0, 'no changes: nothing written');

  const onlyPut = new SessionChanges(tb);
  onlyPut.put(3, { sequence: 1, lastUsedMs: 6000 });
  const b1 = new WriteBatch();
  onlyPut.writeTo(b1, REGION);
  t.same(b1.ops.map((op) => [op.type, op.type === 'deleteRange' ? '' : keys.decodeClientSessionKey(op.key).clientId]), [['put', 3]],
    'a put alone does not rewrite the mark');

  const c = new SessionChanges(tb);
  c.put(2, { sequence: 2, lastUsedMs: 6000 });
  c.expire(100, 200);
  const b2 = new WriteBatch();
  c.writeTo(b2, REGION);
  t.same(b2.ops.map((op) => [op.type, op.type === 'deleteRange' ? '' : keys.decodeClientSessionKey(op.key).clientId]),
    [['put', 2], ['delete', 1], ['put', SESSION_MARK_ID]]);
  t.same(b2.ops.map((op) => op.type === 'deleteRange' ? -1 : keys.decodeClientSessionKey(op.key).regionId), [REGION, REGION, REGION], 'under the region given');
  const mark = b2.ops[2];
  t.equal(mark?.type === 'put' ? keys.readU64be(mark.value) : -1, 700, 'the mark kept at the table\'s (higher) value');
});
