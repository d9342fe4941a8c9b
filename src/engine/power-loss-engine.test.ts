// PowerLossEngine: the KvEngine contract holds through it (the shared suite), and a power
// loss forgets exactly what a page cache would: never a synced write nor anything before
// one; all, none or a suffix of the unsynced writes after it; always the write in flight.

import t from 'tap';
import { runEngineSuite } from './engine-suite.js';
import { WriteBatch } from './kv-engine.js';
import { openMemoryEngine } from './memory-engine.js';
import { PowerLossEngine } from './power-loss-engine.js';
import { enc as b } from '../../test/support/bytes.js';

const put = (k: string, v: string) => new WriteBatch().put(b(k), b(v));

runEngineSuite(t, 'power-loss wrapper', async () => new PowerLossEngine(await openMemoryEngine()));

async function survivors(lose: 'all' | 'none' | 'suffix', random?: () => number): Promise<string[]> {
  const inner = await openMemoryEngine();
  const e = new PowerLossEngine(inner);
  await e.write(put('a', '1'), { sync: false });
  await e.write(put('b', '1'), { sync: true }); // a and b are durable now
  await e.write(put('c', '1'), { sync: false });
  await e.write(put('a', '2'), { sync: false });
  await e.write(new WriteBatch().deleteRange(b('b'), b('c')), { sync: false });
  await e.powerLoss({ lose, ...(random ? { random } : {}) });
  return (await inner.scan({ start: b('') })).map(([k, v]) => `${k}=${v}`);
}

t.test('synced writes and all before them survive; unsynced ones after may not', async (t) => {
  t.same(await survivors('all'), ['a=1', 'b=1'], 'all unsynced writes lost: back to the last sync');
  t.same(await survivors('none'), ['a=2', 'c=1'], 'none lost: everything as written');
  const seen = new Set<string>();
  for (const r of [0, 0.3, 0.5, 0.8, 0.99]) seen.add(JSON.stringify(await survivors('suffix', () => r)));
  t.same([...seen].sort(), [
    '["a=1","b=1"]', '["a=1","b=1","c=1"]', '["a=2","b=1","c=1"]', '["a=2","c=1"]',
  ].sort(), 'a suffix: every outcome is a prefix of the unsynced writes');
});

t.test('a write not yet acknowledged when the power goes is lost and rejected; nothing works afterwards', async (t) => {
  const inner = await openMemoryEngine();
  const e = new PowerLossEngine(inner);
  await e.write(put('k', 'old'), { sync: true });
  const inFlight = e.write(put('k', 'new'), { sync: true });
  const loss = e.powerLoss({ lose: 'none' });
  await t.rejects(inFlight, { code: 'ENGINE_CLOSED' }, 'its caller never hears it succeed');
  await loss;
  t.same(await inner.get(b('k')), b('old'), 'and its change is gone');
  await t.rejects(e.get(b('k')), { code: 'ENGINE_CLOSED' });
  await t.rejects(e.write(put('x', 'y'), { sync: true }), { code: 'ENGINE_CLOSED' });
});
