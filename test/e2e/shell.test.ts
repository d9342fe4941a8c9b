// `tinykv shell`: many commands in one process, one answer per line, errors as
// `ERROR <code> <message>` lines so that answers pair with commands, and the first
// failure's exit code at the end.

import { execa } from 'execa';
import t from 'tap';
import { bin, makeCluster } from './helpers.js';

t.test('a script of puts, gets, scans and mistakes through tinykv shell', async (t) => {
  const c = await makeCluster(t);
  await c.ok('cluster', 'up');
  const { TINYKV_CONFIG: _ignored, NODE_OPTIONS: _no, ...env } = process.env;
  const shell = (input: string) => execa(process.execPath, [bin, '-c', c.file, 'shell'], { input, reject: false, env, extendEnv: false, stripFinalNewline: false });

  const n = 500;
  const lines = Array.from({ length: n }, (_, i) => `put k${i} 'value ${i}'`);
  const t0 = performance.now();
  const puts = await shell(`${lines.join('\n')}\n`);
  const ms = performance.now() - t0;
  t.equal(puts.exitCode, 0, 'every line succeeded');
  t.equal(puts.stdout, 'OK\n'.repeat(n), 'one OK per put');
  t.comment(`${n} puts in one shell: ${Math.round(ms)} ms (${Math.round(n / (ms / 1000))}/s, process start included)`);

  const script = [
    'get k7',
    '# a comment, then a blank line',
    '',
    'get missing',
    'put "two words" "a \\"quoted\\" value"',
    'get "two words"',
    'scan k1 k2 --limit 2 -w json',
    'cluster down',
    "put 'unterminated",
    'delete k7',
    'get k7',
    'del k8',
    'get k8',
  ].join('\n');
  const r = await shell(`${script}\n`);
  t.equal(r.exitCode, 1, 'exit code of the first failure (get of a missing key: 1)');
  t.same(r.stdout.split('\n').slice(0, -1), [
    'value 7',
    'ERROR 1 key not found: "missing"',
    'OK',
    'a "quoted" value',
    '{"key":"k1","value":"value 1","encoding":"utf8"}',
    '{"key":"k10","value":"value 10","encoding":"utf8"}',
    'ERROR 2 line 8: only put, get, delete (del) and scan run in a shell, not "cluster"',
    "ERROR 2 line 9: unterminated ' quote",
    'OK',
    'ERROR 1 key not found: "k7"',
    'OK',
    'ERROR 1 key not found: "k8"',
  ], 'one answer per command, in order (del: delete\'s alias)');
  // Range deletes: one atomic command each, reporting the count.
  t.equal((await c.ok('delete', 'k1', 'k2')).stdout, '111 deleted\n', '[k1, k2): k1, k10-k19, k100-k199');
  t.same(JSON.parse((await c.ok('delete', 'k4', '--prefix', '-w', 'json')).stdout), { deleted: 111 }, '--prefix k4');
  t.equal((await c.ok('delete', 'k4', '--prefix')).stdout, '0 deleted\n', 'nothing left to delete');
  t.equal((await c.ok('scan', '', '--count-only')).stdout, '277\n', '501 keys - k7 - k8 - 222 deleted');
  t.equal((await c.cli('get', 'k150')).code, 1, 'k150 is gone');
  t.equal((await c.ok('get', 'k20')).stdout, 'value 20\n', 'k20 is not');

  // No cluster file: one address is enough, the stores tell the rest.
  const noFile = (...args: string[]) => execa(process.execPath, [bin, '-c', '/nonexistent/cluster.yaml', ...args], { reject: false, env, extendEnv: false });
  for (const s of c.cfg.stores) {
    const g = await noFile('--endpoints', s.addr, 'get', 'k9');
    t.same([g.exitCode, g.stdout], [0, 'value 9'], `--endpoints ${s.addr} reaches the leader, whichever store that is`);
  }
  const bad = await noFile('--endpoints', '127.0.0.1:1', 'get', 'k9');
  t.equal(bad.exitCode, 3, 'an endpoint where no store runs: exit 3');
  t.match(bad.stderr, /no store answers at 127\.0\.0\.1:1 \(connection refused\)/);
  await c.ok('cluster', 'down');
});
