// ReadQueue: reads batch per ReadIndex request and are served only once the peer has
// applied up to the batch's read index. The deliberate bug readBeforeApplied (serving as
// soon as the index is known) is shown caught by the same check.
//
// Why a unit test: in the store the bug cannot yet lose a write end to end. A ReadState
// reaches the Ready loop one Ready after the commit index it carries was handed out (the
// heartbeat round that confirms it starts only when that Ready's messages are sent), and
// each Ready's committed entries are applied before the next one is taken. This check is
// what keeps reads right once that stops holding (lease reads, apply off the loop).

import t from 'tap';
import { ReadQueue } from './read-queue.js';
import type { ReadResult } from './command.js';
import { enc } from '../../test/support/bytes.js';

/** Two batches at read indexes 7 and 9; returns which reads were served at each applied index. */
function servedAt(q: ReadQueue): string[] {
  const served: string[] = [];
  const read = (name: string) => ({
    op: { kind: 'get' as const, key: enc(name) },
    resolve: (_: ReadResult) => served.push(name),
    reject: () => served.push(`${name} failed`),
  });
  q.add(read('a'));
  q.add(read('b'));
  const ctx1 = q.flush()!;
  q.add(read('c'));
  const ctx2 = q.flush()!;
  q.onReadState(ctx1, 7);
  q.onReadState(ctx2, 9);
  const log: string[] = [];
  for (const applied of [6, 7, 8, 9]) {
    for (const r of q.takeReady(applied)) r.resolve({ kind: 'get', value: undefined });
    log.push(`${applied}: ${served.join(',')}`);
  }
  return log;
}

const EXPECTED = ['6: ', '7: a,b', '8: a,b', '9: a,b,c'];

t.test('a batch is served once the applied index reaches its read index, not before', async (t) => {
  t.same(servedAt(new ReadQueue('p')), EXPECTED);
});

t.test('readBeforeApplied (a planted bug): the same check sees reads served early', async (t) => {
  t.not(JSON.stringify(servedAt(new ReadQueue('p', { ignoreAppliedIndex: true }))), JSON.stringify(EXPECTED));
});

t.test('a read state for an unknown context (from before a restart) is ignored; failAll settles everything', async (t) => {
  const q = new ReadQueue('p');
  const errors: string[] = [];
  q.add({ op: { kind: 'get', key: enc('x') }, resolve: () => errors.push('resolved'), reject: (e) => errors.push(e.message) });
  const ctx = q.flush()!;
  q.onReadState(enc('other:1'), 3);
  t.same(q.takeReady(100), [], 'nothing is ready without its own read state');
  q.add({ op: { kind: 'get', key: enc('y') }, resolve: () => errors.push('resolved'), reject: (e) => errors.push(e.message) });
  t.equal(q.pendingCount, 2);
  q.failAll(new Error('leader changed'));
  t.same(errors, ['leader changed', 'leader changed']);
  t.equal(q.pendingCount, 0);
  void ctx;
});

/** A read that records its own name in `served` when resolved. */
function named(served: string[], name: string) {
  return {
    op: { kind: 'get' as const, key: enc(name) },
    resolve: (_: ReadResult) => served.push(name),
    reject: () => served.push(`${name} failed`),
  };
}

function serve(q: ReadQueue, applied: number): void {
  for (const r of q.takeReady(applied)) r.resolve({ kind: 'get', value: undefined });
}

t.test('with no read waiting, flush asks for no ReadIndex round', async (t) => {
  // The peer starts a heartbeat round for every context flush returns, and renews its
  // lease only when flush returns none.
  const q = new ReadQueue('p');
  t.equal(q.flush(), undefined);
  q.add(named([], 'a'));
  t.ok(q.flush(), 'a waiting read is flushed');
  t.equal(q.flush(), undefined, 'and the next flush has nothing to ask for');
  t.equal(q.pendingCount, 1, 'an empty flush adds no batch');
});

t.test('a lease read is served once its known read index is applied, without a read state', async (t) => {
  const served: string[] = [];
  const q = new ReadQueue('p');
  q.addIndexed(named(served, 'a'), 5);
  t.equal(q.pendingCount, 1);
  serve(q, 4);
  t.same(served, [], 'not before index 5 is applied');
  serve(q, 5);
  t.same(served, ['a']);
  t.equal(q.pendingCount, 0);
});

t.test('every batch keeps its own context: lease reads and ReadIndex batches in any order never replace one another', async (t) => {
  // Lease reads and ReadIndex batches share one counter for their keys; a key used twice
  // would drop the first batch, whose reads would then never settle.
  const served: string[] = [];
  const q = new ReadQueue('p');
  q.add(named(served, 'a'));
  const ctx1 = q.flush()!;
  q.addIndexed(named(served, 'lease1'), 3);
  q.add(named(served, 'b'));
  const ctx2 = q.flush()!;
  q.addIndexed(named(served, 'lease2'), 3);
  t.not(new TextDecoder().decode(ctx1), new TextDecoder().decode(ctx2));
  t.equal(q.pendingCount, 4);
  q.onReadState(ctx1, 3);
  q.onReadState(ctx2, 3);
  serve(q, 3);
  t.same([...served].sort(), ['a', 'b', 'lease1', 'lease2']);
  t.equal(q.pendingCount, 0);
});

t.test('a batch keeps the first read index it is given: a later read state for its context does not hold it back', async (t) => {
  const served: string[] = [];
  const q = new ReadQueue('p');
  q.add(named(served, 'a'));
  const ctx = q.flush()!;
  q.onReadState(ctx, 7);
  q.onReadState(ctx, 9);
  serve(q, 7);
  t.same(served, ['a']);
});

t.test('readBeforeApplied (a planted bug) skips only the applied check: a batch without its read state still waits', async (t) => {
  // The planted bug is exactly "serve once the read index is known"; a read served before
  // its ReadIndex round confirms leadership would be another bug.
  const served: string[] = [];
  const q = new ReadQueue('p', { ignoreAppliedIndex: true });
  q.add(named(served, 'a'));
  const ctx = q.flush()!;
  serve(q, 0);
  t.same(served, [], 'no read state yet');
  q.onReadState(ctx, 7);
  serve(q, 0);
  t.same(served, ['a'], 'served early once the index is known');
});
