// `tinykv put <key> <value>`: one replicated write through the client library.

import type { Command } from 'commander';
import { withKvClient } from './context.js';
import type { CliIo } from './io.js';
import { parseKey, timeoutOption } from './options.js';

export function registerPut(program: Command, io: CliIo): Command {
  return program
    .command('put')
    .usage('<key> <value> [options]')
    .summary('write a value under a key')
    .description(
      'Write <value> under <key> and print OK. It returns once a majority of the stores has the write. ' +
        'If the cluster does not answer within --timeout, the write may or may not have happened (exit 3).',
    )
    .argument('<key>', 'the key (UTF-8, not empty)', parseKey)
    .argument('<value>', 'the value (UTF-8)')
    .addOption(timeoutOption())
    .action(async (key: string, value: string, opts: { timeout: number }, cmd: Command) => {
      await withKvClient(cmd, opts.timeout, (c) => c.put(Buffer.from(key), Buffer.from(value)));
      io.stdout('OK\n');
    });
}
