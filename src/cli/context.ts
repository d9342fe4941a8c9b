// What command actions share: the cluster file named by the global -c/--config option,
// and progress reporting for long commands (an ora spinner on a terminal, plain lines on
// stderr otherwise).
//
// Commands import the client and the orchestrator (gRPC, execa, ora) when they run, not
// when the command tree is built: a `get` then loads no process-control code, and
// `--help` loads neither. That keeps a CLI call near Node's own start-up time.

import type { Command } from 'commander';
import type { KvClient } from '../client/index.js';
import { loadClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { processIo, type CliIo } from './io.js';
import { readLeaderHint, writeLeaderHint } from './leader-hint.js';

/**
 * Inside `tinykv shell`: the cluster file loaded once and one client for every line, so
 * that a line costs a request, not a connection.
 */
let shell: { readonly cfg: ClusterConfig; readonly client: KvClient } | undefined;

export function setShellSession(s: { cfg: ClusterConfig; client: KvClient } | undefined): void {
  shell = s;
}

/** Loads the cluster file given by -c/--config (or TINYKV_CONFIG, or the default). */
export function clusterConfigOf(cmd: Command): ClusterConfig {
  if (shell) return shell.cfg;
  const { config } = cmd.optsWithGlobals<{ config: string }>();
  return loadClusterConfig(config);
}

/**
 * What the key commands (and the shell) need to reach the cluster: the cluster file, or,
 * with --endpoints host:port,..., no file at all: each endpoint is asked which store it is.
 */
export async function clientConfigOf(cmd: Command): Promise<ClusterConfig> {
  if (shell) return shell.cfg;
  const { endpoints } = cmd.optsWithGlobals<{ endpoints?: string[] }>();
  if (!endpoints) return clusterConfigOf(cmd);
  const { configFromEndpoints } = await import('../client/index.js');
  return configFromEndpoints(endpoints);
}

export interface Progress {
  /** The latest step, e.g. "2/3 stores serving, no leader yet". */
  update(line: string): void;
  /** Ends the progress display (the spinner disappears; plain lines stay). */
  stop(): void;
}

/**
 * A spinner on stderr when the CLI writes to a real terminal (guarded against a pty with
 * zero columns, where ora would spin forever), otherwise one line on stderr per step.
 */
export async function startProgress(io: CliIo, title: string): Promise<Progress> {
  const tty = io === processIo && Boolean(process.stderr.isTTY && process.stderr.columns);
  if (!tty) {
    io.stderr(`${title}\n`);
    return { update: (line) => io.stderr(`${line}\n`), stop: () => {} };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({
    text: title,
    stream: process.stderr,
    isEnabled: Boolean(process.stderr.isTTY && process.stderr.columns),
    discardStdin: false,
  }).start();
  return {
    update: (line) => {
      spinner.text = line;
    },
    stop: () => void spinner.stop(),
  };
}

/** Runs `fn` with a client for the cluster of -c/--config, closing its connections after. */
export async function withKvClient<T>(cmd: Command, timeoutMs: number, fn: (client: KvClient) => Promise<T>): Promise<T> {
  if (shell) return fn(shell.client);
  const cfg = await clientConfigOf(cmd);
  const { connectKvClient } = await import('../client/index.js');
  const hint = readLeaderHint(cfg);
  const { client, close } = connectKvClient(cfg, { timeoutMs, failFastWhenDown: true, ...(hint !== undefined ? { firstStore: hint } : {}) });
  try {
    return await fn(client);
  } finally {
    close();
    writeLeaderHint(cfg, client.knownLeader, hint);
  }
}

/**
 * Runs a command that starts, stops or signals store processes while holding the
 * cluster's orchestrator lock (src/orchestrator/lock.ts), so two never race.
 */
export async function processLocked<T>(cmd: Command, what: string, fn: (cfg: ClusterConfig) => Promise<T>, io: CliIo = processIo, cleanupDataDir = false): Promise<T> {
  const cfg = clusterConfigOf(cmd);
  const { withProcessLock } = await import('../orchestrator/lock.js');
  return withProcessLock(cfg, what, () => fn(cfg), { say: (l) => io.stderr(`${l}\n`), cleanupDataDir });
}
