// The `tinykv` command line as a user meets it: the command tree in --help, exit codes,
// and one-line errors. Spawns the built CLI (bin/tinykv runs dist/bundle/keys.cjs or cli.cjs), so it
// needs `npm run build` first (npm test does that in pretest).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'tinykv');

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function tinykv(...args: string[]): Outcome {
  return runScript(bin, args);
}

function runScript(script: string, args: readonly string[]): Outcome {
  const { TINYKV_CONFIG: _ignored, ...env } = process.env;
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, NO_COLOR: '1' },
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Leaf commands, as `tinykv --help` must list them. */
const COMMANDS = [
  'cluster up',
  'cluster down',
  'cluster status',
  'store start',
  'put',
  'get',
  'delete',
  'scan',
  'chaos kill',
  'chaos restart',
  'chaos pause',
  'chaos resume',
  'chaos partition',
  'chaos drop',
  'chaos heal',
];

const listed = (help: string, command: string) => new RegExp(`^ {2}${command}( |$)`, 'm').test(help);

t.test('the build output exists', async (t) => {
  t.ok(existsSync(join(root, 'dist', 'cli', 'main.js')), 'dist/cli/main.js exists (run npm run build)');
});

t.test('--help lists the whole command tree and exits 0', async (t) => {
  const r = tinykv('--help');
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
  for (const command of COMMANDS) t.ok(listed(r.stdout, command), `lists '${command}'`);
  t.match(r.stdout, /-c, --config <file>/);
  t.match(r.stdout, /TINYKV_CONFIG/);
  t.match(r.stdout, /Exit codes:/);
});

t.test('group help lists the group subcommands', async (t) => {
  const cluster = tinykv('cluster', '--help');
  t.equal(cluster.status, 0);
  for (const c of COMMANDS.filter((c) => c.startsWith('cluster '))) t.ok(listed(cluster.stdout, c), `lists '${c}'`);
  const chaos = tinykv('help', 'chaos');
  t.equal(chaos.status, 0);
  for (const c of COMMANDS.filter((c) => c.startsWith('chaos '))) t.ok(listed(chaos.stdout, c), `lists '${c}'`);
  const scan = tinykv('scan', '--help');
  t.equal(scan.status, 0);
  t.match(scan.stdout, /--limit <n>/);
  t.match(scan.stdout, /--timeout <ms>.*\(default:\s+10000\)/s);
});

t.test('--version prints the package version', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = tinykv('--version');
  t.equal(r.status, 0);
  t.equal(r.stdout, `${pkg.version}\n`);
});

t.test('every command reads the cluster file first: a missing one is one line and exit 2', async (t) => {
  // Commands now start real processes, so point them at a file that does not exist: this
  // checks the wiring (config first, one error line, exit 2) without starting anything.
  const missing = '/nonexistent/tinykv/cluster.yaml';
  const cases: [string[], string][] = [
    [['cluster', 'up'], missing],
    [['cluster', 'down', '--purge'], missing],
    [['cluster', 'status', '--json'], missing],
    [['store', 'start', '--store', '1', '--foreground'], missing],
    [['put', 'k', 'v', '--timeout', '500'], missing],
    [['get', 'k'], missing],
    [['delete', 'k'], missing],
    [['scan', 'a', 'z', '--limit', '5', '--json'], missing],
    [['scan', ''], missing],
    [['chaos', 'kill', '--store', 'leader'], missing],
    [['chaos', 'kill', '--store', '2'], missing],
    [['chaos', 'restart', '--store', '2'], missing],
    [['chaos', 'pause', '--store', '3'], missing],
    [['chaos', 'resume', '--store', '3'], missing],
    [['chaos', 'partition', '--isolate', '1'], missing],
    [['chaos', 'partition', '1', '2,3'], missing],
    [['chaos', 'drop', '--rate', '0.1'], missing],
    [['chaos', 'heal'], missing],
  ];
  const withConfig = cases.map(([args, file]): [string[], string] => [['-c', file, ...args], file]);
  withConfig.push([['-c', 'other.yaml', 'cluster', 'up'], 'other.yaml']);
  withConfig.push([['cluster', 'up', '--config', 'other.yaml'], 'other.yaml']);
  for (const [args, file] of withConfig) {
    const r = tinykv(...args);
    t.equal(r.status, 2, `tinykv ${args.join(' ')}: exit 2`);
    t.equal(
      r.stderr,
      `tinykv: ${file}: cannot read the cluster file: no such file (give another with -c <file> or TINYKV_CONFIG)\n`,
      `tinykv ${args.join(' ')}: one line`,
    );
    t.equal(r.stdout, '');
  }
});

t.test('usage errors exit 2 with one line on stderr', async (t) => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['chaos', 'kil'], /unknown command 'kil'.*kill/],
    [['--no-such-option'], /unknown option '--no-such-option'/],
    [['get'], /missing required argument 'key'/],
    [['get', 'a', 'b'], /too many arguments/],
    [['get', ''], /key must not be empty/],
    [['put', 'k'], /missing value: give it as an argument, '-' for stdin, or --file <path>/],
    [['put', 'k', 'v', '--timeout', '0'], /--timeout must be a positive integer/],
    [['get', 'k', '--timeout', 'soon'], /--timeout must be a positive integer/],
    [['scan', 'a', '--limit', 'x'], /--limit must be a positive integer/],
    [['scan', 'a', '--limit', '0'], /--limit must be a positive integer/],
    [['scan', 'a', '--limit', '1.5'], /--limit must be a positive integer/],
    [['scan', 'b', 'a'], /must sort after/],
    [['store', 'start'], /required option '--store <id>'/],
    [['store', 'start', '--store', 'x'], /store id must be a positive integer/],
    [['chaos', 'kill'], /required option '--store/],
    [['chaos', 'kill', '--store', '0'], /store id must be a positive integer/],
    [['chaos', 'drop', '--rate', '1.5'], /from 0 to 1/],
    [['chaos', 'drop', '--rate', '-0.1'], /from 0 to 1/],
    [['chaos', 'drop', '--rate', 'often'], /from 0 to 1/],
    [['chaos', 'partition'], /two groups/],
    [['chaos', 'partition', '1'], /two groups/],
    [['chaos', 'partition', '1,2', '2,3'], /store 2 is in both groups/],
    [['chaos', 'partition', '1', '2,x'], /store ids separated by commas/],
    [['chaos', 'partition', '--isolate', '1', '2', '3'], /not both/],
  ];
  for (const [args, message] of cases) {
    const r = tinykv(...args);
    const what = `tinykv ${args.map((a) => JSON.stringify(a)).join(' ')}`;
    t.equal(r.status, 2, `${what}: exit 2`);
    t.match(r.stderr, /^tinykv: [^\n]+\n$/, `${what}: one line on stderr`);
    t.match(r.stderr, message, `${what}: says why`);
    t.equal(r.stdout, '');
  }
});

t.test('a group without a subcommand shows its help on stderr and exits 2', async (t) => {
  const r = tinykv('chaos');
  t.equal(r.status, 2);
  t.match(r.stderr, /^Usage: tinykv chaos/);
  t.equal(r.stdout, '');
});

t.test('the key commands\' bundle answers exactly as the whole CLI', async (t) => {
  // bin/tinykv runs dist/bundle/keys.cjs when argv names put/get/delete/scan after nothing
  // but global options with values; the rest runs dist/bundle/cli.cjs. For any such argv
  // the two must be indistinguishable: help, usage errors, cluster file errors, exit codes.
  const keys = join(root, 'dist', 'bundle', 'keys.cjs');
  const whole = join(root, 'dist', 'bundle', 'cli.cjs');
  t.ok(existsSync(keys) && existsSync(whole), 'both bundles are built');
  const argvs: string[][] = [
    ['get', '--help'], ['put', '--help'], ['delete', '--help'], ['scan', '--help'], ['get'], ['get', ''],
    ['put', 'k'], ['put', 'k', 'v', '--file', 'f'], ['get', '--hex', 'zz'], ['scan', 'b', 'a'], ['get', 'k', '--raw', '-w', 'json'],
    ['delete', '--prefix'], ['del', '--help'], ['del', 'k', 'z', '--prefix'], ['scan', '--limit', '0'], ['get', 'k', '--bogus'], ['get', 'a', 'b'],
    ['-w', 'yaml', 'get', 'k'], ['--write-out=json', 'get', '--help'], ['-c', 'no/such/file.yaml', 'get', 'k'],
    ['--config=no/such/file.yaml', 'put', 'k', 'v'], ['--endpoints', 'nohostport', 'get', 'k'], ['--endpoints=', 'scan', 'a'],
  ];
  for (const args of argvs) {
    const a = runScript(keys, args);
    const b = runScript(whole, args);
    t.same(a, b, `tinykv ${args.join(' ')}`);
  }
});
