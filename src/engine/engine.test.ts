// Runs the KvEngine compliance suite (engine-suite.ts) on both engines, then the few things
// only a disk engine can show: data survives close and reopen, a locked directory is refused
// with a clear error, and close() lets a write that was already started finish.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runEngineSuite } from './engine-suite.js';
import { EngineOpenError, WriteBatch } from './kv-engine.js';
import { openMemoryEngine } from './memory-engine.js';
import { openRocksEngine } from './rocksdb-engine.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { enc as b } from '../../test/support/bytes.js';

const root = tempDir(t, 'tinykv-engine-');
let dirs = 0;
/** A fresh directory under the test's temp root (it does not exist yet: open creates it). */
const freshDir = () => join(root, `db-${++dirs}`, 'nested');

runEngineSuite(t, 'memory', openMemoryEngine);
runEngineSuite(t, 'rocksdb', () => openRocksEngine(freshDir()));

t.test('rocksdb: synced data is there after close and reopen', async (t) => {
  const dir = freshDir();
  const e1 = await openRocksEngine(dir);
  const wb = new WriteBatch();
  for (let i = 0; i < 300; i++) wb.put(b(`key-${String(i).padStart(3, '0')}`), b(`value-${i}`));
  wb.deleteRange(b('key-100'), b('key-200'));
  await e1.write(wb, { sync: true });
  await e1.close();

  const e2 = await openRocksEngine(dir, { createIfMissing: false });
  t.teardown(() => e2.close());
  t.same(await e2.get(b('key-042')), b('value-42'));
  t.equal(await e2.get(b('key-150')), undefined);
  const all = await e2.scan({ start: b('key-') });
  t.equal(all.length, 200);
  t.same(all[100]![0], b('key-200'));
});

t.test('rocksdb: a directory in use is refused with ENGINE_OPEN_FAILED naming the path', async (t) => {
  const dir = freshDir();
  const e1 = await openRocksEngine(dir);
  t.teardown(() => e1.close());
  const err = await openRocksEngine(dir).then(
    (e2) => { void e2.close(); return undefined; },
    (e: unknown) => e,
  );
  t.ok(err instanceof EngineOpenError, 'an EngineOpenError');
  t.match(err, { code: 'ENGINE_OPEN_FAILED', path: dir });
  t.match((err as Error).message, dir);
  t.match((err as Error).message, /lock/i);
});

t.test('rocksdb: opening a missing directory without createIfMissing fails clearly', async (t) => {
  const dir = freshDir();
  await t.rejects(openRocksEngine(dir, { createIfMissing: false }), { code: 'ENGINE_OPEN_FAILED', path: dir });
  const file = join(root, 'a-file');
  await writeFile(file, 'not a directory');
  await t.rejects(openRocksEngine(join(file, 'db')), { code: 'ENGINE_OPEN_FAILED' });
});

t.test('rocksdb: close() waits for writes already started', async (t) => {
  const dir = freshDir();
  const e1 = await openRocksEngine(dir);
  await e1.write(new WriteBatch().put(b('a1'), b('x')).put(b('a2'), b('x')), { sync: true });
  // A deleteRange needs reads before its batch reaches RocksDB; close must not overtake it.
  const writes = [
    e1.write(new WriteBatch().deleteRange(b('a'), b('b')).put(b('late'), b('yes')), { sync: true }),
    e1.write(new WriteBatch().put(b('later'), b('yes')), { sync: false }),
  ];
  await e1.close();
  t.same(await Promise.allSettled(writes), [{ status: 'fulfilled', value: undefined }, { status: 'fulfilled', value: undefined }]);
  const e2 = await openRocksEngine(dir);
  t.teardown(() => e2.close());
  t.same((await e2.scan({ start: b('a') })).map(([k]) => k.toString()), ['late', 'later']);
});
