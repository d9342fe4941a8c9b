// `tinykv put <key> <value>`: one replicated write through the client library. The value
// may come from a file (--file) or stdin (`-`), and keys and values may be given as hex or
// base64 (see bytes.ts), so any bytes can be written.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { argBytes, argEncoding, jsonPair } from './bytes.js';
import { clientConfigOf, withKvClient } from './context.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { encodingOptions, parseKey, timeoutOption, writeOutOf } from './options.js';

interface PutOptions {
  readonly timeout: number;
  readonly file?: string;
  readonly hex?: boolean;
  readonly base64?: boolean;
}

export function registerPut(program: Command, io: CliIo): Command {
  const cmd = program
    .command('put')
    .usage('<key> [value] [options]')
    .summary('write a value under a key')
    .description(
      'Write <value> under <key> and print OK. It returns once a majority of the stores has the write. ' +
        'If the cluster does not answer within --timeout, the write may or may not have happened (exit 3). ' +
        'The value is the argument as UTF-8 text, the bytes of a file (--file), or stdin (value "-"); with ' +
        '--hex or --base64 the key and value arguments are decoded first. Arguments that are not valid UTF-8 ' +
        'are refused rather than altered. -w json prints {"key","encoding"} (see scan --help for encodings).',
    )
    .argument('<key>', 'the key (not empty)', parseKey)
    .argument('[value]', 'the value; "-" reads it from stdin; leave out with --file')
    .addOption(new Option('--file <path>', 'write the bytes of this file as the value'));
  for (const o of encodingOptions()) cmd.addOption(o);
  return cmd
    .addOption(timeoutOption())
    .action(async (keyArg: string, valueArg: string | undefined, opts: PutOptions, c: Command) => {
      const enc = argEncoding(opts);
      const cfg = await clientConfigOf(c);
      const key = argBytes(keyArg, enc, 'the key');
      if (key.length === 0) throw new UsageError('a key must not be empty');
      const value = await valueOf(valueArg, opts, enc, cfg.maxValueBytes, io);
      await withKvClient(c, opts.timeout, (client) => client.put(key, value));
      io.stdout(writeOutOf(c) === 'json' ? `${JSON.stringify(jsonPair(key))}\n` : 'OK\n');
    });
}

async function valueOf(arg: string | undefined, o: PutOptions, enc: ReturnType<typeof argEncoding>, max: number, io: CliIo): Promise<Buffer> {
  if (o.file !== undefined) {
    if (arg !== undefined) throw new UsageError('give the value either as an argument or with --file, not both');
    return readLimited(o.file, max);
  }
  if (arg === undefined) throw new UsageError("missing value: give it as an argument, '-' for stdin, or --file <path>");
  if (arg === '-') {
    if (!io.readStdin) throw new UsageError('stdin is not available here');
    const { bytes, truncated } = await io.readStdin(max + 1);
    if (truncated || bytes.length > max) throw new UsageError(`the value on stdin is larger than max_value_bytes (${max})`);
    return bytes;
  }
  const v = argBytes(arg, enc, 'the value');
  if (v.length > max) throw new UsageError(`the value is ${v.length} bytes, over max_value_bytes (${max})`);
  return v;
}

/** A file's bytes, refused (without reading it all) when over `max`. */
function readLimited(path: string, max: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`--file ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`--file ${path}: is a directory`);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > max) throw new UsageError(`--file ${path}: larger than max_value_bytes (${max})`);
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
