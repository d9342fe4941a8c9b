// `tinykv scan <start> [end]`: list key-value pairs of a key range, in key order.

import { Option, type Command } from 'commander';
import { argBytes, argEncoding, jsonPair, showBytes } from './bytes.js';
import { withKvClient } from './context.js';
import { prefixEnd } from '../api/key-range.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { encodingOptions, jsonOption, parsePositiveInt, timeoutOption, writeOutOf } from './options.js';

interface ScanOptions {
  readonly limit?: number;
  readonly prefix?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly hex?: boolean;
  readonly base64?: boolean;
  readonly timeout: number;
}

export function registerScan(program: Command, io: CliIo): Command {
  const cmd = program
    .command('scan')
    .usage('<start> [end] [options]')
    .summary('list the pairs with start <= key < end (or with a prefix)')
    .description(
      'Print the key-value pairs with start <= key < end, in byte order of the keys, one pair per line as ' +
        'key<TAB>value. An empty <start> ("") starts at the first key; without <end> (or with an empty one) ' +
        'the scan runs to the last key. --prefix lists the keys that start with <start>. Plain output escapes ' +
        'what is not printable text (\\\\, \\t, \\n, \\r, \\xNN for control characters and bytes that are not UTF-8), ' +
        'so tabs and newlines inside keys never break the lines. -w json (or --json) prints one object per ' +
        'line: {"key","value","encoding"}, with key and value as strings when both are valid UTF-8 ' +
        '(encoding "utf8"), else base64 (encoding "base64"); with --count-only, {"count"}. -w table aligns columns.',
    )
    .argument('<start>', 'first key of the range (inclusive), or the prefix with --prefix')
    .argument('[end]', 'end of the range (exclusive); must sort after <start>')
    .addOption(new Option('--prefix', 'list the keys that start with <start>'))
    .addOption(new Option('--keys-only', 'print the keys only'))
    .addOption(new Option('--count-only', 'print how many pairs there are'))
    .addOption(new Option('--limit <n>', 'at most n pairs').argParser(parsePositiveInt('--limit')));
  for (const o of encodingOptions()) cmd.addOption(o);
  return cmd
    .addOption(jsonOption())
    .addOption(timeoutOption())
    .action(async (startArg: string, endArg: string | undefined, opts: ScanOptions, c: Command) => {
      const enc = argEncoding(opts);
      const start = argBytes(startArg, enc, '<start>');
      if (opts.prefix && endArg !== undefined) throw new UsageError('scan: give either <end> or --prefix, not both');
      if (opts.keysOnly && opts.countOnly) throw new UsageError('scan: --keys-only and --count-only cannot be used together');
      const end = opts.prefix ? prefixEnd(start) : argBytes(endArg ?? '', enc, '<end>');
      if (end.length > 0 && Buffer.compare(end, start) <= 0) {
        throw new UsageError(`scan: <end> ${JSON.stringify(showBytes(end, enc))} must sort after <start> ${JSON.stringify(showBytes(start, enc))}`);
      }
      // 0 asks the store for everything; --limit bounds it.
      const pairs = await withKvClient(c, opts.timeout, (client) => client.scan(start, end, opts.limit ?? 0));
      const format = writeOutOf(c);
      if (opts.countOnly) {
        io.stdout(format === 'json' ? `${JSON.stringify({ count: pairs.length })}\n` : `${pairs.length}\n`);
        return;
      }
      if (format === 'json') {
        io.stdout(pairs.map(([k, v]) => `${JSON.stringify(opts.keysOnly ? jsonPair(k) : jsonPair(k, v))}\n`).join(''));
        return;
      }
      const rows = pairs.map(([k, v]) => (opts.keysOnly ? [showBytes(k, enc)] : [showBytes(k, enc), showBytes(v, enc)]));
      if (format === 'table') {
        const head = opts.keysOnly ? ['KEY'] : ['KEY', 'VALUE'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        const fmt = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
        io.stdout([head, ...rows].map((r) => `${fmt(r)}\n`).join(''));
        return;
      }
      io.stdout(rows.map((r) => `${r.join('\t')}\n`).join(''));
    });
}
