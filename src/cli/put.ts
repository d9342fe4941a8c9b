// `tinykv put <key> <value>`: one replicated write through the client library.

import type { Command } from 'commander';
import { NotBuiltError } from './errors.js';
import { parseKey, timeoutOption } from './options.js';

export function registerPut(program: Command): Command {
  return program
    .command('put')
    .usage('<key> <value> [options]')
    .summary('write a value under a key')
    .description(
      'Write <value> under <key>. It returns once a majority of the stores has the write. If the ' +
        'cluster does not answer within --timeout, the write may or may not have happened (exit 3).',
    )
    .argument('<key>', 'the key (UTF-8, not empty)', parseKey)
    .argument('<value>', 'the value (UTF-8)')
    .addOption(timeoutOption())
    .action(() => {
      throw new NotBuiltError('put');
    });
}
