// `tinykv transfer-leader --to <id>`: move leadership to another store (before taking the
// current leader down for maintenance, say). Parses and prints only; the work is in
// src/orchestrator/leader.ts.

import { Option, type Command } from 'commander';
import { clusterConfigOf } from './context.js';
import type { CliIo } from './io.js';
import { jsonOption, parseStoreId, timeoutOption, writeOutOf } from './options.js';

export function registerTransferLeader(program: Command, io: CliIo): Command {
  return program
    .command('transfer-leader')
    .usage('--to <id> [--timeout <ms>] [--json]')
    .summary('hand leadership to another store')
    .description(
      'Ask the current leader to hand leadership to the store with this id (Raft leader transfer): ' +
        'it stops taking writes, brings that store up to date, and lets it take over at once, without ' +
        'waiting for an election timeout. Waits until the store reports itself leader. Exit 0 when it ' +
        'leads (or already did), 2 for a store not in the cluster file or not running, 3 if it did not ' +
        'take over in time.',
    )
    .addOption(new Option('--to <id>', 'the store to lead, as listed in the cluster file').argParser(parseStoreId).makeOptionMandatory())
    .addOption(timeoutOption(10_000, 'give up after this many milliseconds (exit 3)'))
    .addOption(jsonOption())
    .action(async (opts: { to: number; timeout: number; json?: boolean }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { transferLeader } = await import('../orchestrator/leader.js');
      const r = await transferLeader(cfg, opts.to, { timeoutMs: opts.timeout });
      if (writeOutOf(cmd) === 'json') {
        io.stdout(`${JSON.stringify({ from: r.from, to: r.to, ms: r.ms, already_leader: r.alreadyLeader, requests: r.requests, term: r.term })}\n`);
      } else if (r.alreadyLeader) {
        io.stdout(`store ${r.to} already leads (term ${r.term})\n`);
      } else {
        io.stdout(`leadership moved from store ${r.from} to store ${r.to} in ${r.ms} ms (term ${r.term})\n`);
      }
    });
}
