// `tinykv delete <key>`: one replicated delete through the client library.

import type { Command } from 'commander';
import { argBytes, argEncoding, jsonPair } from './bytes.js';
import { withKvClient } from './context.js';
import type { CliIo } from './io.js';
import { encodingOptions, parseKey, timeoutOption, writeOutOf } from './options.js';

export function registerDelete(program: Command, io: CliIo): Command {
  const cmd = program
    .command('delete')
    .usage('<key> [options]')
    .summary('delete a key')
    .description(
      'Delete <key> and print OK. Deleting a key that does not exist succeeds. If the cluster does not ' +
        'answer within --timeout, the delete may or may not have happened (exit 3). -w json prints {"key","encoding"}.',
    )
    .argument('<key>', 'the key (not empty)', parseKey);
  for (const o of encodingOptions()) cmd.addOption(o);
  return cmd
    .addOption(timeoutOption())
    .action(async (keyArg: string, opts: { timeout: number; hex?: boolean; base64?: boolean }, c: Command) => {
      const key = argBytes(keyArg, argEncoding(opts), 'the key');
      await withKvClient(c, opts.timeout, (client) => client.delete(key));
      io.stdout(writeOutOf(c) === 'json' ? `${JSON.stringify(jsonPair(key))}\n` : 'OK\n');
    });
}
