// `tinykv scan <start> [end]`: list key-value pairs of a key range, in key order.

import { Option, type Command } from 'commander';
import { NotBuiltError, UsageError } from './errors.js';
import { jsonOption, parsePositiveInt, timeoutOption } from './options.js';

interface ScanOptions {
  readonly limit?: number;
  readonly json?: boolean;
  readonly timeout: number;
}

export function registerScan(program: Command): Command {
  return program
    .command('scan')
    .usage('<start> [end] [options]')
    .summary('list the pairs with start <= key < end')
    .description(
      'Print the key-value pairs with start <= key < end, in byte order of the keys, one pair per ' +
        'line (or as JSON with --json). An empty <start> ("") starts at the first key; without <end> ' +
        '(or with an empty one) the scan runs to the last key.',
    )
    .argument('<start>', 'first key of the range (inclusive)')
    .argument('[end]', 'end of the range (exclusive); must sort after <start>')
    .addOption(new Option('--limit <n>', 'print at most n pairs').argParser(parsePositiveInt('--limit')))
    .addOption(jsonOption())
    .addOption(timeoutOption())
    .action((start: string, end: string | undefined, _opts: ScanOptions) => {
      if (end !== undefined && end !== '' && Buffer.compare(Buffer.from(end), Buffer.from(start)) <= 0) {
        throw new UsageError(`scan: <end> ${JSON.stringify(end)} must sort after <start> ${JSON.stringify(start)}`);
      }
      throw new NotBuiltError('scan');
    });
}
