// `tinykv cluster up|down|status`: the whole local cluster described by the cluster file.
// Parses and prints only; process control will come from src/orchestrator.

import type { Command } from 'commander';
import { NotBuiltError } from './errors.js';
import { jsonOption } from './options.js';

export function registerCluster(program: Command): Command {
  const cluster = program
    .command('cluster')
    .summary('start, stop and inspect the local cluster')
    .description('Start, stop and inspect the local cluster: one store process per store in the cluster file.');

  cluster
    .command('up')
    .summary('start every store in the background and wait for a leader')
    .description(
      'Start every store listed in the cluster file as a background process, with its data and log ' +
        'under data_dir/store-<id>/, and wait until the stores have elected a leader.',
    )
    .action(() => {
      throw new NotBuiltError('cluster up');
    });

  cluster
    .command('down')
    .usage('[--purge]')
    .summary('stop every store process')
    .description('Stop every store process of the cluster. Data stays on disk unless --purge is given.')
    .option('--purge', "also delete every store's data directory (raftdb, kvdb, log)")
    .action(() => {
      throw new NotBuiltError('cluster down');
    });

  cluster
    .command('status')
    .usage('[--json]')
    .summary('show each store: address, process state, leader')
    .description('Show each store of the cluster file: its address, whether its process runs, and which store leads.')
    .addOption(jsonOption())
    .action(() => {
      throw new NotBuiltError('cluster status');
    });

  return cluster;
}
