// kill -9 every store at once while clients write, then `cluster up` again: every write
// that was acknowledged before the crash is still there with its value, nothing that was
// never written appears, and writes whose outcome was unknown are simply either there or
// not. This is what fsync-before-acknowledge (DESIGN.md, "Durability and restart") buys.

import t from 'tap';
import { connectKvClient } from '../../src/client/index.js';
import { storeProcessState } from '../../src/orchestrator/liveness.js';
import { readPidFile } from '../../src/orchestrator/pid-file.js';
import { makeCluster, status } from './helpers.js';
import { sleep } from '../support/wait.js';

const WRITERS = 3;
const MAX_WRITES_PER_WRITER = 2000;
const WRITE_FOR_MS = 2500;

t.test('kill -9 all stores during writes; nothing acknowledged is lost', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');

  const acked = new Map<string, string>();
  const unknown = new Set<string>();
  let crashed = false;
  const writer = async (w: number) => {
    const { client, close } = connectKvClient(c.cfg, { timeoutMs: 1500, attemptTimeoutMs: 500 });
    try {
      for (let i = 0; i < MAX_WRITES_PER_WRITER && !crashed; i++) {
        const key = `w${w}-${String(i).padStart(5, '0')}`;
        const value = `value of ${key}`;
        try {
          await client.put(Buffer.from(key), Buffer.from(value));
          acked.set(key, value);
        } catch {
          unknown.add(key);
          break; // the cluster is gone; stop this writer
        }
      }
    } finally {
      close();
    }
  };
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
  await sleep(WRITE_FOR_MS); // the writers write for a while before the kill

  // kill -9 all three in one synchronous pass, by their recorded PIDs.
  const recs = c.cfg.stores.map((s) => readPidFile(c.cfg, s.id)!);
  t.equal(recs.filter((r) => r && storeProcessState(r) === 'running').length, 3, 'three stores were running');
  const ackedAtKill = acked.size;
  for (const rec of recs) process.kill(rec.pid, 'SIGKILL');
  crashed = true;
  await Promise.all(writers);
  t.comment(`${ackedAtKill} writes acknowledged before the kill, ${acked.size} in all, ${unknown.size} unknown`);
  t.ok(ackedAtKill > 20, 'the writers made progress before the crash');
  t.ok((await status(c)).every((s) => !s.alive), 'status: every store is down');

  const up = await c.ok('cluster', 'up');
  t.equal(up.stdout.match(/ started$/gm)?.length, 3, 'up restarts all three');
  t.comment(`cluster up after the crash took ${Math.round(up.ms)} ms`);

  const { client, close } = connectKvClient(c.cfg, { timeoutMs: 10_000 });
  t.teardown(close);
  const pairs = await client.scan(Buffer.alloc(0), Buffer.alloc(0), 0);
  const found = new Map(pairs.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]));
  const lost = [...acked].filter(([k, v]) => found.get(k) !== v);
  t.same(lost, [], 'every acknowledged write survived with its value');
  const strangers = [...found.keys()].filter((k) => !acked.has(k) && !unknown.has(k));
  t.same(strangers, [], 'no key that was never written');
  t.comment(`${[...unknown].filter((k) => found.has(k)).length} of ${unknown.size} unknown writes took effect`);
  // And one more write works on the restarted cluster.
  await c.ok('put', 'after', 'restart');
  t.equal((await c.ok('get', 'after')).stdout, 'restart\n');
  await c.ok('cluster', 'down');
});
