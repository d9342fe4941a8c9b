// Session expiry (issue 10): the exactly-once table no longer grows one row per client
// forever. The leader proposes ExpireSessions once sessions sit idle past the TTL; every
// store drops the same rows (decided in the log); a late retry of a forgotten session is
// refused with SessionExpired instead of applying twice. The wall clock is a fake one the
// test moves, so nothing here waits for real time to pass.

import t from 'tap';
import type { Test } from 'tap';
import type { DeliberateBugs } from '../../src/raftstore/deliberate-bugs.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { SessionExpiredError } from '../../src/raftstore/errors.js';
import type { RegionId } from '../../src/raftstore/ids.js';
import { enc } from '../support/bytes.js';
import { eventually, sleep } from '../support/wait.js';

const TTL = 10_000;
const SKEW = 1_000;

t.test('idle sessions expire on every store alike; a late retry is refused, not applied twice', (t) => expireAndRetry(t, {}));

t.test('applyExpiredSessionWrites (a planted bug): the late retry applies a second time', async (t) => {
  const late = await expireAndRetry(t, { applyExpiredSessionWrites: true }, true);
  t.equal(late.value, 'first', 'the retry of the first write overwrote the newer value');
});

async function expireAndRetry(t: Test, bugs: DeliberateBugs, planted = false): Promise<{ value: string }> {
  let now = 1_700_000_000_000;
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({
    stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2, wallClock: () => now, sessionTtlMs: TTL, maxClockSkewMs: SKEW,
    deliberateBugs: bugs,
  });
  t.teardown(() => cluster.close());
  const sessions = () => cluster.ids.map((id) => cluster.store(id)!.sessionCount());

  // 200 CLI-style clients: one write each, one session row each.
  for (let i = 0; i < 200; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => cluster.client().put(enc(`cli-${i + j}`), enc('v'))));
  }
  const leader = await cluster.waitForLeader();
  const header = { regionId: 1 as RegionId };
  const sentAt = now;
  await cluster.store(leader)!.put(header, enc('dup'), enc('first'), { clientId: 9_999, sequence: 1, sentAtMs: sentAt });
  await eventually('every store holds 201 session rows', () => sessions().every((n) => n === 201));

  // Within the TTL nothing expires, whatever the traffic.
  now += TTL / 2;
  await cluster.client().put(enc('mid'), enc('v'));
  await sleep(300); // nothing is to happen: time for a wrong expiry to show
  t.same(sessions(), [202, 202, 202], 'nothing expires before the TTL');

  // Past the TTL: the leader proposes the expiry and every store drops the same rows.
  now += TTL / 2 + 1;
  await cluster.client().put(enc('other'), enc('x'));
  await eventually('the idle rows expire everywhere', () => sessions().every((n) => n === 2));
  t.same(sessions(), [2, 2, 2], 'the 201 idle rows are gone on every store; the two recent ones stay');

  // Someone overwrites the key; then client 9999's first write arrives again, very late.
  await cluster.client().put(enc('dup'), enc('second'));
  const lead2 = await cluster.waitForLeader();
  const late = await cluster.store(lead2)!.put(header, enc('dup'), enc('first'), { clientId: 9_999, sequence: 1, sentAtMs: sentAt }).then(
    () => 'applied', (e: Error) => e);
  const value = Buffer.from((await cluster.client().get(enc('dup')))!).toString();
  if (planted) return { value };
  t.ok(late instanceof SessionExpiredError, `the late retry is refused (${late instanceof Error ? late.message : late})`);
  t.equal(value, 'second', 'and did not overwrite the newer value');

  // A new client whose write was just sent is a new session, not refused.
  await cluster.client().put(enc('new'), enc('ok'));
  t.equal(Buffer.from((await cluster.client().get(enc('new')))!).toString(), 'ok');
  return { value };
}
