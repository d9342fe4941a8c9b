// Every store durably records the highest term it has heard from each other store (what
// a store with lost or rolled-back state is recognised by; src/node/identity.ts): the
// leader's term is on record at every follower, the records survive a restart, and a
// store's pre-votes (which carry a term it has not adopted) never raise them.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { keys } from '../../src/engine/index.js';
import type { WriteOptions } from '../../src/engine/index.js';
import { WriteBatch } from '../../src/engine/index.js';
import { MemoryEngine, openMemoryEngine } from '../../src/engine/index.js';
import { openSnapshotDir } from '../../src/engine/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { ManualClock } from '../../src/raftstore/clock.js';
import type { RaftEnvelope } from '../../src/raftstore/envelope.js';
import type { PeerId, RegionId, StoreId } from '../../src/raftstore/ids.js';
import { createStore } from '../../src/raftstore/store.js';
import { eventually } from '../support/wait.js';
import { makeTempDir, removeDir } from '../support/temp-dir.js';

t.test('stores record the terms they hear, durably, and pre-votes do not count', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({ stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2 });
  t.teardown(() => cluster.close());
  const client = cluster.client();
  await cluster.waitForLeader();
  await client.put(Buffer.from('k'), Buffer.from('v'));
  const leader = cluster.leaderId()!;
  const term = cluster.store(leader)!.status()[0]!.term;
  const followers = cluster.ids.filter((id) => id !== leader);
  await eventually('every follower recorded the leader\'s term', () => followers.every((f) => cluster.store(f)!.heardTerm(leader) === term));
  t.pass(`stores ${followers.join(', ')} heard term ${term} from leader ${leader}`);
  t.ok(followers.every((f) => cluster.store(leader)!.heardTerm(f) === term), 'and the leader heard it from them');

  // An isolated follower pre-votes again and again; it never adopts a higher term.
  const lonely = followers[0]!;
  cluster.network.isolate(lonely);
  const termOf = (id: StoreId) => cluster.store(id)!.status()[0]!.term;
  const lonelyTerm = termOf(lonely);
  await eventually('the isolated store has been campaigning for a while', () => cluster.clock.now() > 0 && cluster.store(lonely)!.status()[0]!.role !== 'follower', 5_000);
  cluster.network.heal();
  await client.put(Buffer.from('k2'), Buffer.from('v2'));
  for (const id of cluster.ids.filter((x) => x !== lonely)) {
    t.ok(cluster.store(id)!.heardTerm(lonely) <= termOf(lonely),
      `store ${id} heard at most term ${termOf(lonely)} from store ${lonely} (recorded ${cluster.store(id)!.heardTerm(lonely)}; it pre-voted from term ${lonelyTerm})`);
  }

  // Followers never talk to each other, so some pairs have no record; the ones there are survive.
  const records = () => cluster.ids.map((id) => cluster.ids.map((o) => (o === id ? 0 : cluster.store(id)!.heardTerm(o))));
  const before = records();
  await cluster.restartAll();
  await cluster.waitForLeader();
  const after = records();
  t.ok(after.every((xs, i) => xs.every((x, j) => x >= before[i]![j]!)), `after a restart every record is still there: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
});

// The rules one at a time, on a single store driven by hand: messages are handed to
// Store.onRaftMessage directly, its kvdb can hold a write back (a slow fsync) or fail it,
// and nothing ticks, so every step is deterministic.

/** kvdb whose writes can be held until release(), or made to fail; notes each heard-record write. */
class SlowDisk extends MemoryEngine {
  private held: (() => void)[] | undefined;
  failWith: Error | undefined;
  /** The sync flag of every write that carries a heard record. */
  readonly recordWrites: boolean[] = [];

  hold(): void {
    this.held ??= [];
  }

  /** Lets every held write go on, and holds no more. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  override async write(batch: WriteBatch, opts: WriteOptions): Promise<void> {
    const [start, end] = keys.peerTermRange();
    if (batch.ops.some((op) => op.type === 'put' && op.key.compare(start) >= 0 && op.key.compare(end) < 0)) this.recordWrites.push(opts.sync);
    if (this.held) await new Promise<void>((go) => this.held!.push(go));
    if (this.failWith) throw this.failWith;
    return super.write(batch, opts);
  }
}

/** Store 1 of stores 1-3 (region 1 bootstrapped, peer ids = store ids), on a SlowDisk. */
async function oneStore(
  t: Test, onFatal: (e: Error) => void = (e) => t.fail(`fatal: ${e.message}`), before?: (kv: SlowDisk) => Promise<void>,
) {
  // Removed in the teardown, once the store that uses it has stopped.
  const dir = makeTempDir('tinykv-heard-');
  const kv = new SlowDisk();
  await before?.(kv);
  const store = createStore({
    storeId: 1 as StoreId, clusterStoreIds: [1, 2, 3] as StoreId[], engines: { raft: await openMemoryEngine(), kv },
    transport: { send: () => undefined, sendSnapshot: async () => undefined },
    clock: new ManualClock(), tickMs: 10, electionTick: 10, heartbeatTick: 2, seed: 1,
    snapshotFiles: await openSnapshotDir(join(dir, 'snap')), onFatal,
  });
  await store.start();
  t.teardown(async () => {
    await store.stop();
    removeDir(dir);
  });
  const termOf = () => store.status()[0]!.term;
  /** The record as kvdb holds it (what the identity check answers with). */
  const durable = async () => {
    const v = await kv.get(keys.peerTermKey(2));
    return v && keys.decodeHeardRecord(v);
  };
  return { store, kv, termOf, durable };
}

/** A message from store 2's peer `fromPeer` to our peer 1. */
function from2(fromPeer: number, term: number, type: 'MsgHeartbeat' | 'MsgRequestPreVote' | 'MsgRequestPreVoteResponse' = 'MsgHeartbeat'): RaftEnvelope {
  const base = { from: fromPeer as PeerId, to: 1 as PeerId, term };
  return {
    regionId: 1 as RegionId, fromPeer: { id: fromPeer as PeerId, storeId: 2 as StoreId }, toPeer: { id: 1 as PeerId, storeId: 1 as StoreId },
    regionEpoch: { confVer: 1, version: 1 },
    message: type === 'MsgHeartbeat'
      ? { ...base, type, commit: 0, context: new Uint8Array(0) }
      : type === 'MsgRequestPreVote' ? { ...base, type, index: 0, logTerm: 0 } : { ...base, type, reject: false },
  };
}

/** Lets a released write and what follows it (a few promise hops) finish. */
const settle = () => new Promise<void>((r) => setImmediate(r));

t.test('a store starts with the records its kvdb holds, before any message arrives', async (t) => {
  // As a restart finds them: store 2's newest peer 2 at term 9, store 3's peer 3 at term 4.
  const s = await oneStore(t, undefined, async (kv) => {
    const wb = new WriteBatch();
    wb.put(keys.peerTermKey(2), keys.encodeHeardRecord({ peerId: 2, term: 9 }));
    wb.put(keys.peerTermKey(3), keys.encodeHeardRecord({ peerId: 3, term: 4 }));
    await kv.write(wb, { sync: true });
    kv.recordWrites.length = 0;
  });
  t.equal(s.store.heardTerm(2 as StoreId), 9);
  t.equal(s.store.heardTerm(3 as StoreId), 4);
  // A message at a term already on record needs no write: it goes straight to raft.
  s.store.onRaftMessage(from2(2, 8));
  await settle();
  t.same(s.kv.recordWrites, [], 'nothing written for a term below the loaded record');
});

t.test('a message that raises the record reaches raft only once the record is fsynced, and the record is in memory only then', async (t) => {
  const s = await oneStore(t);
  const before = s.termOf();
  s.kv.hold();
  s.store.onRaftMessage(from2(2, before + 4));
  await settle();
  t.equal(s.termOf(), before, 'not delivered while its record is being written');
  t.equal(s.store.heardTerm(2 as StoreId), 0, 'the record is not taken as heard before it is durable');
  s.kv.release();
  await settle();
  t.equal(s.termOf(), before + 4, 'delivered once it is');
  t.equal(s.store.heardTerm(2 as StoreId), before + 4);
  t.same(await s.durable(), { term: before + 4, peerId: 2 });
  t.same(s.kv.recordWrites, [true], 'written with sync');
});

t.test('while a store\'s record is being written, its later messages wait behind it: one write at a time, delivered in order', async (t) => {
  // With one record write in flight per store, a later, lower record can never land last.
  const s = await oneStore(t);
  const before = s.termOf();
  s.kv.hold();
  s.store.onRaftMessage(from2(2, before + 4));
  s.store.onRaftMessage(from2(2, before + 6));
  s.store.onRaftMessage(from2(2, before + 4));
  await settle();
  t.equal(s.kv.recordWrites.length, 1, 'the messages behind the first start no write of their own');
  t.equal(s.termOf(), before, 'nor are they delivered');
  s.kv.release();
  await settle();
  t.equal(s.termOf(), before + 6, 'all delivered, the highest term last');
  t.same(await s.durable(), { term: before + 6, peerId: 2 });
  t.equal(s.kv.recordWrites.length, 2, 'the higher term was recorded in a write of its own, after the first');
});

t.test('a record only moves forward: a higher term from the same peer, or any term from a newer peer of that store', async (t) => {
  const s = await oneStore(t);
  t.equal(s.store.heardTerm(2 as StoreId), 0, 'nothing heard yet');
  const steps: [peer: number, term: number, expected: { term: number; peerId: number }][] = [
    [2, 5, { term: 5, peerId: 2 }],
    [2, 3, { term: 5, peerId: 2 }], // a lower term from the same peer
    [2, 5, { term: 5, peerId: 2 }],
    [12, 4, { term: 4, peerId: 12 }], // store 2 came back as a newer peer (replaced): its record starts over
    [2, 9, { term: 4, peerId: 12 }], // a late message from its older peer changes nothing
    [12, 7, { term: 7, peerId: 12 }],
  ];
  for (const [peer, term, expected] of steps) {
    s.store.onRaftMessage(from2(peer, term));
    await settle();
    t.same(await s.durable(), expected, `after term ${term} from peer ${peer}`);
    t.equal(s.store.heardTerm(2 as StoreId), expected.term);
  }
  t.equal(s.kv.recordWrites.length, 3, 'a message that raises nothing writes nothing');
  t.equal(s.store.heardTerm(3 as StoreId), 0, 'a store never heard from has no record');
});

t.test('a pre-vote, its answer, or a message with no term, records nothing', async (t) => {
  // A pre-vote carries a term its sender has not adopted (nor made durable); so does a
  // granted answer to one (it repeats the asker's term).
  const s = await oneStore(t);
  s.store.onRaftMessage(from2(2, 20, 'MsgRequestPreVote'));
  s.store.onRaftMessage(from2(2, 21, 'MsgRequestPreVoteResponse'));
  s.store.onRaftMessage(from2(2, 0));
  await settle();
  t.equal(await s.durable(), undefined);
  t.same(s.kv.recordWrites, []);
});

t.test('a record that cannot be written stops the store, and its message is never delivered', async (t) => {
  const fatal: string[] = [];
  const s = await oneStore(t, (e) => fatal.push(e.message));
  const before = s.termOf();
  s.kv.failWith = new Error('disk full');
  s.store.onRaftMessage(from2(2, before + 4));
  await settle();
  t.same(fatal, ['disk full']);
  t.equal(s.termOf(), before);
  t.equal(s.store.heardTerm(2 as StoreId), 0);
});

t.test('a stopped store records nothing, and a record write failing after it stopped is no fatal error', async (t) => {
  const fatal: string[] = [];
  const s = await oneStore(t, (e) => fatal.push(e.message));
  s.kv.hold();
  s.store.onRaftMessage(from2(2, 5));
  s.store.kill();
  s.kv.failWith = new Error('engine closed');
  s.kv.release();
  await settle();
  t.same(fatal, [], 'the failure is expected: the store is going away');
  s.kv.failWith = undefined;
  s.store.onRaftMessage(from2(2, 6));
  await settle();
  t.equal(s.kv.recordWrites.length, 1, 'no record write once stopped');
});

t.test('while a record is being written, at most 4,096 of that store\'s messages wait for it; the rest are dropped (Raft resends)', async (t) => {
  // A store whose fsync stalls must not buffer a chatty peer's messages without bound.
  const s = await oneStore(t);
  const before = s.termOf();
  s.kv.hold();
  s.store.onRaftMessage(from2(2, before + 1)); // starts the record write; the queue holds it
  for (let i = 1; i < 4096; i++) s.store.onRaftMessage(from2(2, before + 1));
  // The queue is full: this one is dropped. Delivered, it would raise the term to before + 5.
  s.store.onRaftMessage(from2(2, before + 5));
  s.kv.release();
  for (let i = 0; i < 100 && s.store.heardTerm(2 as StoreId) < before + 1; i++) await settle();
  // A later message, once nothing waits: it raises the record past the first, not past the dropped one.
  s.store.onRaftMessage(from2(2, before + 3));
  for (let i = 0; i < 100 && s.store.heardTerm(2 as StoreId) < before + 3; i++) await settle();
  t.equal(s.termOf(), before + 3, 'the message beyond the 4,096 never reached raft');
  t.same(await s.durable(), { term: before + 3, peerId: 2 });
});
