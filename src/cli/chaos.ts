// `tinykv chaos ...`: fault injection into a running local cluster. Process faults
// (kill, restart, pause, resume) go to the orchestrator; network faults (partition,
// drop, heal) go to each store's Admin service.

import { Option, type Command } from 'commander';
import { NotBuiltError, UsageError } from './errors.js';
import {
  parseProbability,
  parseStoreId,
  parseStoreIdList,
  parseStoreOrLeader,
  storeOption,
  type StoreId,
} from './options.js';

interface PartitionOptions {
  readonly isolate?: StoreId;
}

export function registerChaos(program: Command): Command {
  const chaos = program
    .command('chaos')
    .summary('inject faults into the running local cluster')
    .description(
      'Inject faults into the running local cluster: kill, pause or restart store processes, and cut ' +
        'or degrade the network between stores. Meant for testing that the cluster survives them.',
    );

  chaos
    .command('kill')
    .usage('--store <id|leader>')
    .summary('kill a store process with SIGKILL')
    .description("Kill a store process with SIGKILL. '--store leader' picks the store that leads right now.")
    .addOption(
      new Option('--store <id|leader>', "the store id, or 'leader'")
        .argParser(parseStoreOrLeader)
        .makeOptionMandatory(),
    )
    .action(() => {
      throw new NotBuiltError('chaos kill');
    });

  chaos
    .command('restart')
    .usage('--store <id>')
    .summary('start a killed store again on its existing data')
    .description('Start a killed or stopped store again; it recovers from its own data directory.')
    .addOption(storeOption())
    .action(() => {
      throw new NotBuiltError('chaos restart');
    });

  chaos
    .command('pause')
    .usage('--store <id>')
    .summary('freeze a store process (SIGSTOP)')
    .description('Freeze a store process with SIGSTOP: it keeps its sockets but answers nothing until resumed.')
    .addOption(storeOption())
    .action(() => {
      throw new NotBuiltError('chaos pause');
    });

  chaos
    .command('resume')
    .usage('--store <id>')
    .summary('continue a paused store (SIGCONT)')
    .description('Continue a store process paused by chaos pause, with SIGCONT.')
    .addOption(storeOption())
    .action(() => {
      throw new NotBuiltError('chaos resume');
    });

  registerPartition(chaos);

  chaos
    .command('drop')
    .usage('--rate <p>')
    .summary('drop store-to-store messages with probability p')
    .description(
      'Drop each store-to-store Raft message with probability p (0 stops dropping). ' +
        'Requests from clients are not affected.',
    )
    .addOption(
      new Option('--rate <p>', 'probability of dropping a message, from 0 to 1')
        .argParser(parseProbability)
        .makeOptionMandatory(),
    )
    .action(() => {
      throw new NotBuiltError('chaos drop');
    });

  chaos
    .command('heal')
    .summary('remove every network fault (partitions, drops)')
    .description('Remove every network fault set by chaos partition and chaos drop. Process faults are not touched.')
    .action(() => {
      throw new NotBuiltError('chaos heal');
    });

  return chaos;
}

function registerPartition(chaos: Command): void {
  chaos
    .command('partition')
    .usage('<ids> <ids> | --isolate <id>')
    .summary('cut the network between groups of stores')
    .description(
      'Cut the network between two groups of stores, e.g. `chaos partition 1 2,3`: stores inside a ' +
        'group still talk to each other. `--isolate <id>` cuts one store off from all the others.',
    )
    .argument('[group-a]', 'store ids on one side, comma-separated', parseStoreIdList)
    .argument('[group-b]', 'store ids on the other side, comma-separated', parseStoreIdList)
    .addOption(new Option('--isolate <id>', 'cut this store off from every other store').argParser(parseStoreId))
    .action((a: StoreId[] | undefined, b: StoreId[] | undefined, opts: PartitionOptions) => {
      checkPartition(a, b, opts.isolate);
      throw new NotBuiltError('chaos partition');
    });
}

function checkPartition(a: StoreId[] | undefined, b: StoreId[] | undefined, isolate: StoreId | undefined): void {
  if (isolate !== undefined) {
    if (a !== undefined) {
      throw new UsageError('chaos partition: give either --isolate <id> or two groups of ids, not both');
    }
    return;
  }
  if (a === undefined || b === undefined) {
    throw new UsageError('chaos partition: give two groups of store ids (e.g. 1 2,3) or --isolate <id>');
  }
  const shared = a.filter((id) => b.includes(id));
  if (shared.length > 0) throw new UsageError(`chaos partition: store ${shared[0]} is in both groups`);
}
