// Bad input as a user meets it, through the real CLI: a malformed or missing cluster
// file, an unknown store id, a port held by another program, a data directory held by
// another process, a missing key, an
// oversize value, a cluster that is down. Each must give the documented exit code and
// exactly one line on stderr.

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { storeDir } from '../../src/config/types.js';
import { openRocksEngine } from '../../src/engine/index.js';
import { makeCluster, status, type CliResult } from './helpers.js';

/** Exit code `code` and exactly one `tinykv: …` line on stderr matching `message`. */
function fails(t: Test, r: CliResult, code: number, message: RegExp, what: string): void {
  t.equal(r.code, code, `${what}: exit ${code}`);
  t.match(r.stderr, /^tinykv: [^\n]+\n$/, `${what}: one line on stderr`);
  t.match(r.stderr, message, `${what}: says why`);
}


t.test('a malformed, invalid or missing cluster file: exit 2 naming the file and field', async (t) => {
  const c = await makeCluster(t);
  const bad = join(c.dir, 'bad.yaml');
  writeFileSync(bad, 'data_dir: ./data\nstores: [{id: 1, addr: 127.0.0.1:1\n');
  for (const args of [['cluster', 'up'], ['get', 'k'], ['cluster', 'status']]) {
    const r = await c.cli('-c', bad, ...args);
    fails(t, r, 2, new RegExp(`${bad}: malformed YAML at line \\d+, column \\d+`), `malformed yaml, ${args.join(' ')}`);
  }
  writeFileSync(bad, 'data_dir: ./data\nstores:\n  - id: 1\n    addr: localhost\n');
  fails(t, await c.cli('-c', bad, 'cluster', 'up'), 2, /bad\.yaml: stores\[0\]\.addr: expected host:port, got "localhost"/, 'bad addr');
  writeFileSync(bad, 'data_dir: ./data\nstores: [{id: 1, addr: "127.0.0.1:1"}]\nraft: {election_ticks: 2, heartbeat_ticks: 3}\n');
  fails(t, await c.cli('-c', bad, 'put', 'k', 'v'), 2, /raft\.heartbeat_ticks: must be less than raft\.election_ticks/, 'bad timing');
  const missing = join(c.dir, 'nope.yaml');
  fails(t, await c.cli('-c', missing, 'cluster', 'up'), 2, /nope\.yaml: cannot read the cluster file: no such file/, 'missing file');
});

t.test('unknown store ids: exit 2', async (t) => {
  const c = await makeCluster(t);
  const cases = [
    ['chaos', 'kill', '--store', '9'],
    ['chaos', 'restart', '--store', '9'],
    ['chaos', 'pause', '--store', '9'],
    ['chaos', 'resume', '--store', '9'],
    ['chaos', 'partition', '--isolate', '9'],
    ['chaos', 'partition', '1', '2,9'],
    ['store', 'start', '--store', '9'],
    ['store', 'start', '--store', '9', '--foreground'],
  ];
  for (const args of cases) {
    fails(t, await c.cli(...args), 2, /store 9 is not in .*cluster\.yaml \(stores: 1, 2, 3\)/, args.join(' '));
  }
  fails(t, await c.cli('chaos', 'kill', '--store', '2'), 2, /store 2 is not running/, 'kill a store that is down');
  fails(t, await c.cli('chaos', 'pause', '--store', '2'), 2, /store 2 is not running/, 'pause a store that is down');
  t.same(c.livePids(), [], 'nothing was started');
});

t.test('a data directory another process holds: the store does not start, exit 2 naming it', async (t) => {
  const c = await makeCluster(t);
  // Another process would hold RocksDB's lock the same way: this one opens store 1's raftdb.
  const held = await openRocksEngine(join(storeDir(c.cfg, 1), 'raftdb'));
  t.teardown(() => held.close());
  const r = await c.cli('store', 'start', '--store', '1', '--foreground');
  t.equal(r.code, 2, 'store start --foreground: exit 2, as for the other start failures the user can fix');
  // In the foreground the store's log lines come first; its last word says why it stopped.
  t.match(r.stderr, /\ntinykv store: store 1: cannot open storage engine at [^\n]*raftdb: [^\n]*lock[^\n]*\n$/, 'a last line naming the directory');
});

t.test('a port held by another program: nothing starts, exit 2 naming store and port', async (t) => {
  const c = await makeCluster(t);
  const held = c.cfg.stores[1]!;
  // Another program listening on store 2's port; it hangs up on whoever connects.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(held.port, held.host, r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const r = await c.cli('cluster', 'up');
  t.equal(r.code, 2);
  t.match(r.stderr, new RegExp(`^tinykv: store 2: port 127\\.0\\.0\\.1:${held.port} is held by another process`, 'm'));
  t.equal(r.stderr.split('\n').filter((l) => l.startsWith('tinykv:')).length, 1, 'one error line');
  t.same(c.livePids(), [], 'no store was started');
  t.ok((await status(c)).every((s) => s.alive === false || s.id === 2), 'stores 1 and 3 are down');
  const one = await c.cli('store', 'start', '--store', '2');
  fails(t, one, 2, new RegExp(`store 2: port 127\\.0\\.0\\.1:${held.port} is held by another process`), 'store start');
});

t.test('missing key, oversize input, a cluster that is down', async (t) => {
  const c = await makeCluster(t);
  // Every store refuses the connection: the CLI says so after one round, without waiting
  // for its (here long) timeout, names the addresses and what to do, and knows that a
  // write that reached no store was not applied.
  const addrs = c.cfg.stores.map((x) => x.addr.replace(/\./g, '\\.')).join(', ');
  const down = await c.cli('get', 'k', '--timeout', '60000');
  fails(t, down, 3, new RegExp(`^tinykv: get: no store is running: every store refused the connection \\(${addrs}\\)\\. Start the cluster with tinykv cluster up\n$`), 'get while the cluster is down');
  const put = await c.cli('put', 'k', 'v', '--timeout', '60000');
  fails(t, put, 3, /put: no store is running: .*; nothing was written\. Start the cluster with tinykv cluster up/, 'put while the cluster is down');
  t.notMatch(put.stderr, /Resolution note|ECONNREFUSED|UNAVAILABLE/, 'no gRPC internals');
  t.comment(`get on a down cluster: ${Math.round(down.ms)} ms to the error (was the whole --timeout)`);

  fails(t, await c.cli('cluster', 'health'), 3, /^tinykv: unhealthy: no leader \(0\/3 stores answer; no answer from store 1, 2, 3\)\n$/, 'health of a down cluster');

  await c.ok('cluster', 'up');
  t.match((await c.ok('cluster', 'health')).stdout, /^healthy: store \d leads \(term \d+\); 3 of 3 voters answer\n$/, 'health of a running cluster: exit 0');
  t.match(JSON.parse((await c.ok('cluster', 'health', '-w', 'json')).stdout), { healthy: true, voters: 3, answering: 3 });
  fails(t, await c.cli('get', 'nothing-here'), 1, /key not found: "nothing-here"/, 'missing key');
  fails(t, await c.cli('put', 'k', 'x'.repeat(5000)), 2, /./, 'a value over max_value_bytes');
  fails(t, await c.cli('put', 'k'.repeat(300), 'v'), 2, /./, 'a key over max_key_bytes');
  t.equal((await c.cli('get', 'k')).code, 1, 'the refused writes left nothing behind');
  fails(t, await c.cli('scan', 'b', 'a'), 2, /must sort after/, 'scan with end before start');
  const restartRunning = await c.ok('chaos', 'restart', '--store', '1');
  t.match(restartRunning.stdout, /^store 1: already running \(pid \d+\)\n$/, 'restart of a running store is a no-op');
  await c.ok('cluster', 'down');
});
