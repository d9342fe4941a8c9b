import { CommanderError } from 'commander';
import t from 'tap';
import type { ErrorCode } from '../api/codes.js';
import { KeyNotFoundError, UsageError } from './errors.js';
import { CliError } from './errors.js';
import { ExitCode, exitFor, exitNow } from './exit-codes.js';
import { run } from './run.js';

const withCode = (code: string, message: string) => Object.assign(new Error(message), { code });

t.test('each error code maps to its exit code and one line', async (t) => {
  t.same(exitFor(new KeyNotFoundError('k')), { code: ExitCode.notFound, line: 'key not found: "k"' });
  t.same(exitFor(new UsageError('bad\nthing')), { code: ExitCode.usage, line: 'bad thing' });
  t.equal(exitFor(withCode('CONFIG', 'stores[1].addr: missing')).code, ExitCode.usage);
  t.equal(exitFor(withCode('UNKNOWN_STORE', 'no store 9')).code, ExitCode.usage);
  t.equal(exitFor(withCode('CLUSTER_NOT_READY', 'no leader in 10000 ms')).code, ExitCode.timeout);
  // The client's errors.
  t.equal(exitFor(withCode('INVALID_ARGUMENT', 'value too large')).code, ExitCode.usage);
  t.equal(exitFor(withCode('UNKNOWN_OUTCOME', 'put: may or may not')).code, ExitCode.timeout);
  t.equal(exitFor(withCode('CLUSTER_UNAVAILABLE', 'get: no store answered')).code, ExitCode.timeout);
  // The orchestrator's, and the foreground store's.
  for (const code of ['PORT_IN_USE', 'FOREIGN_DATA_DIR', 'STORE_START_FAILED', 'STORE_NOT_RUNNING', 'STORE_BUSY']) {
    t.equal(exitFor(withCode(code, 'x')).code, ExitCode.usage, code);
  }
  for (const code of ['CLUSTER_NOT_READY', 'NO_LEADER', 'FAULT_NOT_APPLIED']) {
    t.equal(exitFor(withCode(code, 'x')).code, ExitCode.timeout, code);
  }
});

t.test('anything unclassified is an internal error, without a stack', async (t) => {
  t.same(exitFor(new TypeError('x is undefined')), { code: ExitCode.internal, line: 'internal error: x is undefined' });
  t.equal(exitFor(withCode('toString', 'inherited key')).code, ExitCode.internal);
  t.equal(exitFor('a string').code, ExitCode.internal);
});

t.test("commander's own exits: 0 for help and version, 2 for usage errors", async (t) => {
  t.same(exitFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')), { code: ExitCode.ok });
  t.same(exitFor(new CommanderError(0, 'commander.version', '0.1.0')), { code: ExitCode.ok });
  t.same(exitFor(new CommanderError(1, 'commander.unknownCommand', "error: unknown command 'x'")), {
    code: ExitCode.usage,
  });
});

t.test('run() works in-process with collected output', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
  t.equal(await run(['node', 'tinykv', '-c', '/nonexistent/cluster.yaml', 'get', 'k'], io), ExitCode.usage);
  t.same(err, [
    'tinykv: /nonexistent/cluster.yaml: cannot read the cluster file: no such file (give another with -c <file> or TINYKV_CONFIG)\n',
  ]);
  t.equal(await run(['node', 'tinykv', '--help'], io), ExitCode.ok);
  t.match(out.join(''), /chaos partition/);
});

t.test('the exit codes are a total map over ErrorCode', async (t) => {
  // The compiler refuses a code outside the union, and the map's type (Record<ErrorCode, …>)
  // refuses a code in the union without an exit code: so a new code cannot go unmapped.
  // @ts-expect-error not an ErrorCode
  const notACode: ErrorCode = 'SOMETHING_NEW';
  t.equal(notACode, 'SOMETHING_NEW');
  for (const code of ['NOT_LEADER', 'CLUSTER_BUSY', 'LOST_STATE'] as const) {
    const err = Object.assign(new Error('x'), { code });
    t.not(exitFor(err).code, ExitCode.internal, `${code} has its own exit code`);
  }
});

t.test('a command that must quit at once exits through the table too (chaos run, second Ctrl-C: 130)', async (t) => {
  const err: string[] = [];
  const io = { stdout: () => {}, stderr: (s: string) => void err.push(s) };
  let exited: number | undefined;
  const exit = ((code: number) => { exited = code; throw new Error('exited'); }) as (code: number) => never;
  t.throws(() => exitNow(new CliError('INTERRUPTED', 'chaos run: interrupted again'), io, exit));
  t.equal(exited, 130);
  t.equal(ExitCode.interrupted, 130);
  t.same(err, ['tinykv: chaos run: interrupted again\n']);
});
