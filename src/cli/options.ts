// Argument parsers and options shared by several commands. Parsers throw commander's
// InvalidArgumentError, which commander reports as a usage error (exit 2).

import { InvalidArgumentError, Option } from 'commander';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** How long `cluster up`, `store start` and `chaos restart` wait for the stores by default. */
export const DEFAULT_UP_TIMEOUT_MS = 30_000;

/** A store id as written in the cluster file: a positive integer. */
export type StoreId = number;

export function parsePositiveInt(what: string): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer.`);
    return n;
  };
}

export const parseStoreId = parsePositiveInt('a store id');

/** `--store <id|leader>`: a store id, or the word `leader` for whichever store leads now. */
export function parseStoreOrLeader(value: string): StoreId | 'leader' {
  return value === 'leader' ? 'leader' : parseStoreId(value);
}

/** A comma-separated list of distinct store ids, e.g. `2,3`. */
export function parseStoreIdList(value: string): StoreId[] {
  const ids = value.split(',').map((part) => {
    try {
      return parseStoreId(part.trim());
    } catch {
      throw new InvalidArgumentError('expected store ids separated by commas, e.g. 2,3.');
    }
  });
  if (new Set(ids).size !== ids.length) throw new InvalidArgumentError('a store id is listed twice.');
  return ids;
}

/** A probability in [0, 1]. */
export function parseProbability(value: string): number {
  const p = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new InvalidArgumentError('must be a number from 0 to 1.');
  return p;
}

/** A key given on the command line: any non-empty string (bytes are its UTF-8 encoding). */
export function parseKey(value: string): string {
  if (value === '') throw new InvalidArgumentError('a key must not be empty.');
  return value;
}

/** `--timeout <ms>` for commands that talk to the cluster. */
export function timeoutOption(
  defaultMs: number = DEFAULT_TIMEOUT_MS,
  description = 'give up after this many milliseconds (exit 3; a write may then have happened or not)',
): Option {
  return new Option('--timeout <ms>', description).default(defaultMs).argParser(parsePositiveInt('--timeout'));
}

export function jsonOption(): Option {
  return new Option('--json', 'print JSON to stdout instead of a table');
}

export function storeOption(): Option {
  return new Option('--store <id>', 'the store id, as listed in the cluster file')
    .argParser(parseStoreId)
    .makeOptionMandatory();
}

/** `--hex` / `--base64`: keys and values on the command line, and in plain output, are hex or base64. */
export function encodingOptions(): Option[] {
  return [
    new Option('--hex', 'keys and values given (and printed) as hex, e.g. 00ff10'),
    new Option('--base64', 'keys and values given (and printed) as base64'),
  ];
}

export type WriteOut = 'simple' | 'json' | 'table';

/** `-w, --write-out <format>`, a global option every command reads through writeOutOf. */
export function writeOutOption(): Option {
  return new Option('-w, --write-out <format>', 'output format: simple, json or table').choices(['simple', 'json', 'table']).default('simple');
}

/** The output format for a command: its own --json (an alias of -w json) wins over the global -w. */
export function writeOutOf(cmd: { optsWithGlobals(): Record<string, unknown> }): WriteOut {
  const o = cmd.optsWithGlobals();
  return o['json'] === true ? 'json' : ((o['writeOut'] as WriteOut | undefined) ?? 'simple');
}

/** `--endpoints host:port,...`: reach a cluster without a cluster file (key commands and shell). */
export function endpointsOption(): Option {
  return new Option('--endpoints <list>', 'stores to talk to, host:port separated by commas, instead of the cluster file (get, put, delete, scan, shell)')
    .argParser((value: string) => {
      const list = value.split(',').map((x) => x.trim()).filter((x) => x !== '');
      if (list.length === 0 || !list.every((x) => /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(x))) {
        throw new InvalidArgumentError('expected host:port separated by commas, e.g. 127.0.0.1:20161,127.0.0.1:20162.');
      }
      return list;
    });
}
