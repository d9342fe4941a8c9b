// `tinykv delete <key>`: one replicated delete through the client library.

import type { Command } from 'commander';
import { withKvClient } from './context.js';
import type { CliIo } from './io.js';
import { parseKey, timeoutOption } from './options.js';

export function registerDelete(program: Command, io: CliIo): Command {
  return program
    .command('delete')
    .usage('<key> [options]')
    .summary('delete a key')
    .description(
      'Delete <key> and print OK. Deleting a key that does not exist succeeds. If the cluster does not ' +
        'answer within --timeout, the delete may or may not have happened (exit 3).',
    )
    .argument('<key>', 'the key (UTF-8, not empty)', parseKey)
    .addOption(timeoutOption())
    .action(async (key: string, opts: { timeout: number }, cmd: Command) => {
      await withKvClient(cmd, opts.timeout, (c) => c.delete(Buffer.from(key)));
      io.stdout('OK\n');
    });
}
