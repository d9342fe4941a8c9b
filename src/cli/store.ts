// `tinykv store start`: run one store of the cluster file, in the background (as cluster
// up does for each store) or, with --foreground, inside this process.

import { Option, type Command } from 'commander';
import { clusterConfigOf } from './context.js';
import { NotBuiltError } from './errors.js';
import type { StoreStart } from '../orchestrator/up.js';
import type { CliIo } from './io.js';
import { DEFAULT_UP_TIMEOUT_MS, storeOption, timeoutOption } from './options.js';

interface StartOptions {
  readonly store: number;
  readonly foreground?: boolean;
  readonly timeout: number;
}

export function registerStore(program: Command, io: CliIo): Command {
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
        'data_dir/store-<id>/store.log; with --foreground it stays attached, also logs to stderr, ' +
        'and Ctrl-C (or SIGTERM) stops it cleanly.',
    )
    .addOption(storeOption())
    .addOption(new Option('--foreground', 'stay attached to this terminal and log to stderr; Ctrl-C stops the store'))
    .addOption(timeoutOption(DEFAULT_UP_TIMEOUT_MS, 'in the background: wait at most this long for the store to answer'))
    .action(async (opts: StartOptions, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { storeConfig } = await import('../orchestrator/stores.js');
      storeConfig(cfg, opts.store);
      if (opts.foreground) {
        const node: { runStoreProcess?: (o: { configPath: string; storeId: number; echo?: boolean }) => Promise<void> } =
          await import('../node/main.js');
        if (typeof node.runStoreProcess !== 'function') throw new NotBuiltError('store start --foreground');
        await node.runStoreProcess({ configPath: cfg.file, storeId: opts.store, echo: true });
        return;
      }
      const { startStore } = await import('../orchestrator/up.js');
      const r = await startStore(cfg, opts.store, { timeoutMs: opts.timeout, onProgress: (l) => io.stderr(`${l}\n`) });
      io.stdout(startLine(r));
    });

  return store;
}

/** What `store start` and `chaos restart` print. */
export function startLine(r: StoreStart): string {
  const how = { started: 'started', 'already-running': 'already running', resumed: 'was paused: resumed', external: 'already running, not started by cluster up' };
  return `store ${r.storeId}: ${how[r.how]} (pid ${r.pid})\n`;
}
