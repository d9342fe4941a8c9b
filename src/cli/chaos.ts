// `tinykv chaos ...`: fault injection into a running local cluster. Process faults
// (kill, restart, pause, resume) go to the orchestrator; network faults (partition,
// drop, heal) go to each store's Admin service.

import { Option, type Command } from 'commander';
import type { FaultResult } from '../orchestrator/network.js';
import { clusterConfigOf, processLocked } from './context.js';
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { registerChaosRun } from './chaos-run.js';
import { startJson, startLine } from './store.js';
import {
  parseProbability,
  parseStoreId,
  parseStoreIdList,
  parseStoreOrLeader,
  DEFAULT_UP_TIMEOUT_MS,
  storeOption,
  timeoutOption,
  type StoreId,
  writeOutOf,
} from './options.js';

interface PartitionOptions {
  readonly isolate?: StoreId;
}

export function registerChaos(program: Command, io: CliIo): Command {
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
    .description("Kill a store process with SIGKILL. '--store leader' picks the store that leads right now. " +
      '-w json: {"store_id","pid","signal"}.')
    .addOption(
      new Option('--store <id|leader>', "the store id, or 'leader'")
        .argParser(parseStoreOrLeader)
        .makeOptionMandatory(),
    )
    .addOption(timeoutOption(5000, "with --store leader: wait at most this long for a leader (exit 3)"))
    .action(async (opts: { store: StoreId | 'leader'; timeout: number }, cmd: Command) => {
      const { killStore } = await import('../orchestrator/chaos.js');
      // Signals only, by recorded PID checked against /proc: no lock, so it also works
      // while a long membership change runs.
      const r = await killStore(clusterConfigOf(cmd), opts.store, { timeoutMs: opts.timeout });
      io.stdout(writeOutOf(cmd) === 'json' ? signalJson(r, 'SIGKILL') : `store ${r.storeId}: killed (pid ${r.pid})\n`);
    });

  chaos
    .command('restart')
    .usage('--store <id>')
    .summary('start a killed store again on its existing data')
    .description('Start a killed or stopped store again; it recovers from its own data directory. ' +
      '-w json: {"store_id","pid","how"} (how: started, already-running, resumed, external).')
    .addOption(storeOption())
    .addOption(timeoutOption(DEFAULT_UP_TIMEOUT_MS, 'wait at most this long for the store to answer (exit 3)'))
    .action(async (opts: { store: StoreId; timeout: number }, cmd: Command) => {
      const { startStore } = await import('../orchestrator/up.js');
      const r = await processLocked(cmd, 'chaos restart', (cfg) => startStore(cfg, opts.store, { timeoutMs: opts.timeout }), io);
      io.stdout(writeOutOf(cmd) === 'json' ? startJson(r) : startLine(r));
    });

  chaos
    .command('pause')
    .usage('--store <id>')
    .summary('freeze a store process (SIGSTOP)')
    .description('Freeze a store process with SIGSTOP: it keeps its sockets but answers nothing until resumed. ' +
      '-w json: {"store_id","pid","signal"}.')
    .addOption(storeOption())
    .action(async (opts: { store: StoreId }, cmd: Command) => {
      const { pauseStore } = await import('../orchestrator/chaos.js');
      const r = pauseStore(clusterConfigOf(cmd), opts.store);
      io.stdout(writeOutOf(cmd) === 'json' ? signalJson(r, 'SIGSTOP') : `store ${r.storeId}: paused (pid ${r.pid})\n`);
    });

  chaos
    .command('resume')
    .usage('--store <id>')
    .summary('continue a paused store (SIGCONT)')
    .description('Continue a store process paused by chaos pause, with SIGCONT. -w json: {"store_id","pid","signal","was_paused"}.')
    .addOption(storeOption())
    .action(async (opts: { store: StoreId }, cmd: Command) => {
      const { resumeStore } = await import('../orchestrator/chaos.js');
      const r = resumeStore(clusterConfigOf(cmd), opts.store);
      io.stdout(writeOutOf(cmd) === 'json'
        ? signalJson(r, 'SIGCONT', { was_paused: r.wasPaused })
        : `store ${r.storeId}: ${r.wasPaused ? 'resumed' : 'was not paused'} (pid ${r.pid})\n`);
    });

  registerPartition(chaos, io);
  registerChaosRun(chaos, io);

  chaos
    .command('drop')
    .usage('--rate <p>')
    .summary('drop store-to-store messages with probability p')
    .description(
      'Drop each store-to-store Raft message with probability p (0 stops dropping). ' +
        `Requests from clients are not affected. ${FAULT_JSON}`,
    )
    .addOption(
      new Option('--rate <p>', 'probability of dropping a message, from 0 to 1')
        .argParser(parseProbability)
        .makeOptionMandatory(),
    )
    .action(async (opts: { rate: number }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { dropMessages } = await import('../orchestrator/network.js');
      const what = opts.rate === 0 ? 'no longer dropping store-to-store messages' : `dropping ${opts.rate * 100}% of store-to-store messages`;
      printFault(io, cmd, what, await dropMessages(cfg, opts.rate));
    });

  chaos
    .command('heal')
    .summary('remove every network fault (partitions, drops)')
    .description(`Remove every network fault set by chaos partition and chaos drop. Process faults are not touched. ${FAULT_JSON}`)
    .action(async (_opts: unknown, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { heal } = await import('../orchestrator/network.js');
      printFault(io, cmd, 'network faults removed', await heal(cfg));
    });

  return chaos;
}

function registerPartition(chaos: Command, io: CliIo): void {
  chaos
    .command('partition')
    .usage('<ids> <ids> | --isolate <id>')
    .summary('cut the network between groups of stores')
    .description(
      'Cut the network between two groups of stores, e.g. `chaos partition 1 2,3`: stores inside a ' +
        `group still talk to each other. \`--isolate <id>\` cuts one store off from all the others. ${FAULT_JSON}`,
    )
    .argument('[group-a]', 'store ids on one side, comma-separated', parseStoreIdList)
    .argument('[group-b]', 'store ids on the other side, comma-separated', parseStoreIdList)
    .addOption(new Option('--isolate <id>', 'cut this store off from every other store').argParser(parseStoreId))
    .action(async (a: StoreId[] | undefined, b: StoreId[] | undefined, opts: PartitionOptions, cmd: Command) => {
      checkPartition(a, b, opts.isolate);
      const cfg = clusterConfigOf(cmd);
      const { isolate, partition } = await import('../orchestrator/network.js');
      if (opts.isolate !== undefined) {
        printFault(io, cmd, `store ${opts.isolate} isolated from the others`, await isolate(cfg, opts.isolate));
      } else {
        printFault(io, cmd, `partitioned ${a!.join(',')} | ${b!.join(',')}`, await partition(cfg, a!, b!));
      }
    });
}

const FAULT_JSON = '-w json: {"fault","applied":[ids],"skipped":[{"store_id","error"}]}.';

/** One line for what was done, and one per store that did not take it (or one JSON object). */
function printFault(io: CliIo, cmd: Command, what: string, r: FaultResult): void {
  if (writeOutOf(cmd) === 'json') {
    io.stdout(`${JSON.stringify({ fault: what, applied: r.applied, skipped: r.skipped.map((s) => ({ store_id: s.storeId, error: s.error })) })}\n`);
    return;
  }
  io.stdout(`${what} (set on store ${r.applied.join(', ')})\n`);
  for (const s of r.skipped) io.stderr(`tinykv: store ${s.storeId} not reached: ${s.error}\n`);
}

function signalJson(r: { storeId: number; pid: number }, signal: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ store_id: r.storeId, pid: r.pid, signal, ...extra })}\n`;
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
