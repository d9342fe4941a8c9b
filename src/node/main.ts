// The store process entry point: `node dist/node/main.js --config FILE --store ID [--echo]`,
// as started by the orchestrator (in the background, or attached to the terminal for
// `tinykv store start --foreground`, with --echo). Only this file reads argv, installs signal handlers and
// decides the process exit code.
//
// Exit codes: 0 after a clean SIGTERM/SIGINT shutdown; when the store cannot start, the
// status the CLI gives the same error's code (src/api/exit-status.ts: 2 for a bad config,
// an unknown store, a port in use, a data directory it cannot use or that is not its own;
// 4 for an error no layer classified), with one line on stderr; 1 when a running store
// hits a fatal error.

import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isErrorCode } from '../api/codes.js';
import { exitStatusOf } from '../api/exit-status.js';
import { loadClusterConfig } from '../config/load.js';
import { storeDir } from '../config/types.js';
import { parseDeliberateBugs } from '../raftstore/index.js';
import type { StoreId } from '../api/ids.js';
import { fileLogger } from './file-logger.js';
import { createStoreServer, DataDirUnusableError } from './server.js';

export interface StoreProcessOptions {
  readonly configPath: string;
  readonly storeId: number;
  /** Also echo log lines to stderr (foreground mode). */
  readonly echo?: boolean;
}

/** Starts the store and resolves once it has stopped after SIGTERM/SIGINT. */
export async function runStoreProcess(o: StoreProcessOptions): Promise<void> {
  const cfg = loadClusterConfig(o.configPath);
  if (!cfg.stores.some((s) => s.id === o.storeId)) {
    throw Object.assign(new Error(`store ${o.storeId} is not in ${cfg.file} (stores: ${cfg.stores.map((s) => s.id).join(', ')})`), { code: 'UNKNOWN_STORE' });
  }
  const dir = storeDir(cfg, o.storeId);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DataDirUnusableError(`store ${o.storeId}: cannot create its data directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const logger = fileLogger(join(dir, 'store.log'), 'info', o.echo ? (l) => process.stderr.write(l + '\n') : undefined);
  // Tests only (see deliberate-bugs.ts): a store that breaks its promises on purpose.
  const bugs = parseDeliberateBugs(process.env['TINYKV_DELIBERATE_BUGS'] ?? '');
  if (Object.keys(bugs).length > 0) logger.warn('RUNNING WITH DELIBERATE BUGS: this store breaks its guarantees on purpose (TINYKV_DELIBERATE_BUGS)', { bugs: Object.keys(bugs).join(',') });
  const server = createStoreServer(cfg, o.storeId as StoreId, logger, { deliberateBugs: bugs });
  await server.start();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info('signal received; stopping', { signal: sig });
      server.stop().then(resolve, (e: Error) => {
        logger.error('error while stopping', { error: e.message });
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * What a store that could not start exits with, and its one line for stderr: the status
 * the CLI would give the error's code (the same table), so `tinykv store start
 * --foreground` passes on what the CLI would have said.
 */
export function startFailure(e: unknown): { readonly status: number; readonly line: string } {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  const known = isErrorCode((e as { code?: unknown } | undefined)?.code);
  return { status: exitStatusOf(e), line: `tinykv store: ${known ? '' : 'internal error: '}${message}` };
}

function parseArgs(argv: readonly string[]): StoreProcessOptions {
  let configPath: string | undefined;
  let storeId: number | undefined;
  let echo = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') configPath = argv[++i];
    else if (a === '--store') storeId = Number(argv[++i]);
    else if (a === '--echo') echo = true;
    else throw Object.assign(new Error(`unknown argument ${a}`), { code: 'USAGE' });
  }
  if (!configPath) throw Object.assign(new Error('missing --config FILE'), { code: 'USAGE' });
  if (storeId === undefined || !Number.isSafeInteger(storeId) || storeId <= 0) {
    throw Object.assign(new Error('missing or invalid --store ID'), { code: 'USAGE' });
  }
  return { configPath, storeId, echo };
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntry) {
  try {
    await runStoreProcess(parseArgs(process.argv.slice(2)));
  } catch (e) {
    const failed = startFailure(e);
    process.stderr.write(`${failed.line}\n`);
    process.exitCode = failed.status;
  }
  // Exit explicitly: a half-started store may still hold a listening socket or timers.
  process.exit(process.exitCode ?? 0);
}
