// `tinykv delete <key> [end]`: one replicated delete through the client library — of one
// key, of the range [key, end), or of every key with a prefix; a range goes in one atomic
// command and reports how many keys it removed.

import { Option, type Command } from 'commander';
import { argBytes, argEncoding, jsonPair, showBytes } from './bytes.js';
import { withKvClient } from './context.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { encodingOptions, parseKey, timeoutOption, writeOutOf } from './options.js';
import { prefixEnd } from '../api/key-range.js';

export function registerDelete(program: Command, io: CliIo): Command {
  const cmd = program
    .command('delete')
    .alias('del') // etcdctl's name for it: users type it from habit
    .usage('<key> [end] [options]')
    .summary('delete a key, a range of keys, or every key with a prefix')
    .description(
      'Delete <key> and print OK (deleting a key that does not exist succeeds). With [end], delete every ' +
        'key in [key, end) (an empty end: to the last key); with --prefix, every key starting with <key>: ' +
        'atomically, in one replicated command, printing "<n> deleted" (-w json: {"deleted"}; null when a ' +
        'retry found the delete already applied and its count is not known). If the cluster does not answer ' +
        'within --timeout, the delete may or may not have happened (exit 3). -w json of a one-key delete ' +
        'prints {"key","encoding"}.',
    )
    .argument('<key>', 'the key, the start of the range, or the prefix (not empty)', parseKey)
    .argument('[end]', 'end of the range (exclusive); "" for the end of the key space')
    .addOption(new Option('--prefix', 'delete every key that starts with <key>'));
  for (const o of encodingOptions()) cmd.addOption(o);
  return cmd
    .addOption(timeoutOption())
    .action(async (keyArg: string, endArg: string | undefined, opts: { timeout: number; prefix?: boolean; hex?: boolean; base64?: boolean }, c: Command) => {
      const enc = argEncoding(opts);
      const key = argBytes(keyArg, enc, 'the key');
      const json = writeOutOf(c) === 'json';
      if (!opts.prefix && endArg === undefined) {
        await withKvClient(c, opts.timeout, (client) => client.delete(key));
        io.stdout(json ? `${JSON.stringify(jsonPair(key))}\n` : 'OK\n');
        return;
      }
      if (opts.prefix && endArg !== undefined) throw new UsageError('delete: give either [end] or --prefix, not both');
      const end = opts.prefix ? prefixEnd(key) : argBytes(endArg!, enc, '[end]');
      if (end.length > 0 && Buffer.compare(end, key) <= 0) {
        throw new UsageError(`delete: [end] ${JSON.stringify(showBytes(end, enc))} must sort after <key> ${JSON.stringify(showBytes(key, enc))}`);
      }
      const n = await withKvClient(c, opts.timeout, (client) => client.deleteRange(key, end));
      if (json) io.stdout(`${JSON.stringify({ deleted: n ?? null })}\n`);
      else io.stdout(n === undefined ? 'deleted (a retry of a delete already applied: count not known)\n' : `${n} deleted\n`);
    });
}
