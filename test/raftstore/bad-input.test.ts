// Bad input against an in-process 3-store cluster: an empty key, an oversize key, an
// oversize value and a scan whose start is after its end each get InvalidArgumentError
// from the client with a message that says what is wrong — and write nothing: no store
// holds the data afterwards and no store's applied index moved because of them.

import t from 'tap';
import type { Test } from 'tap';
import { InvalidArgumentError } from '../../src/client/index.js';
import type { KvClient } from '../../src/client/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { InvalidRequestError } from '../../src/raftstore/errors.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { DEFAULT_MAX_KEY_BYTES } from '../../src/raftstore/store.js';
import { enc, dec } from '../support/bytes.js';
import { eventually } from '../support/wait.js';

const MAX_VALUE = 64;

interface Snap { readonly applied: number; readonly term: number }

function snapshot(cluster: Cluster): Map<StoreId, Snap> {
  const out = new Map<StoreId, Snap>();
  for (const id of cluster.ids) {
    const st = cluster.store(id)!.status()[0]!;
    out.set(id, { applied: st.appliedIndex, term: st.term });
  }
  return out;
}

/** Waits until every store has applied everything the leader committed, and it holds still. */
async function quiesce(cluster: Cluster): Promise<Map<StoreId, Snap>> {
  let last = '';
  let stableFor = 0;
  await eventually('the cluster settles (all stores applied the leader\'s commit index)', () => {
    const leader = cluster.leaderId();
    if (leader === undefined) return false;
    const commit = cluster.store(leader)!.status()[0]!.commitIndex;
    const snap = snapshot(cluster);
    const now = JSON.stringify([...snap]);
    if ([...snap.values()].some((s) => s.applied !== commit)) { stableFor = 0; return false; }
    stableFor = now === last ? stableFor + 1 : 0;
    last = now;
    return stableFor >= 5;
  });
  return snapshot(cluster);
}

/** Requests the test's client has sent to any store. */
let requests = 0;

/** Runs `op`, which must fail with InvalidArgumentError, without retrying, and a message matching `msg`. */
async function expectInvalid(t: Test, what: string, op: () => Promise<unknown>, msg: RegExp): Promise<void> {
  const before = requests;
  const err = await op().then(() => undefined, (e: unknown) => e as Error);
  const sent = requests - before;
  t.ok(err instanceof InvalidArgumentError, `${what}: InvalidArgumentError (got ${err ? `${err.constructor.name}: ${err.message}` : 'success'})`);
  if (err) {
    t.equal((err as InvalidArgumentError).code, 'INVALID_ARGUMENT', `${what}: code`);
    t.match(err.message, msg, `${what}: the message says what is wrong`);
  }
  t.ok(sent <= 1, `${what}: refused at once, not retried (${sent} request(s) sent)`);
}

t.test('bad input gets a clear error and writes nothing', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 10, electionTick: 30, heartbeatTick: 3, maxValueBytes: MAX_VALUE });
  t.teardown(() => cluster.close());
  await cluster.waitForLeader();
  const client: KvClient = cluster.client({ timeoutMs: 10_000, onRequest: () => { requests++; } });

  // A good write first, including a value of exactly the maximum size.
  await client.put(enc('good'), Buffer.alloc(MAX_VALUE, 0x61));
  await client.put(enc('other'), enc('x'));
  const before = await quiesce(cluster);
  t.comment(`applied before: ${JSON.stringify([...before])}`);

  const longKey = Buffer.alloc(DEFAULT_MAX_KEY_BYTES + 1, 0x6b);
  const maxKey = Buffer.alloc(DEFAULT_MAX_KEY_BYTES, 0x6d);
  await expectInvalid(t, 'put with an empty key', () => client.put(Buffer.alloc(0), enc('v')), /key must not be empty/);
  await expectInvalid(t, 'delete with an empty key', () => client.delete(Buffer.alloc(0)), /key must not be empty/);
  await expectInvalid(t, 'get with an empty key', () => client.get(Buffer.alloc(0)), /key must not be empty/);
  await expectInvalid(t, 'put with a value over the maximum',
    () => client.put(enc('big'), Buffer.alloc(MAX_VALUE + 1, 0x62)), new RegExp(`value is ${MAX_VALUE + 1} bytes; the maximum is ${MAX_VALUE}`));
  await expectInvalid(t, 'put with a key over the maximum',
    () => client.put(longKey, enc('v')), new RegExp(`key is ${DEFAULT_MAX_KEY_BYTES + 1} bytes; the maximum is ${DEFAULT_MAX_KEY_BYTES}`));
  await expectInvalid(t, 'delete with a key over the maximum', () => client.delete(longKey), /key is \d+ bytes; the maximum is/);
  await expectInvalid(t, 'scan whose start is after its end', () => client.scan(enc('b'), enc('a'), 10), /scan start is after its end/);
  await expectInvalid(t, 'scan with a negative limit', () => client.scan(enc('a'), enc('b'), -1), /invalid scan limit -1/);

  // Each store refuses the same input itself, whichever role it has.
  for (const id of cluster.ids) {
    const s = cluster.store(id)!;
    const h = { regionId: 1 };
    const refusals: Array<[string, Promise<unknown>]> = [
      ['empty key', s.put(h, Buffer.alloc(0), enc('v'), { clientId: 77, sequence: 1, sentAtMs: Date.now() })],
      ['big value', s.put(h, enc('big'), Buffer.alloc(MAX_VALUE + 1), { clientId: 77, sequence: 2, sentAtMs: Date.now() })],
      ['long key', s.put(h, longKey, enc('v'), { clientId: 77, sequence: 3, sentAtMs: Date.now() })],
      ['inverted scan', s.scan(h, enc('z'), enc('a'), 10)],
    ];
    for (const [what, p] of refusals) {
      const err = await p.then(() => undefined, (e: unknown) => e);
      t.ok(err instanceof InvalidRequestError, `store ${id}: ${what} refused with InvalidRequestError`);
    }
  }

  // Nothing was proposed: with no other traffic, no applied index moved.
  const after = snapshot(cluster);
  for (const id of cluster.ids) {
    t.equal(after.get(id)!.term, before.get(id)!.term, `store ${id}: no election happened meanwhile (else the check below is void)`);
    t.equal(after.get(id)!.applied, before.get(id)!.applied, `store ${id}: applied index did not move`);
    t.equal(cluster.store(id)!.pendingCount(), 0, `store ${id}: nothing left pending`);
  }
  // And nothing was written on any store.
  for (const id of cluster.ids) {
    const s = cluster.store(id)!;
    t.equal(await s.localGet(Buffer.alloc(0)), undefined, `store ${id}: no empty key`);
    t.equal(await s.localGet(enc('big')), undefined, `store ${id}: no oversize value`);
    t.equal(await s.localGet(longKey), undefined, `store ${id}: no oversize key`);
  }
  const all = await client.scan(Buffer.alloc(0), Buffer.alloc(0), 100);
  t.same(all.map(([k]) => dec(k)), ['good', 'other'], 'a scan of everything finds only the good writes');

  // The client is still usable: its next write applies (its sequence survived the refusals).
  await client.put(maxKey, enc('fine'));
  t.equal(dec(await client.get(maxKey)), 'fine', 'a key of exactly the maximum length is accepted');
  await client.put(enc('good'), enc('again'));
  t.equal(dec(await client.get(enc('good'))), 'again', 'the client writes normally after refusals');
});
