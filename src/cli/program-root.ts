// The root of the `tinykv` command tree, shared by the whole CLI (program.ts) and by the
// key commands' own smaller bundle (key-program.ts): the global options, error and help
// behaviour, and the key commands themselves. Errors are thrown (never process.exit),
// and a usage error prints one line pointing at the right --help.

import { Command, Option } from 'commander';
import { registerDelete } from './delete.js';
import { ExitCode, oneLine } from './exit-codes.js';
import { registerGet } from './get.js';
import { commandPath, helpConfiguration, leafCommands } from './help.js';
import type { CliIo } from './io.js';
import { registerPut } from './put.js';
import { registerScan } from './scan.js';
import { endpointsOption, writeOutOption } from './options.js';

export const DEFAULT_CONFIG_PATH = './config/cluster.yaml';

export interface ProgramOptions {
  readonly io: CliIo;
  readonly version: string;
  /** Runs one more invocation in this process (`tinykv shell` runs each line through it). */
  readonly run?: (argv: string[], io: CliIo) => Promise<number>;
}

/** The program with its global options and no commands yet. */
export function rootProgram({ io, version }: ProgramOptions): Command {
  const program = new Command('tinykv');
  // Settings first: subcommands copy them when they are created.
  program
    .exitOverride()
    // Commander writes this string (plus "\n") right after the error; each command gets
    // its own below, naming its --help.
    .showHelpAfterError(" (see 'tinykv --help')")
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // Called with "error: <message>\n". Written without the newline, so that the
      // showHelpAfterError string completes the line: every usage error is one line.
      outputError: (text, write) => write(`tinykv: ${oneLine(text.replace(/^error: /, ''))}`),
    })
    .configureHelp(helpConfiguration);

  program
    .description('tinykv: a fault-tolerant key-value store replicated with Raft across store processes.')
    .version(version, '-V, --version', 'print the tinykv version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(
      new Option('-c, --config <file>', 'the cluster file: stores, addresses, data_dir, raft timing')
        .default(DEFAULT_CONFIG_PATH)
        .env('TINYKV_CONFIG'),
    )
    .addOption(writeOutOption())
    .addOption(endpointsOption());
  return program;
}

/** put, get, delete and scan, in the order the help lists them. */
export function registerKeyCommands(program: Command, io: CliIo): void {
  registerPut(program, io);
  registerGet(program, io);
  registerDelete(program, io);
  registerScan(program, io);
}

/** What every command gets once the tree is complete: help groups, exit codes, usage hints. */
export function finishProgram(program: Command): Command {
  // The program's help lists the runnable subcommands of each group under the group's heading.
  for (const top of program.commands) {
    for (const leaf of leafCommands(top)) leaf.helpGroup(top.helpGroup());
  }
  program.addHelpText('after', EXIT_CODES_HELP);
  forEachCommand(program, (cmd) => {
    cmd.showHelpAfterError(` (see '${cmd.parent ? `tinykv ${commandPath(cmd)}` : 'tinykv'} --help')`);
  });
  return program;
}

const EXIT_CODES_HELP = `
Examples:
  tinykv cluster up
  tinykv put greeting hello
  tinykv get greeting
  tinykv chaos kill --store leader

Exit codes:
  ${ExitCode.ok}  success
  ${ExitCode.notFound}  get: the key does not exist
  ${ExitCode.usage}  bad arguments, malformed cluster file, unknown store id
  ${ExitCode.timeout}  the cluster did not answer in time (a write may or may not have happened)
  ${ExitCode.internal}  unexpected error`;

function forEachCommand(cmd: Command, visit: (cmd: Command) => void): void {
  visit(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, visit);
}
