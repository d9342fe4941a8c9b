// `tinykv scan <start> [end]`: list key-value pairs of a key range, in key order.

import { Option, type Command } from 'commander';
import { withKvClient } from './context.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { jsonOption, parsePositiveInt, timeoutOption } from './options.js';

interface ScanOptions {
  readonly limit?: number;
  readonly json?: boolean;
  readonly timeout: number;
}

export function registerScan(program: Command, io: CliIo): Command {
  return program
    .command('scan')
    .usage('<start> [end] [options]')
    .summary('list the pairs with start <= key < end')
    .description(
      'Print the key-value pairs with start <= key < end, in byte order of the keys, one pair per ' +
        'line as key<TAB>value (or one JSON object per line with --json). An empty <start> ("") starts ' +
        'at the first key; without <end> (or with an empty one) the scan runs to the last key.',
    )
    .argument('<start>', 'first key of the range (inclusive)')
    .argument('[end]', 'end of the range (exclusive); must sort after <start>')
    .addOption(new Option('--limit <n>', 'print at most n pairs').argParser(parsePositiveInt('--limit')))
    .addOption(jsonOption())
    .addOption(timeoutOption())
    .action(async (start: string, end: string | undefined, opts: ScanOptions, cmd: Command) => {
      if (end !== undefined && end !== '' && Buffer.compare(Buffer.from(end), Buffer.from(start)) <= 0) {
        throw new UsageError(`scan: <end> ${JSON.stringify(end)} must sort after <start> ${JSON.stringify(start)}`);
      }
      const pairs = await withKvClient(cmd, opts.timeout, (c) =>
        c.scan(Buffer.from(start), Buffer.from(end ?? ''), opts.limit ?? 0),
      );
      const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
      const lines = pairs.map(([k, v]) =>
        opts.json ? JSON.stringify({ key: text(k), value: text(v) }) : `${text(k)}\t${text(v)}`,
      );
      io.stdout(lines.map((l) => `${l}\n`).join(''));
    });
}
