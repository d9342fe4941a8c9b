// `tinykv store start`: run one store of the cluster file. This is also the command the
// orchestrator uses to spawn each store process.

import { Option, type Command } from 'commander';
import { NotBuiltError } from './errors.js';
import { storeOption } from './options.js';

export function registerStore(program: Command): Command {
  const store = program
    .command('store')
    .summary('run a single store process')
    .description('Run a single store process of the cluster file (cluster up does this for every store).');

  store
    .command('start')
    .usage('--store <id> [--foreground]')
    .summary('start one store from the cluster file')
    .description(
      'Start the store with this id from the cluster file. By default it detaches and logs to ' +
        'data_dir/store-<id>/store.log; with --foreground it stays attached and logs to stderr.',
    )
    .addOption(storeOption())
    .addOption(new Option('--foreground', 'stay attached to this terminal and log to stderr; Ctrl-C stops the store'))
    .action(() => {
      throw new NotBuiltError('store start');
    });

  return store;
}
