// `tinykv get <key>`: one linearizable read through the client library.

import type { Command } from 'commander';
import { withKvClient } from './context.js';
import { KeyNotFoundError } from './errors.js';
import type { CliIo } from './io.js';
import { parseKey, timeoutOption } from './options.js';

export function registerGet(program: Command, io: CliIo): Command {
  return program
    .command('get')
    .usage('<key> [options]')
    .summary('print the value of a key (exit 1 if absent)')
    .description(
      'Print the value stored under <key> to stdout. The read is served by the leader and sees every ' +
        'write that finished before it started. Exits 1 if the key does not exist.',
    )
    .argument('<key>', 'the key (UTF-8, not empty)', parseKey)
    .addOption(timeoutOption())
    .action(async (key: string, opts: { timeout: number }, cmd: Command) => {
      const value = await withKvClient(cmd, opts.timeout, (c) => c.get(Buffer.from(key)));
      if (value === undefined) throw new KeyNotFoundError(key);
      io.stdout(`${Buffer.from(value).toString('utf8')}\n`);
    });
}
