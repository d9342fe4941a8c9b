// `tinykv shell`: many operations in one process. Reads commands from stdin, one per line
// (put, get, delete, scan, with their usual arguments and options, quoted as in a shell),
// runs each through one client, and answers each with its usual output; a line that fails
// answers one line `ERROR <exit code> <message>` instead, on stdout too, so that answers
// pair with lines. Blank lines and lines starting with # are skipped. Exits 0 if every line
// succeeded, else with the exit code of the first failure.

import type { Command } from 'commander';
import { isUtf8 } from './bytes.js';
import { clientConfigOf, setShellSession } from './context.js';
import { ExitAsError, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { timeoutOption, writeOutOf } from './options.js';

const ALLOWED = new Set(['put', 'get', 'delete', 'del', 'scan']);

export function registerShell(program: Command, io: CliIo, run: (argv: string[], io: CliIo) => Promise<number>): Command {
  return program
    .command('shell')
    .usage('[--timeout <ms>] < commands')
    .summary('run put/get/delete/scan lines from stdin in one process')
    .description(
      "Read commands from stdin, one per line, e.g. `put k v`, `get k`, `delete k`, `scan a z --limit 10` " +
        "(quote with '...' or \"...\"; --hex, --base64, --file and -w work as on the command line), and run " +
        "them one after another over one connection. Each line answers with the command's usual output; a " +
        'failed line answers `ERROR <exit code> <message>` on stdout. Blank lines and # comments are skipped. ' +
        "Exits 0 if every line succeeded, else with the first failure's exit code. The shell's --timeout, -c and " +
        '-w apply to every line (a line may give its own -w). A line that is not valid UTF-8 is refused: use --hex or --base64.',
    )
    .addOption(timeoutOption())
    .action(async (opts: { timeout: number }, cmd: Command) => {
      const cfg = await clientConfigOf(cmd);
      const { connectKvClient } = await import('../client/index.js');
      const { client, close } = connectKvClient(cfg, { timeoutMs: opts.timeout, failFastWhenDown: true });
      setShellSession({ cfg, client });
      let first = 0;
      let lineNo = 0;
      const format = writeOutOf(cmd);
      try {
        for await (const raw of stdinLines()) {
          lineNo++;
          const code = isUtf8(raw)
            ? await runLine(raw.toString('utf8').replace(/\r$/, ''), lineNo, format, io, run)
            : (io.stdout(`ERROR 2 line ${lineNo}: not valid UTF-8 and would be altered; give binary keys and values with --hex or --base64\n`), 2);
          if (code !== 0 && first === 0) first = code;
        }
      } finally {
        setShellSession(undefined);
        close();
      }
      if (first !== 0) throw new ExitAsError(first);
    });
}


/** stdin split on \n, as bytes (so that bytes that are not UTF-8 are seen, not replaced). */
async function* stdinLines(): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of process.stdin) {
    rest = Buffer.concat([rest, chunk as Buffer]);
    let nl: number;
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      yield rest.subarray(0, nl);
      rest = rest.subarray(nl + 1);
    }
  }
  if (rest.length > 0) yield rest;
}

const PER_SHELL = new Set(['-c', '--config', '--timeout']);

async function runLine(line: string, lineNo: number, format: string, io: CliIo, run: (argv: string[], io: CliIo) => Promise<number>): Promise<number> {
  if (line.trimStart().startsWith('#')) return 0;
  let words: string[];
  try {
    words = splitLine(line);
  } catch (e) {
    io.stdout(`ERROR 2 line ${lineNo}: ${(e as Error).message}\n`);
    return 2;
  }
  if (words.length === 0) return 0;
  const own = words.find((w) => PER_SHELL.has(w.split('=')[0]!));
  if (own) {
    io.stdout(`ERROR 2 line ${lineNo}: ${own.split('=')[0]} is set for the whole shell (tinykv shell ${own.split('=')[0]} ...), not per line\n`);
    return 2;
  }
  if (!ALLOWED.has(words[0]!)) {
    io.stdout(`ERROR 2 line ${lineNo}: only put, get, delete (del) and scan run in a shell, not ${JSON.stringify(words[0])}\n`);
    return 2;
  }
  const errors: string[] = [];
  // No stdin for a line: it is the shell's input (a line's `put k -` is refused).
  const code = await run(['node', 'tinykv', '-w', format, ...words], { stdout: io.stdout, stderr: (s) => void errors.push(s) });
  if (code !== 0) io.stdout(`ERROR ${code} ${errors.join('').replace(/^tinykv: /, '').replace(/\s+$/, '').replace(/\n/g, ' ')}\n`);
  return code;
}

/** Splits a line into words: whitespace separates; '...' is literal; "..." allows \\ and \" escapes. */
export function splitLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UsageError('unterminated \' quote');
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        cur += line[j];
      }
      if (j >= line.length) throw new UsageError('unterminated " quote');
      i = j;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
