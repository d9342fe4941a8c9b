// The orchestrator never loses a store: two `cluster up` at once (they used to race over
// the pid files and leave a store nobody could stop), a data directory deleted under
// running stores (they used to become "external" and survive `cluster down`), and a
// store run in the foreground (stopped like the others), and another cluster's store on
// one of our addresses, which `cluster down` leaves alone and says so (exit 2).

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { checkPort } from '../../src/orchestrator/port.js';
import { bin, makeCluster, type TestCluster } from './helpers.js';
import { eventually } from '../support/wait.js';

async function portsFree(c: TestCluster): Promise<boolean> {
  for (const s of c.cfg.stores) if (!(await checkPort(s.host, s.port)).free) return false;
  return true;
}

t.test('two cluster up at once: both succeed, and cluster down stops every store', async (t) => {
  const c = await makeCluster(t);
  const [a, b] = await Promise.all([c.cli('cluster', 'up'), c.cli('cluster', 'up')]);
  t.same([a.code, b.code], [0, 0], `both exit 0 (${a.stderr.trim().split('\n').pop()} / ${b.stderr.trim().split('\n').pop()})`);
  t.match(`${a.stderr}${b.stderr}`, /waiting for another tinykv command \(pid \d+, cluster up\) to finish/, 'one waited for the other');
  t.equal(c.livePids().length, 3, 'three stores, each with its pid file');
  const down = await c.ok('cluster', 'down');
  t.match(down.stdout, /store 1: stopped[\s\S]*store 2: stopped[\s\S]*store 3: stopped/);
  t.ok(await portsFree(c), 'every port is free again: nothing left running');
});

t.test('data directory deleted under a running cluster: cluster down still stops every store', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  rmSync(c.cfg.dataDir, { recursive: true, force: true });
  const down = await c.cli('cluster', 'down');
  t.equal(down.code, 0, `cluster down exits 0 (${down.stderr.trim()})`);
  t.match(down.stderr, /store 1: no pid file, but pid \d+ is this cluster's store 1; stopping it/, 'recognised by its command line');
  await eventually('the ports are free', async () => ((await portsFree(c)) ? true : undefined), { timeoutMs: 15_000, everyMs: 50, retryErrors: true });
  t.pass('nothing left running');
});

t.test('a store in the foreground is stopped by cluster down; another cluster\'s store on our port is not, and down exits 2', async (t) => {
  const c = await makeCluster(t);
  const { TINYKV_CONFIG: _ignored, NODE_OPTIONS: _no, ...env } = process.env;
  const fg = execa(process.execPath, [bin, '-c', c.file, 'store', 'start', '--store', '1', '--foreground'], { reject: false, env, extendEnv: false });
  t.teardown(() => { if (fg.pid) try { process.kill(fg.pid, 'SIGKILL'); } catch { /* gone */ } });
  await eventually('the foreground store listens', async () => ((await checkPort(c.cfg.stores[0]!.host, c.cfg.stores[0]!.port)).free ? undefined : true), { timeoutMs: 15_000, everyMs: 50, retryErrors: true });
  const down = await c.cli('cluster', 'down');
  t.equal(down.code, 0, `cluster down stops it too (${down.stderr.trim()})`);
  t.match(down.stderr, /store 1: no pid file, but pid \d+ is this cluster's store 1; stopping it/);
  // It was still waiting for the other stores (its identity check), so SIGTERM ends it
  // before it could install its clean-shutdown handler: the command ends, non-zero.
  const r = await fg;
  t.ok(typeof r.exitCode === 'number', `and the foreground command ends (exit ${r.exitCode})`);
  t.ok(await portsFree(c), 'its port is free');

  // Another cluster file whose store 1 uses our store 1's address.
  const otherFile = join(c.dir, 'other.yaml');
  writeFileSync(otherFile, readFileSync(c.file, 'utf8').replace('data_dir: ./data', 'data_dir: ./other-data').replace('cluster_id: e2e', 'cluster_id: other'));
  const other = execa(process.execPath, [bin, '-c', otherFile, 'store', 'start', '--store', '1', '--foreground'], { reject: false, env, extendEnv: false });
  t.teardown(() => { if (other.pid) try { process.kill(other.pid, 'SIGKILL'); } catch { /* gone */ } });
  await eventually('the other cluster\'s store listens', async () => ((await checkPort(c.cfg.stores[0]!.host, c.cfg.stores[0]!.port)).free ? undefined : true), { timeoutMs: 15_000, everyMs: 50, retryErrors: true });
  const refused = await c.cli('cluster', 'down');
  t.equal(refused.code, 2, 'exit 2 while a store on our address is not ours');
  t.match(refused.stderr, /^tinykv: store 1 \(pid \d+\) still runs: it was not started by cluster up/m, 'and says which');
  process.kill(other.pid!, 'SIGTERM');
  await other;
  t.equal((await c.cli('cluster', 'down')).code, 0, 'once it is gone, cluster down exits 0');
});
