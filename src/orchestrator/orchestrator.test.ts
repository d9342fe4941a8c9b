// Unit tests of the orchestrator's process bookkeeping: pid files, the liveness check
// (running, paused, zombie, reused PID), the port check and the last-line extraction.
// Real store processes are exercised end to end in test/e2e.

import { spawn } from 'node:child_process';
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { ClusterConfig } from '../config/types.js';
import { isStoreCommandLine, readProc, startTicksOf, storeProcessState } from './liveness.js';
import { pidFilePath, readPidFile, removePidFile, writePidFile, type PidRecord } from './pid-file.js';
import { checkPort } from './port.js';
import { lastLogLine } from './spawn.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { eventually } from '../../test/support/wait.js';

const dir = tempDir(t, 'tinykv-orch-');
const cfg: ClusterConfig = {
  file: join(dir, 'cluster.yaml'), clusterId: 't', dataDir: join(dir, 'data'),
  stores: [{ id: 1, addr: '127.0.0.1:1', host: '127.0.0.1', port: 1, join: false }], removedStores: [],
  raft: { tickMs: 20, electionTicks: 10, heartbeatTicks: 2, compactLogThreshold: 1000, compactLogMaxBytes: 1 << 26, clientSessionTtlMs: 30_000, maxClockSkewMs: 5_000, readMode: 'read_index' }, maxKeyBytes: 64, maxValueBytes: 64,
};

t.test('pid files round-trip; foreign or broken ones read as absent', async (t) => {
  t.equal(readPidFile(cfg, 1), undefined);
  const rec: PidRecord = { pid: 4242, storeId: 1, config: cfg.file, startTicks: 99, startedAt: '2026-01-01T00:00:00Z' };
  writePidFile(cfg, rec);
  t.same(readPidFile(cfg, 1), rec);
  t.equal(readPidFile(cfg, 2), undefined, 'another store id');
  writeFileSync(pidFilePath(cfg, 1), '4242\n');
  t.equal(readPidFile(cfg, 1), undefined, 'no start marker');
  writeFileSync(pidFilePath(cfg, 1), 'garbage\n{}\n');
  t.equal(readPidFile(cfg, 1), undefined);
  writeFileSync(pidFilePath(cfg, 1), `4242\n${JSON.stringify({ store_id: 2, config: cfg.file, start_ticks: 1 })}\n`);
  t.equal(readPidFile(cfg, 1), undefined, 'a record of another store');
  removePidFile(cfg, 1);
  removePidFile(cfg, 1);
  t.equal(readPidFile(cfg, 1), undefined);
});

t.test('command line match', async (t) => {
  const argv = ['/usr/bin/node', '/x/dist/node/main.js', '--config', '/c.yaml', '--store', '2'];
  t.ok(isStoreCommandLine(argv, '/c.yaml', 2));
  t.notOk(isStoreCommandLine(argv, '/c.yaml', 3));
  t.notOk(isStoreCommandLine(argv, '/other.yaml', 2));
  t.notOk(isStoreCommandLine(['/usr/bin/node', '/x/cli/main.js', '--config', '/c.yaml', '--store', '2'], '/c.yaml', 2));
});

t.test('liveness: running, paused, reused PID, zombie, gone', { skip: readProc(process.pid) ? false : 'no /proc' }, async (t) => {
  // A stand-in whose command line looks like a store's: node -e <idle> /fake/node/main.js --config … --store 1
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '/fake/node/main.js', '--config', cfg.file, '--store', '1'], { stdio: 'ignore' });
  const pid = child.pid!;
  t.teardown(() => void child.kill('SIGKILL'));
  const ticks = startTicksOf(pid)!;
  const rec: PidRecord = { pid, storeId: 1, config: cfg.file, startTicks: ticks, startedAt: '' };
  t.equal(storeProcessState(rec), 'running');
  t.equal(storeProcessState({ ...rec, startTicks: ticks + 1 }), 'dead', 'another process with the same PID');
  t.equal(storeProcessState({ ...rec, storeId: 2 }), 'dead', 'not this store');
  t.equal(storeProcessState({ ...rec, config: '/elsewhere.yaml' }), 'dead', 'another cluster file');
  t.equal(storeProcessState({ ...rec, pid: process.pid, startTicks: startTicksOf(process.pid)! }), 'dead', 'not a store at all');

  process.kill(pid, 'SIGSTOP');
  await eventually('paused', () => storeProcessState(rec) === 'paused', { timeoutMs: 5000, everyMs: 10 });
  t.equal(storeProcessState(rec), 'paused');
  process.kill(pid, 'SIGCONT');
  await eventually('running', () => storeProcessState(rec) === 'running', { timeoutMs: 5000, everyMs: 10 });
  t.equal(storeProcessState(rec), 'running');

  // Kill it without reaping: child_process reaps on 'exit', so look before that fires.
  process.kill(pid, 'SIGKILL');
  await eventually('dead', () => storeProcessState(rec) === 'dead', { timeoutMs: 5000, everyMs: 10 });
  t.equal(storeProcessState(rec), 'dead', 'a killed process (zombie or reaped) is dead');
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
  t.equal(readProc(pid), undefined, 'reaped: no /proc entry');
  t.equal(storeProcessState(rec), 'dead');
});

t.test('port check', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.same(await checkPort('127.0.0.1', port), { free: false, reason: 'is held by another process' });
  await new Promise((r) => server.close(r));
  t.same(await checkPort('127.0.0.1', port), { free: true });
  const r = await checkPort('192.0.2.1', port);
  t.equal(r.free, false, 'an address of another machine cannot be bound');
});

t.test('last log line: the stderr line, not the JSON records or a stack', async (t) => {
  const log = join(dir, 'store.log');
  writeFileSync(log, '{"msg":"old run"}\ntinykv store: old failure\n');
  const first = statSync(log).size;
  appendFileSync(log, '{"t":"x","level":"info","msg":"opening"}\ntinykv store: port 5 on 127.0.0.1 is already in use\n');
  t.equal(lastLogLine(log, first), 'tinykv store: port 5 on 127.0.0.1 is already in use');
  const second = statSync(log).size;
  appendFileSync(log, 'file:///x.js:3\n  throw new Error("boom")\n  ^\n\nError: boom\n    at f (file:///x.js:3:9)\n\nNode.js v20.20.2\n');
  t.equal(lastLogLine(log, second), 'Error: boom', 'an uncaught exception');
  writeFileSync(log, '{"level":"error","msg":"fatal store error; exiting","error":"disk full"}\n');
  t.equal(lastLogLine(log, 0), 'fatal store error; exiting: disk full');
  t.equal(lastLogLine(join(dir, 'none.log'), 0), undefined);
});

