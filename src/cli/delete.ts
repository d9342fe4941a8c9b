// `tinykv delete <key>`: one replicated delete through the client library.

import type { Command } from 'commander';
import { NotBuiltError } from './errors.js';
import { parseKey, timeoutOption } from './options.js';

export function registerDelete(program: Command): Command {
  return program
    .command('delete')
    .usage('<key> [options]')
    .summary('delete a key')
    .description(
      'Delete <key>. Deleting a key that does not exist succeeds. If the cluster does not answer ' +
        'within --timeout, the delete may or may not have happened (exit 3).',
    )
    .argument('<key>', 'the key (UTF-8, not empty)', parseKey)
    .addOption(timeoutOption())
    .action(() => {
      throw new NotBuiltError('delete');
    });
}
