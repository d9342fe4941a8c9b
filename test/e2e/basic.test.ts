// End to end, as a user meets it: `cluster up`, put/get/scan/delete through the CLI,
// `chaos kill --store leader`, a write succeeding again within a few election timeouts,
// `chaos restart`, every acknowledged write still readable (also from the restarted
// store once it caught up), `cluster down`.

import t from 'tap';
import { ELECTION_TIMEOUT_MS, leaderIn, makeCluster, status } from './helpers.js';
import { eventually } from '../support/wait.js';

t.test('up, reads and writes, kill the leader, restart it', async (t) => {
  const c = await makeCluster(t);

  const up = await c.ok('cluster', 'up');
  t.match(up.stdout, /^leader: store \d+ \(term \d+\); ready in [\d.]+ s$/m, 'up names the leader');
  t.equal(up.stdout.match(/ started$/gm)?.length, 3, 'three stores started');
  t.comment(`cluster up took ${Math.round(up.ms)} ms (CLI process included)`);
  t.equal(c.livePids().length, 3, 'three store processes recorded');

  const again = await c.ok('cluster', 'up');
  t.equal(again.stdout.match(/already running$/gm)?.length, 3, 'a second up leaves them alone');

  t.equal((await c.ok('put', 'k1', 'v1')).stdout, 'OK\n');
  await c.ok('put', 'k2', 'v2');
  await c.ok('put', 'k3', 'hello world');
  t.equal((await c.ok('get', 'k1')).stdout, 'v1\n');
  t.equal((await c.ok('get', 'k3')).stdout, 'hello world\n');
  t.equal((await c.ok('scan', '')).stdout, 'k1\tv1\nk2\tv2\nk3\thello world\n');
  t.equal((await c.ok('scan', 'k2', 'k3')).stdout, 'k2\tv2\n', 'end is exclusive');
  t.equal((await c.ok('scan', '', '--limit', '1')).stdout, 'k1\tv1\n');
  t.equal((await c.ok('scan', 'k2', '--json')).stdout, '{"key":"k2","value":"v2","encoding":"utf8"}\n{"key":"k3","value":"hello world","encoding":"utf8"}\n');
  t.equal((await c.ok('delete', 'k2')).stdout, 'OK\n');
  await c.ok('put', 'gone', 'soon');
  t.equal((await c.ok('del', 'gone')).stdout, 'OK\n', 'del: etcdctl\'s name for delete');
  t.equal((await c.cli('get', 'gone')).code, 1, 'deleted by del');
  const missing = await c.cli('get', 'k2');
  t.equal(missing.code, 1, 'get of a deleted key exits 1');
  t.equal(missing.stderr, 'tinykv: key not found: "k2"\n');
  t.equal(missing.stdout, '');
  const get = await c.ok('get', 'k1');
  t.comment(`one CLI get took ${Math.round(get.ms)} ms`);

  const before = await status(c);
  t.equal(before.filter((s) => s.alive).length, 3, 'status: all alive');
  const oldLeader = leaderIn(before)!;
  t.ok(oldLeader, `store ${oldLeader.id} leads`);
  t.same(Object.keys(before[0]!), [
    'id', 'addr', 'pid', 'alive', 'role', 'term', 'leader_id', 'commit_index', 'applied_index', 'last_index',
    'truncated_index', 'raftdb_bytes', 'kvdb_bytes', 'fsync_p99_ms', 'rss_bytes', 'metrics_addr', 'snapshots_sending', 'snapshots_receiving', 'last_snapshot_installed', 'member', 'match',
  ]);

  const kill = await c.ok('chaos', 'kill', '--store', 'leader');
  t.equal(kill.stdout, `store ${oldLeader.id}: killed (pid ${oldLeader.pid})\n`);
  const killedAt = Date.now();
  let attempts = 0;
  // The deadline is liveness (the majority must recover), not a speed target.
  await eventually('a write succeeds after the leader died', async () => {
    attempts++;
    const r = await c.cli('put', 'after-kill', 'x', '--timeout', '3000');
    return r.code === 0 ? true : undefined;
  }, { timeoutMs: 10 * ELECTION_TIMEOUT_MS + 10_000, everyMs: 0, retryErrors: true });
  const failover = Date.now() - killedAt;
  t.comment(`kill leader -> write acknowledged through the CLI: ${failover} ms, ${attempts} attempt(s)`);

  const during = await status(c);
  const dead = during.find((s) => s.id === oldLeader.id)!;
  t.same({ alive: dead.alive, pid: dead.pid, role: dead.role, term: dead.term }, { alive: false, pid: null, role: null, term: null });
  const newLeader = leaderIn(during);
  t.ok(newLeader && newLeader.id !== oldLeader.id, 'another store leads');

  const restart = await c.ok('chaos', 'restart', '--store', String(oldLeader.id));
  t.match(restart.stdout, new RegExp(`^store ${oldLeader.id}: started \\(pid \\d+\\)\\n$`));
  t.equal((await c.ok('get', 'k1')).stdout, 'v1\n');
  t.equal((await c.ok('get', 'after-kill')).stdout, 'x\n');
  t.equal((await c.ok('scan', '')).stdout, 'after-kill\tx\nk1\tv1\nk3\thello world\n');

  // The restarted store catches up: its applied index reaches the leader's commit index.
  const caughtUp = await eventually('the restarted store catches up', async () => {
    const rows = await status(c);
    const lead = leaderIn(rows);
    const me = rows.find((s) => s.id === oldLeader.id)!;
    return lead && me.applied_index !== null && me.applied_index >= lead.commit_index! ? rows : undefined;
  }, { timeoutMs: 15_000, everyMs: 100, retryErrors: true });
  t.equal(caughtUp.filter((s) => s.alive).length, 3);

  // A paused store: status shows it, with no raft state; `cluster up` resumes it.
  t.match((await c.ok('chaos', 'pause', '--store', '1')).stdout, /^store 1: paused \(pid \d+\)\n$/);
  const table = (await c.ok('cluster', 'status')).stdout;
  t.match(table, /^STORE +ADDR +PID +PROCESS +ROLE +MEMBER +MATCH +TERM +LEADER +COMMIT +APPLIED +LAST +TRUNCATED +RAFTDB +SNAPSHOTS$/m);
  // Its membership comes from the others (the leader's view with match indexes, or, if
  // store 1 led, the followers' applied configuration without them).
  t.match(table, /^1 +127\.0\.0\.1:\d+ +\d+ +stopped \(SIGSTOP\) +- +voter +(\d+|-) +- +- +- +- +- +- +- +-$/m, 'status: store 1 paused');
  // Store 1 may have been the leader (now paused): any running store's row will do.
  // (If it led, the others may already be electing: no leader known, match unknown.)
  t.match(table, /^[23] +127\.0\.0\.1:\d+ +\d+ +running +\w+ +voter +(\d+|-) +\d+ +(\d+|-) +\d+ +\d+ +\d+ +\d+ +[\d.]+ (B|KiB|MiB) +-$/m, 'a running store\'s row, with its raftdb size');
  t.match(table, /^membership \((store \d leads|no leader answers: as the stores have applied it)\): conf_ver 1; voters 1, 2, 3; learners -$/m, 'the membership line');
  const resumed = await c.ok('cluster', 'up');
  t.match(resumed.stdout, /^store 1 .* was paused: resumed$/m);
  t.equal((await status(c)).filter((s) => s.role !== null).length, 3, 'all three answer again');

  const down = await c.ok('cluster', 'down');
  t.equal(down.stdout.match(/: stopped \(pid \d+\)$/gm)?.length, 3, 'down stops all three with SIGTERM');
  t.same(c.livePids(), [], 'no store process left');
  const after = await status(c);
  t.ok(after.every((s) => !s.alive && s.role === null), 'status: all down');
  const purge = await c.ok('cluster', 'down', '--purge');
  t.match(purge.stdout, /data deleted under /);
});
