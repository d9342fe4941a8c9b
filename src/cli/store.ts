// `tinykv store start|add|remove|replace`: run one store of the cluster file, in the
// background (as cluster up does for each store) or, with --foreground, inside this
// process; and change the cluster's membership (src/orchestrator/membership.ts).

import { InvalidArgumentError, Option, type Command } from 'commander';
import { clusterConfigOf, processLocked, startProgress } from './context.js';
import { ExitAsError } from './errors.js';
import type { MembershipOptions, MembershipResult } from '../orchestrator/membership.js';
import type { StoreStart } from '../orchestrator/up.js';
import type { CliIo } from './io.js';
import { DEFAULT_UP_TIMEOUT_MS, jsonOption, parseStoreId, storeOption, timeoutOption, writeOutOf } from './options.js';

const DEFAULT_MEMBERSHIP_TIMEOUT_MS = 300_000; // keep equal to src/orchestrator/membership.ts

/** `--addr host:port` (the cluster file loader checks it fully). */
function parseAddr(value: string): string {
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(value)) throw new InvalidArgumentError('expected host:port, e.g. 127.0.0.1:20164.');
  return value;
}

interface StartOptions {
  readonly store: number;
  readonly foreground?: boolean;
  readonly timeout: number;
}

export function registerStore(program: Command, io: CliIo): Command {
  const store = program
    .command('store')
    .summary('run one store; add, remove or replace a store of the live cluster')
    .description(
      'Run a single store process of the cluster file (cluster up does this for every store), and change ' +
        'which stores make up the cluster while it serves: add a store, remove one, or rebuild one that lost its data.',
    );

  store
    .command('start')
    .usage('--store <id> [--foreground]')
    .summary('start one store from the cluster file')
    .description(
      'Start the store with this id from the cluster file. By default it detaches and logs to ' +
        'data_dir/store-<id>/store.log; with --foreground it stays attached, also logs to stderr, ' +
        'and Ctrl-C (or SIGTERM) stops it cleanly. -w json (background): {"store_id","pid","how"}.',
    )
    .addOption(storeOption())
    .addOption(new Option('--foreground', 'stay attached to this terminal and log to stderr; Ctrl-C stops the store'))
    .addOption(timeoutOption(DEFAULT_UP_TIMEOUT_MS, 'in the background: wait at most this long for the store to answer'))
    .action(async (opts: StartOptions, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { storeConfig } = await import('../orchestrator/stores.js');
      storeConfig(cfg, opts.store);
      if (opts.foreground) {
        const { runStoreForeground } = await import('../orchestrator/spawn.js');
        const code = await runStoreForeground(cfg, opts.store);
        if (code !== 0) throw new ExitAsError(code);
        return;
      }
      const { startStore } = await import('../orchestrator/up.js');
      const r = await processLocked(cmd, 'store start', (c) => startStore(c, opts.store, { timeoutMs: opts.timeout, onProgress: (l) => io.stderr(`${l}\n`) }), io);
      io.stdout(writeOutOf(cmd) === 'json' ? startJson(r) : startLine(r));
    });

  store
    .command('add')
    .usage('--id <id> --addr <host:port> [--timeout <ms>] [--json]')
    .summary('add a store to the running cluster (as a learner, promoted once caught up)')
    .description(
      'Add a store to the running cluster: append it to the cluster file (join: true), start its process on an ' +
        'empty data directory, have the leader add it as a learner (it gets the data but does not vote or count ' +
        'toward commit), wait until it has caught up, then promote it to a voter. Prints each phase. Run it ' +
        'again after an interruption to continue. Exit 2 if refused (already a voter, address taken...), 3 if ' +
        'it did not finish in time (the store stays a learner).',
    )
    .addOption(new Option('--id <id>', 'the new store\'s id (a positive integer not used in the cluster file)').argParser(parseStoreId).makeOptionMandatory())
    .addOption(new Option('--addr <host:port>', 'where the new store listens (required unless it is already in the cluster file)').argParser(parseAddr))
    .addOption(timeoutOption(DEFAULT_MEMBERSHIP_TIMEOUT_MS, 'give up after this many milliseconds (exit 3)'))
    .addOption(jsonOption())
    .action(async (opts: { id: number; addr?: string; timeout: number; json?: boolean }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { addStore } = await import('../orchestrator/membership.js');
      await runMembership(io, `adding store ${opts.id}`, { ...opts, writeOut: writeOutOf(cmd) }, (o) => addStore(cfg, opts.id, opts.addr, o), (r) =>
        `store ${r.storeId} added as ${r.learners.includes(r.storeId) ? 'a learner' : 'a voter'} (peer ${r.peerId}) in ${seconds(r.ms)}`);
    });

  store
    .command('remove')
    .usage('--store <id> [--force] [--timeout <ms>] [--json]')
    .summary('remove a store from the running cluster')
    .description(
      'Remove a store from the running cluster: move leadership away if it leads, remove its peer through Raft, ' +
        'stop its process, and mark it removed in the cluster file (its id and address stay reserved). Refused ' +
        'when the voters left would not have a healthy majority (it says which stores are down or behind), ' +
        'unless --force.',
    )
    .addOption(storeOption())
    .addOption(new Option('--force', 'remove it even if the voters left would not have a healthy majority'))
    .addOption(timeoutOption(60_000, 'give up after this many milliseconds (exit 3)'))
    .addOption(jsonOption())
    .action(async (opts: { store: number; force?: boolean; timeout: number; json?: boolean }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { removeStore } = await import('../orchestrator/membership.js');
      await runMembership(io, `removing store ${opts.store}`, { ...opts, writeOut: writeOutOf(cmd) }, (o) => removeStore(cfg, opts.store, o), (r) =>
        `store ${r.storeId} removed in ${seconds(r.ms)}; voters now: ${r.voters.join(', ')}`);
    });

  store
    .command('replace')
    .usage('--store <id> [--force] [--timeout <ms>] [--json]')
    .summary('rebuild a store that lost its data: remove it, wipe it, add it back empty')
    .description(
      'Rebuild a store whose data directory was lost or damaged (a store refuses to start on an empty or older ' +
        'copy of its data): remove its old peer from the region, stop it and delete its data directory, then add ' +
        'it back on the same id and address as a new peer, which catches up from the others. The other stores ' +
        'keep serving throughout. Same quorum check as remove (--force to override).',
    )
    .addOption(storeOption())
    .addOption(new Option('--force', 'go ahead even if the voters left during the change would not have a healthy majority'))
    .addOption(timeoutOption(DEFAULT_MEMBERSHIP_TIMEOUT_MS, 'give up after this many milliseconds (exit 3)'))
    .addOption(jsonOption())
    .action(async (opts: { store: number; force?: boolean; timeout: number; json?: boolean }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { replaceStore } = await import('../orchestrator/membership.js');
      await runMembership(io, `replacing store ${opts.store}`, { ...opts, writeOut: writeOutOf(cmd) }, (o) => replaceStore(cfg, opts.store, o), (r) =>
        `store ${r.storeId} replaced (new peer ${r.peerId}) in ${seconds(r.ms)}`);
    });

  return store;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Runs a membership command with progress on stderr and the result on stdout (JSON with --json). */
async function runMembership(
  io: CliIo,
  title: string,
  opts: { timeout: number; force?: boolean; json?: boolean; writeOut?: string },
  run: (o: MembershipOptions) => Promise<MembershipResult>,
  summary: (r: MembershipResult) => string,
): Promise<void> {
  const progress = await startProgress(io, title);
  let r: MembershipResult;
  try {
    r = await run({ timeoutMs: opts.timeout, force: opts.force === true, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  if (opts.json || opts.writeOut === 'json') {
    io.stdout(`${JSON.stringify({
      store_id: r.storeId, peer_id: r.peerId, conf_ver: r.confVer, voters: r.voters, learners: r.learners, ms: r.ms,
      phases: r.phases.map((p) => ({ name: p.name, ms: p.ms })),
    })}\n`);
    return;
  }
  const phases = r.phases.map((p) => `${p.name} ${seconds(p.ms)}`).join(', ');
  io.stdout(`${summary(r)}\n${phases ? `phases: ${phases}\n` : ''}conf_ver ${r.confVer}; voters: ${r.voters.join(', ') || '-'}; learners: ${r.learners.join(', ') || '-'}\n`);
}

/** What `store start` and `chaos restart` print with -w json. */
export function startJson(r: StoreStart): string {
  return `${JSON.stringify({ store_id: r.storeId, pid: r.pid, how: r.how })}\n`;
}

/** What `store start` and `chaos restart` print. */
export function startLine(r: StoreStart): string {
  const how = { started: 'started', 'already-running': 'already running', resumed: 'was paused: resumed', external: 'already running, not started by cluster up' };
  return `store ${r.storeId}: ${how[r.how]} (pid ${r.pid})\n`;
}
