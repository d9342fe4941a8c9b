import t from 'tap';
import { LeaderLease, leaseDurationMs } from './leader-lease.js';

t.test('the lease length leaves room for a tick that follows the heartbeat at once, timer rounding and clock rate', async (t) => {
  t.equal(Math.round(leaseDurationMs(10, 100) * 10) / 10, 712.8, '80% of 9 ticks of 99 ms');
  t.ok(leaseDurationMs(10, 100) < 9 * 99, 'shorter than any voter refuses votes for');
  t.equal(Math.round(leaseDurationMs(2, 50) * 10) / 10, 39.2);
});

t.test('the lease holds only while both the monotonic and the wall clock say so', async (t) => {
  let mono = 0;
  let wall = 1_000_000;
  const lease = new LeaderLease(100, () => mono, () => wall);
  lease.roundStarted('a', 1);
  lease.roundConfirmed('a');
  wall += 150; // the machine was suspended: the monotonic clock did not move
  t.notOk(lease.holds(1), 'over by the wall clock');
  const l2 = new LeaderLease(100, () => mono, () => wall);
  l2.roundStarted('b', 1);
  l2.roundConfirmed('b');
  wall -= 10_000; // the wall clock stepped back
  t.ok(l2.holds(1), 'a step back does not end it...');
  mono += 100;
  t.notOk(l2.holds(1), '...nor make it longer than the monotonic clock allows');
});

t.test('a confirmed round holds the lease from when it started, in its term only', async (t) => {
  let now = 1_000;
  const lease = new LeaderLease(720, () => now, () => now);
  t.notOk(lease.holds(3), 'nothing confirmed yet');
  lease.roundStarted('a', 3);
  now += 50; // the answer comes back later: the lease still counts from the start
  lease.roundConfirmed('a');
  t.ok(lease.holds(3));
  t.notOk(lease.holds(4), 'not in another term');
  now = 1_000 + 719;
  t.ok(lease.holds(3), 'just before start + length');
  now = 1_000 + 720;
  t.notOk(lease.holds(3), 'over at start + length, not at answer + length');
  lease.roundConfirmed('a');
  t.notOk(lease.holds(3), 'a context confirms once');
  lease.roundConfirmed('never-started');
  t.notOk(lease.holds(3), 'an unknown context confirms nothing');
});

t.test('renewal: past half its length, or not held', async (t) => {
  let now = 0;
  const lease = new LeaderLease(100, () => now, () => now);
  t.ok(lease.wantsRenewal(1), 'not held');
  lease.roundStarted('a', 1);
  t.ok(lease.roundPending());
  lease.roundConfirmed('a');
  t.notOk(lease.roundPending());
  now = 40;
  t.notOk(lease.wantsRenewal(1));
  now = 51;
  t.ok(lease.wantsRenewal(1));
  lease.roundStarted('b', 1);
  now = 60;
  lease.roundConfirmed('b');
  t.ok(lease.holds(1) && !lease.wantsRenewal(1), 'renewed from b\'s start');
  now = 150;
  t.ok(lease.holds(1), 'until 51 + 100');
  lease.roundStarted('c', 1);
  now = 300;
  t.notOk(lease.roundPending(), 'a round unanswered for longer than the lease no longer counts as pending');
});

t.test('an earlier round confirmed late does not shorten the lease; a newer term replaces it', async (t) => {
  let now = 0;
  const lease = new LeaderLease(100, () => now, () => now);
  lease.roundStarted('old', 1);
  now = 10;
  lease.roundStarted('new', 1);
  lease.roundConfirmed('new');
  lease.roundConfirmed('old');
  now = 105;
  t.ok(lease.holds(1), 'still held until 110');
  lease.roundStarted('t2', 2);
  lease.roundConfirmed('t2');
  t.ok(lease.holds(2) && !lease.holds(1));
});

t.test('revoke voids the lease and the rounds in flight; handOver voids the rest of the term', async (t) => {
  let now = 0;
  const lease = new LeaderLease(100, () => now, () => now);
  lease.roundStarted('a', 1);
  lease.roundConfirmed('a');
  lease.roundStarted('b', 1);
  lease.revoke();
  t.notOk(lease.holds(1));
  lease.roundConfirmed('b');
  t.notOk(lease.holds(1), 'a round started before the revoke does not bring it back');
  lease.roundStarted('c', 1);
  lease.roundConfirmed('c');
  t.ok(lease.holds(1), 'a round after it does');
  lease.roundStarted('d', 1);
  lease.handOver(1);
  lease.roundConfirmed('d');
  lease.roundStarted('e', 1);
  lease.roundConfirmed('e');
  now = 1;
  t.notOk(lease.holds(1), 'no lease for the rest of the term once it asked another voter to take over');
  lease.roundStarted('f', 2);
  lease.roundConfirmed('f');
  t.ok(lease.holds(2), 'a later term may hold one again');
});

t.test('each clock alone ends the lease at start + length: after a revoke, and in whatever term it was confirmed', async (t) => {
  // Two clocks that move apart, so each expiry is checked on its own.
  let mono = 0;
  let wall = 1_000_000;
  const confirmed = (term: number, revokeFirst: boolean) => {
    mono = 0;
    wall = 1_000_000;
    const lease = new LeaderLease(100, () => mono, () => wall);
    lease.roundStarted('a', term);
    lease.roundConfirmed('a');
    if (revokeFirst) {
      // Revoked, then confirmed again in the same term: the new lease must not be
      // extended by what the revoke left behind.
      lease.revoke();
      lease.roundStarted('b', term);
      lease.roundConfirmed('b');
    }
    return lease;
  };
  for (const [term, revokeFirst] of [[1, true], [0, false]] as const) {
    const what = `term ${term}${revokeFirst ? ', after a revoke' : ''}`;
    let lease = confirmed(term, revokeFirst);
    t.ok(lease.holds(term), `${what}: held`);
    mono = 100;
    t.notOk(lease.holds(term), `${what}: over by the monotonic clock while the wall clock stands still`);
    lease = confirmed(term, revokeFirst);
    wall = 1_000_000 + 100;
    t.notOk(lease.holds(term), `${what}: over by the wall clock while the monotonic clock stands still`);
  }
});

t.test('by the wall clock the lease is over at start + length, not a millisecond later', async (t) => {
  const mono = 0;
  let wall = 5_000;
  const lease = new LeaderLease(100, () => mono, () => wall);
  lease.roundStarted('a', 1);
  lease.roundConfirmed('a');
  wall = 5_099;
  t.ok(lease.holds(1), 'just before');
  wall = 5_100;
  t.notOk(lease.holds(1), 'at start + length');
});

t.test('renewal is wanted once less than half the lease is left, not at exactly half', async (t) => {
  let now = 0;
  const lease = new LeaderLease(100, () => now, () => now);
  lease.roundStarted('a', 1);
  lease.roundConfirmed('a');
  now = 50;
  t.notOk(lease.wantsRenewal(1), 'half left');
  now = 50.5;
  t.ok(lease.wantsRenewal(1), 'less than half left');
});

t.test('an unanswered round is awaited for the whole lease length, then no longer', async (t) => {
  let now = 0;
  const lease = new LeaderLease(100, () => now, () => now);
  lease.roundStarted('a', 1);
  now = 100;
  t.ok(lease.roundPending(), 'still awaited at start + length');
  now = 100.5;
  t.notOk(lease.roundPending(), 'given up after it');
});

t.test('in a term it handed over, no round is awaited: a round started there is not recorded', async (t) => {
  // Nothing in that term can bring the lease back: such a round is never recorded, so it is
  // neither awaited nor able to confirm anything.
  const now = 0;
  const lease = new LeaderLease(100, () => now, () => now);
  lease.handOver(1);
  lease.roundStarted('a', 1);
  t.notOk(lease.roundPending());
  lease.roundStarted('b', 2);
  t.ok(lease.roundPending(), 'a round in another term is');
});
