// Snapshots in the Raft core (thesis §5.1 and §5.3 of the paper: InstallSnapshot): a
// follower that needs compacted entries gets the leader's snapshot, installs it through a
// Ready and catches up from the log after it; the leader pauses appends while a snapshot
// is on its way and resumes on the follower's answer or the application's report; stale
// and redundant snapshots change nothing; and a follower that lost its log is probed back
// from its hint without a message storm.
//
// How the leader probes after a snapshot is lost, or delivered with its acceptance lost
// (the retry waits for a heartbeat answer, comes as a snapshot again, is not repeated by
// writes; a delivered one is followed by a probe after it), is shown message by message
// in the transcript src/raft/testdata/snapshot-probing.txt.

import t from 'tap';
import type { Message, NodeId, Snapshot } from './types.js';
import { RaftInvariantError } from './errors.js';
import { MemoryStorage } from './storage.js';
import { MemNetwork } from './testing/mem-network.js';
import type { MemNetworkOptions } from './testing/mem-network.js';
import { enc } from '../../test/support/bytes.js';

function groupLedBy1(opts: Partial<MemNetworkOptions> = {}): MemNetwork {
  const net = new MemNetwork({ ids: [1, 2, 3], preVote: false, checkQuorum: false, ...opts });
  net.node(1).campaign();
  net.stabilize();
  if (net.leader() !== 1) throw new Error('setup: node 1 did not win');
  return net;
}

/** Proposes `n` entries on node 1 and lets them replicate wherever the network allows. */
function write(net: MemNetwork, n: number, tag = 'v'): void {
  for (let i = 0; i < n; i++) {
    net.node(1).propose(enc(`${tag}${i}`));
    net.stabilize();
  }
}

/** One heartbeat round from the leader (heartbeatTick 1) and everything it causes. */
function heartbeat(net: MemNetwork, leader: NodeId = 1): void {
  net.tick(leader);
  net.stabilize();
}

const count = (msgs: Message[], type: Message['type'], to?: NodeId) =>
  msgs.filter((m) => m.type === type && (to === undefined || m.to === to)).length;

/** Node 1 leads; node 3 missed the five writes after the election and node 1 compacted its log through 10: node 3 needs a snapshot. */
function laggingThird(): MemNetwork {
  const net = groupLedBy1();
  net.isolate(3);
  write(net, 5);
  net.compact(1, 10);
  net.heal();
  return net;
}
t.test('a follower behind the compacted log gets a snapshot and then the entries after it', async (t) => {
  const net = groupLedBy1();
  net.isolate(3);
  write(net, 20);
  const applied = net.node(1).status().applied;
  t.equal(applied, 26, 'the two connected nodes applied everything');
  net.compact(1, 24);
  t.equal(net.storages.get(1)!.firstIndex(), 25, 'the leader compacted its log up to 24');
  net.heal();
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  heartbeat(net);
  t.equal(count(seen, 'MsgSnapshot', 3), 1, 'exactly one snapshot went to node 3');
  t.equal(count(seen, 'MsgAppend', 3) >= 1, true, 'followed by appends');
  const snaps = net.installed.get(3)!;
  t.same(snaps.map((s) => [s.metadata.index, s.metadata.term]), [[24, net.node(1).status().term]], 'node 3 installed it');
  t.same(net.node(3).status().lastIndex, 26, 'and caught up from the log');
  t.equal(net.node(3).status().applied, 26, 'applying what came after the snapshot');
  t.same(net.applied.get(3)!.map((e) => e.index), [6, 25, 26], 'before the cut 6, then only the entries after the snapshot');
  t.same(net.node(1).progress(3), { match: 26, next: 27, state: 'replicate' }, 'the leader streams to it again');
  write(net, 1, 'after');
  t.equal(net.node(3).status().commit, 27, 'and new writes commit on it as usual');
});

t.test('a Ready that carries a snapshot carries no committed entries; advance applies the snapshot', async (t) => {
  const net = groupLedBy1();
  net.isolate(3);
  write(net, 5);
  net.compact(1, net.node(1).status().applied);
  net.heal();
  net.tick(1);
  const node3 = net.node(3);
  // Deliver to node 3 by hand so its Ready can be looked at.
  for (let i = 0; i < 10 && !net.installed.get(3)!.length; i++) {
    const msgs = net.take();
    for (const m of msgs) {
      if (m.to !== 3) { net.deliver(m); continue; }
      net.deliver(m);
      if (m.type !== 'MsgSnapshot') continue;
      t.ok(node3.hasReady());
      const rd = node3.ready();
      t.equal(rd.snapshot?.metadata.index, 11, 'the Ready carries the snapshot');
      t.same(rd.committedEntries, [], 'and no committed entries');
      t.equal(rd.hardState?.commit, 11, 'the hard state commits the snapshot point');
      t.same(rd.messages.map((x) => x.type === 'MsgAppendResponse' && [x.to, x.index, x.reject]), [[1, 11, false]],
        'the acceptance goes out with it, once it is installed');
      net.storages.get(3)!.applySnapshot(rd.snapshot!);
      net.storages.get(3)!.setHardState(rd.hardState!);
      node3.advance(rd);
      t.equal(node3.status().applied, 11, 'advance marks the snapshot applied');
      net.send(...rd.messages);
      net.installed.get(3)!.push(rd.snapshot!);
    }
  }
  net.stabilize();
  t.equal(net.node(3).status().lastIndex, 11);
});

/**
 * Node 3 misses five writes that node 1 then compacts away; once healed, node 1's storage
 * cannot make a snapshot yet, and one heartbeat round runs. Returns node 1's storage.
 */
function fallBehindCompactionWhileStorageBusy(net: ReturnType<typeof groupLedBy1>) {
  net.isolate(3);
  write(net, 5);
  net.compact(1, 10);
  net.heal();
  const st = net.storages.get(1)!;
  st.snapshotUnavailable = true;
  heartbeat(net);
  return st;
}

t.test('CheckQuorum (thesis §6.2): no snapshot goes to a follower not heard from since the last check; its next heartbeat answer brings one', async (t) => {
  // A snapshot to a node that may be down is wasted work; the recentActive flag that
  // CheckQuorum keeps tells the leader whether the follower was heard from lately.
  const net = groupLedBy1({ checkQuorum: true });
  // The storage is busy at first: node 3's heartbeat answer leaves it probing with nothing in flight.
  const st = fallBehindCompactionWhileStorageBusy(net);
  t.same(net.node(1).progressFlags(3), { recentActive: true, paused: false }, 'node 3 was heard from and nothing is in flight');
  // Then node 3 goes silent for a whole election timeout: the check-quorum round forgets it.
  net.isolate(3);
  for (let i = 0; i < 10; i++) heartbeat(net);
  t.equal(net.node(1).status().role, 'leader', 'node 2 keeps the leader in place');
  t.same(net.node(1).progressFlags(3), { recentActive: false, paused: false }, 'not recently active');
  st.snapshotUnavailable = false;
  net.heal();
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  // Each write sends appends to every follower that is not paused, node 3 included.
  write(net, 2, 'while-unheard');
  t.equal(count(seen, 'MsgSnapshot'), 0, 'no snapshot to a follower not heard from lately');
  heartbeat(net);
  t.equal(count(seen, 'MsgSnapshot', 3), 1, 'its heartbeat answer brings one snapshot');
  t.equal(net.node(3).status().lastIndex, net.node(1).status().lastIndex, 'and it catches up');
});

t.test('while the storage makes a snapshot the leader waits, and sends it on a later heartbeat answer', async (t) => {
  const net = laggingThird();
  const st = net.storages.get(1)!;
  st.snapshotUnavailable = true;
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  heartbeat(net);
  heartbeat(net);
  t.equal(count(seen, 'MsgSnapshot'), 0, 'nothing is sent while unavailable');
  t.equal(net.node(1).progress(3)?.state, 'probe', 'the follower stays in probe');
  st.snapshotUnavailable = false;
  heartbeat(net);
  t.equal(count(seen, 'MsgSnapshot', 3), 1, 'sent once available');
  t.equal(net.node(3).status().lastIndex, 11);
});

t.test('while a snapshot is on its way the leader sends that follower no appends', async (t) => {
  const net = laggingThird();
  net.tick(1);
  const held: Message[] = [];
  // Hold the snapshot in flight (not lost: no report yet).
  for (let i = 0; i < 10; i++) {
    for (const m of net.take()) {
      if (m.type === 'MsgSnapshot') held.push(m);
      else net.deliver(m);
    }
    if (held.length > 0) break;
  }
  t.equal(held.length, 1);
  t.equal(net.node(1).progress(3)?.state, 'snapshot');
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  write(net, 3, 'during');
  heartbeat(net);
  t.equal(count(seen, 'MsgAppend', 3), 0, 'no appends to the follower in snapshot state');
  net.send(...held);
  net.stabilize();
  t.equal(net.node(3).status().lastIndex, net.node(1).status().lastIndex, 'after the snapshot it catches up');
});

t.test('a follower ignores a snapshot at or below its commit index and answers with its commit index', async (t) => {
  // Whatever its log holds: even a node with the planted restoreOverMatchingLog bug
  // checks the commit index first.
  for (const faults of [{}, { restoreOverMatchingLog: true }]) {
    const net = groupLedBy1({ config: { faults } });
    write(net, 5);
    const before = net.node(2).status();
    t.equal(before.commit, 11);
    for (const index of [8, 11]) {
      const snap = { metadata: { index, term: net.node(1).status().term, confState: { voters: [1, 2, 3] } }, data: enc('old') };
      net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term: before.term, snapshot: snap });
      const out = net.take().filter((m) => m.from === 2);
      t.same(out.map((m) => m.type === 'MsgAppendResponse' && [m.index, m.reject]), [[before.commit, false]], `snapshot at ${index}`);
    }
    t.same(net.installed.get(2), [], 'nothing installed');
    t.equal(net.node(2).status().lastIndex, before.lastIndex, 'the log is untouched');
  }
});

t.test('a snapshot whose point the follower\'s log already holds only advances its commit, keeping the tail', async (t) => {
  const net = groupLedBy1();
  write(net, 2);
  // Node 2 receives entries that do not commit yet: node 3 is cut, and 1 never hears 2.
  net.isolate(3);
  net.cutOneWay(2, 1);
  write(net, 3, 'tail');
  const st2 = net.node(2).status();
  t.equal(st2.lastIndex, 11, 'node 2 holds the tail');
  t.equal(st2.commit, 8);
  const term = st2.term;
  const snap = { metadata: { index: 9, term, confState: { voters: [1, 2, 3] } }, data: enc('s') };
  net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: snap });
  const answers = net.take().filter((m) => m.from === 2);
  t.same(net.installed.get(2), [], 'not installed');
  t.same([net.node(2).status().commit, net.node(2).status().lastIndex], [9, 11], 'commit moved to 9; entries 10 and 11 kept');
  // The snapshot vouches for the log up to 9 only: the leader must not take 10 and 11 as matched.
  t.same(answers.map((m) => m.type === 'MsgAppendResponse' && [m.index, m.reject]), [[9, false]], 'answered at the commit index, not the log end');

  const bug = groupLedBy1({ config: { faults: { restoreOverMatchingLog: true } } });
  write(bug, 2);
  bug.isolate(3);
  bug.cutOneWay(2, 1);
  write(bug, 3, 'tail');
  bug.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: snap });
  bug.processReadies();
  t.equal(bug.node(2).status().lastIndex, 9, 'with restoreOverMatchingLog (a planted bug) the tail is lost');
});

t.test('a snapshot that leaves the follower out of the configuration is ignored', async (t) => {
  const net = groupLedBy1();
  const term = net.node(1).status().term;
  const snap = { metadata: { index: 50, term, confState: { voters: [1, 3] } }, data: enc('s') };
  net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: snap });
  net.processReadies();
  t.same(net.installed.get(2), []);
});

t.test('the follower\'s acceptance of a snapshot resumes appends, even before the application reports the send', async (t) => {
  const net = laggingThird();
  net.tick(1);
  let snap: Message | undefined;
  for (let i = 0; i < 10 && !snap; i++) {
    for (const m of net.take()) {
      if (m.type === 'MsgSnapshot') snap = m;
      else net.deliver(m);
    }
  }
  t.equal(net.node(1).progress(3)?.state, 'snapshot');
  // Straight to node 3, so no report reaches the leader: only node 3's answer (at 10, the
  // leader's first index minus one) tells it the log covers the follower again.
  net.node(3).step(snap!);
  net.stabilize();
  t.same(net.node(1).progress(3), { match: 11, next: 12, state: 'replicate' });
  t.equal(net.node(3).status().lastIndex, 11, 'the entry after the snapshot followed');
});

t.test('a restored snapshot brings its configuration, voters and learners', async (t) => {
  const net = groupLedBy1();
  const term = net.node(1).status().term;
  const snap = { metadata: { index: 50, term, confState: { voters: [1, 2, 3, 5], learners: [4] } }, data: enc('s') };
  net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: snap });
  net.processReadies();
  t.same(net.installed.get(2)!.map((s) => s.metadata.index), [50]);
  t.same(net.confState(2), { voters: [1, 2, 3, 5], learners: [4] });
});

t.test('a restarted node resumes from its installed snapshot', async (t) => {
  const net = groupLedBy1();
  net.isolate(3);
  write(net, 10);
  net.compact(1, 14);
  net.heal();
  heartbeat(net);
  t.equal(net.installed.get(3)!.length, 1);
  net.restart(3);
  const s = net.node(3).status();
  t.same([s.commit, s.applied, s.lastIndex], [16, 14, 16], 'applied from the snapshot point; the log after it kept');
  net.stabilize();
  t.same(net.applied.get(3)!.map((e) => e.index), [15, 16], 'applies only what follows the snapshot');
});

t.test('a follower that lost its log is probed back from its hint, without a message storm', async (t) => {
  for (const unpaced of [false, true]) {
    const net = groupLedBy1({ config: { faults: { unpacedProbes: unpaced } } });
    write(net, 30);
    t.same(net.node(1).progress(3)?.match, 36);
    net.wipe(3); // node 3 is back with a bootstrap-only log (up to 5) and no vote
    let msgs = 0;
    net.observe((m) => { if (m.from === 1 || m.from === 3) msgs++; });
    let quiesced = true;
    try {
      for (let round = 0; round < 5; round++) {
        net.node(1).propose(enc(`w${round}`));
        net.stabilize(200);
        heartbeat(net);
      }
    } catch {
      quiesced = false;
    }
    if (!unpaced) {
      t.ok(quiesced, 'the network goes quiet after each round');
      t.equal(net.node(3).status().lastIndex, net.node(1).status().lastIndex, 'the wiped follower caught up');
      t.ok(msgs < 200, `${msgs} messages in 5 rounds of writes and heartbeats`);
    } else {
      t.notOk(quiesced, `unpacedProbes (a planted bug): appends and rejections never stop (${msgs} messages)`);
    }
  }
});

t.test('a follower that lost its log, behind the compacted log, is brought back by one snapshot', async (t) => {
  const net = groupLedBy1();
  write(net, 30);
  net.compact(1, 30);
  net.wipe(3);
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  write(net, 1, 'after-wipe');
  heartbeat(net);
  heartbeat(net);
  t.equal(count(seen, 'MsgSnapshot', 3), 1, 'one snapshot');
  t.same(net.installed.get(3)!.map((s) => s.metadata.index), [30]);
  t.equal(net.node(3).status().lastIndex, net.node(1).status().lastIndex, 'caught up');
  t.ok(seen.length < 40, `${seen.length} messages in all`);
});

/** Appends the leader sends an unanswering node 3 during five ReadIndex rounds, then one heartbeat. */
function resendsDuringReads(faults: MemNetworkOptions['config']): { duringReads: number; afterBeat: number; served: number } {
  const net = groupLedBy1({ config: faults ?? {} });
  let appendsTo3 = 0;
  // Node 3 never gets an append, so every heartbeat answer from it finds entries missing.
  net.drop((m) => {
    if (m.type !== 'MsgAppend' || m.to !== 3) return false;
    appendsTo3++;
    return true;
  });
  write(net, 1, 'lost-on-3');
  const before = appendsTo3;
  for (let i = 0; i < 5; i++) {
    net.node(1).readIndex(enc(`read${i}`));
    net.stabilize();
  }
  const duringReads = appendsTo3 - before;
  heartbeat(net);
  return { duringReads, afterBeat: appendsTo3 - before - duringReads, served: net.readStates.get(1)!.length };
}

t.test('heartbeat answers resend an unanswered append once per heartbeat interval, however many ReadIndex rounds', async (t) => {
  const r = resendsDuringReads({});
  t.equal(r.duringReads, 0, 'five ReadIndex heartbeat rounds resend nothing by themselves');
  t.equal(r.afterBeat, 1, 'the periodic heartbeat\'s answer resends once');
  t.equal(r.served, 5, 'and every read was served');
  const bug = resendsDuringReads({ faults: { unpacedHeartbeatResends: true } });
  t.equal(bug.duringReads, 5, 'unpacedHeartbeatResends (a planted bug): one resend per read, which the check above catches');
});

/** A MemoryStorage whose snapshot() a test can replace (a failing disk, a stale snapshot). */
class ScriptedSnapshotStorage extends MemoryStorage {
  serve: (() => Snapshot) | undefined;
  override snapshot(): Snapshot {
    return this.serve ? this.serve() : super.snapshot();
  }
}

/** A group led by 1 whose leader keeps its state in a ScriptedSnapshotStorage; node 3 is behind a log compacted up to 10. */
function leaderWithScriptedStorage(): { net: MemNetwork; st: ScriptedSnapshotStorage } {
  const net = groupLedBy1({ storage: (id, ids) => (id === 1 ? new ScriptedSnapshotStorage(ids, 5, 5) : new MemoryStorage(ids, 5, 5)) });
  net.isolate(3);
  write(net, 5);
  return { net, st: net.storages.get(1) as ScriptedSnapshotStorage };
}

t.test('a storage error other than "temporarily unavailable" is not swallowed: it reaches the caller of step', async (t) => {
  const { net, st } = leaderWithScriptedStorage();
  net.compact(1, 10);
  net.heal();
  // Only "still generating" means "ask again later"; any other failure is the application's to handle.
  st.serve = () => { throw new Error('snapshot file unreadable'); };
  t.throws(() => heartbeat(net), /snapshot file unreadable/);
});

t.test('a storage snapshot older than the compacted log is an invariant violation, not a send', async (t) => {
  // Entries between such a snapshot and the first index left would be lost to the follower for good.
  const { net, st } = leaderWithScriptedStorage();
  net.compact(1, 8);
  const stale = st.storedSnapshot;
  net.compact(1, 10);
  net.heal();
  st.serve = () => stale;
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  let err: unknown;
  try {
    heartbeat(net);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof RaftInvariantError, 'RaftInvariantError');
  t.match((err as Error).message, /snapshot 8\/t\d+ is older than the compacted log \(first index 11\)/);
  t.equal(count(seen, 'MsgSnapshot'), 0, 'nothing was sent');
});

t.test('while the storage makes a snapshot, a late acceptance from a follower behind the compacted log does not spin; a later heartbeat answer brings the snapshot', async (t) => {
  const net = groupLedBy1();
  // Node 3 accepts entry 7, but its answer is held back.
  const held: Message[] = [];
  net.drop((m) => {
    if (m.type !== 'MsgAppendResponse' || m.from !== 3) return false;
    held.push(m);
    return true;
  });
  write(net, 1);
  t.equal(net.node(3).status().lastIndex, 7);
  const st = fallBehindCompactionWhileStorageBusy(net);
  t.same(net.node(1).progress(3), { match: 6, next: 7, state: 'probe' }, 'node 3 is probed from 7, which only a snapshot serves');
  // The held acceptance moves node 3 to replicate from 8, still behind the compacted log:
  // the leader tries for a snapshot once and, told the storage is busy, stops (a send
  // reported where none happened would make it try again and again).
  net.send(...held);
  net.stabilize();
  t.same(net.node(1).progress(3), { match: 7, next: 8, state: 'replicate' });
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  st.snapshotUnavailable = false;
  heartbeat(net);
  t.equal(count(seen, 'MsgSnapshot', 3), 1, 'sent once available');
  t.equal(net.node(3).status().lastIndex, net.node(1).status().lastIndex, 'and node 3 caught up');
});

/** Runs heartbeat rounds until the leader has a snapshot for node 3 in flight; returns it, undelivered. */
function holdSnapshot(net: MemNetwork): Message {
  net.tick(1);
  for (let i = 0; i < 10; i++) {
    let snap: Message | undefined;
    for (const m of net.take()) {
      if (m.type === 'MsgSnapshot') snap = m;
      else net.deliver(m);
    }
    if (snap) return snap;
  }
  throw new Error('setup: no snapshot was sent');
}

t.test('a snapshot report that comes after the follower accepted the snapshot changes nothing; nor does one about a non-member', async (t) => {
  const net = laggingThird();
  const snap = holdSnapshot(net);
  // Node 3's acceptance reaches the leader before the transport's report does.
  net.node(3).step(snap);
  net.stabilize();
  t.same(net.node(1).progress(3), { match: 11, next: 12, state: 'replicate' });
  net.node(1).reportSnapshot(3, 'finish');
  net.node(1).reportSnapshot(3, 'failure');
  t.same(net.node(1).progress(3), { match: 11, next: 12, state: 'replicate' }, 'the follower keeps streaming');
  t.same(net.node(1).progressFlags(3), { recentActive: true, paused: false });
  // A member removed while its snapshot was in flight: its report finds no progress.
  t.doesNotThrow(() => net.node(1).reportSnapshot(9, 'finish'));
  const seen: Message[] = [];
  net.observe((m) => seen.push(m));
  write(net, 1, 'after');
  t.equal(count(seen, 'MsgAppend', 3) >= 1, true, 'a new write goes to node 3 at once');
  t.equal(net.node(3).status().commit, 12);
});

/** Node 2 holds entries 9 to 11 that never committed (node 3 is cut off and node 1 never hears node 2): commit 8, last index 11. */
function followerWithTail(): MemNetwork {
  const net = groupLedBy1();
  write(net, 2);
  net.isolate(3);
  net.cutOneWay(2, 1);
  write(net, 3, 'tail');
  const s = net.node(2).status();
  if (s.commit !== 8 || s.lastIndex !== 11) throw new Error(`setup: node 2 at commit ${s.commit}, last ${s.lastIndex}`);
  return net;
}

/** Steps a snapshot at `index` with `confState` into node 2; returns node 2's answers as [index, reject]. */
function offerTo2(net: MemNetwork, index: number, voters: NodeId[]): Array<[number, boolean] | false> {
  const term = net.node(2).status().term;
  const snap = { metadata: { index, term, confState: { voters } }, data: enc('s') };
  net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: snap });
  return net.take().filter((m) => m.from === 2).map((m) => m.type === 'MsgAppendResponse' && [m.index, m.reject]);
}

t.test('paper §5.3: a snapshot at or below the commit index is answered at the commit index, not at the end of an unchecked tail', async (t) => {
  // The follower answers what the snapshot proves it holds; the tail after the commit index
  // was never matched by this snapshot, and acknowledging it would let the leader count it.
  for (const index of [7, 8]) {
    const net = followerWithTail();
    t.same(offerTo2(net, index, [1, 2, 3]), [[8, false]], `snapshot at ${index}`);
    t.same(net.installed.get(2), [], 'nothing installed');
    t.equal(net.node(2).status().lastIndex, 11, 'the tail is kept');
  }
});

t.test('a snapshot whose configuration leaves the follower out is answered at the commit index, changing nothing', async (t) => {
  const net = followerWithTail();
  t.same(offerTo2(net, 50, [1, 3]), [[8, false]], 'not accepted at 50, nor at the end of the log');
  t.same(net.installed.get(2), []);
  t.same([net.node(2).status().commit, net.node(2).status().lastIndex], [8, 11], 'the log is untouched');
  t.same(net.confState(2), { voters: [1, 2, 3], learners: [] }, 'and so is the configuration');
});

t.test('a restored snapshot\'s configuration replaces ours whole: one that names no learners leaves none', async (t) => {
  const net = groupLedBy1();
  const term = net.node(1).status().term;
  const withLearner = { metadata: { index: 50, term, confState: { voters: [1, 2, 3], learners: [4] } }, data: enc('s') };
  net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: withLearner });
  net.processReadies();
  t.same(net.confState(2), { voters: [1, 2, 3], learners: [4] });
  // An older encoder omits the learners field when there are none.
  const noLearners = { metadata: { index: 60, term, confState: { voters: [1, 2, 3] } }, data: enc('t') };
  net.node(2).step({ type: 'MsgSnapshot', from: 1, to: 2, term, snapshot: noLearners });
  net.processReadies();
  t.same(net.installed.get(2)!.map((s) => s.metadata.index), [50, 60]);
  t.same(net.confState(2), { voters: [1, 2, 3], learners: [] });
});
