// `tinykv get <key>`: one linearizable read through the client library. The value is
// printed escaped (plain output), as hex or base64, as JSON, or as its exact bytes (--raw).

import { Option, type Command } from 'commander';
import { argBytes, argEncoding, jsonPair, showBytes } from './bytes.js';
import { withKvClient } from './context.js';
import { KeyNotFoundError, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { encodingOptions, parseKey, timeoutOption, writeOutOf } from './options.js';

export function registerGet(program: Command, io: CliIo): Command {
  const cmd = program
    .command('get')
    .usage('<key> [options]')
    .summary('print the value of a key (exit 1 if absent)')
    .description(
      'Print the value stored under <key> to stdout. The read is served by the leader and sees every ' +
        'write that finished before it started. Exits 1 if the key does not exist. Plain output escapes ' +
        'the bytes that are not printable text: \\\\ for a backslash, \\t \\n \\r, and \\xNN for other control ' +
        'characters and bytes that are not UTF-8. --hex / --base64 print it in that encoding (and take the key ' +
        'in it); --raw writes the exact bytes with no newline; -w json prints {"key","value","encoding"}.',
    )
    .argument('<key>', 'the key (not empty)', parseKey)
    .addOption(new Option('--raw', 'write the value\'s exact bytes, without a newline (for a file or a pipe)'));
  for (const o of encodingOptions()) cmd.addOption(o);
  return cmd
    .addOption(timeoutOption())
    .action(async (keyArg: string, opts: { timeout: number; raw?: boolean; hex?: boolean; base64?: boolean }, c: Command) => {
      const enc = argEncoding(opts);
      const format = writeOutOf(c);
      if (opts.raw && (format === 'json' || enc !== 'utf8')) throw new UsageError('--raw cannot be combined with -w json, --hex or --base64');
      const key = argBytes(keyArg, enc, 'the key');
      const value = await withKvClient(c, opts.timeout, (client) => client.get(key));
      if (value === undefined) throw new KeyNotFoundError(showBytes(key, enc));
      if (opts.raw) io.stdout(Buffer.from(value));
      else if (format === 'json') io.stdout(`${JSON.stringify(jsonPair(key, value))}\n`);
      else io.stdout(`${showBytes(value, enc)}\n`);
    });
}
