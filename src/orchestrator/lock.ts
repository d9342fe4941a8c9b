// One orchestrator at a time per cluster: commands that start, stop or signal store
// processes (cluster up/down, store start/add/remove/replace, chaos kill/restart/pause/
// resume) hold `<data_dir>/.orchestrator.lock` (created exclusively, holding the PID) for
// their whole run. Two `cluster up` at once used to race over the stores' pid files: the
// loser's store failed on the port and removed the winner's record, leaving a store no
// command could stop. A second command now waits its turn; a lock left by a process that
// died is taken over.

import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterConfig } from '../config/types.js';
import { OrchestratorError } from './errors.js';
import { readProc } from './liveness.js';

export const DEFAULT_LOCK_WAIT_MS = 60_000;

/** Another command held the lock for longer than this one would wait. */
export class ClusterBusyError extends OrchestratorError {
  constructor(message: string) {
    super('CLUSTER_BUSY', message);
  }
}

export function lockPath(cfg: ClusterConfig): string {
  return join(cfg.dataDir, '.orchestrator.lock');
}

/** Runs `fn` holding the cluster's orchestrator lock; `say` hears about a wait. */
export async function withProcessLock<T>(
  cfg: ClusterConfig, what: string, fn: () => Promise<T>,
  o: { waitMs?: number; say?: (line: string) => void; cleanupDataDir?: boolean } = {},
): Promise<T> {
  const path = lockPath(cfg);
  mkdirSync(cfg.dataDir, { recursive: true });
  const until = Date.now() + (o.waitMs ?? DEFAULT_LOCK_WAIT_MS);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n${what}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(path);
    if (holder && !alive(holder.pid)) {
      try {
        unlinkSync(path); // its holder died: take it over
      } catch {
        // someone else did
      }
      continue;
    }
    if (Date.now() >= until) {
      throw new ClusterBusyError(`another tinykv command (${holder ? `pid ${holder.pid}, ${holder.what}` : 'starting'}) is changing this cluster's processes; try again when it is done`);
    }
    if (!told && holder) {
      told = true;
      o.say?.(`waiting for another tinykv command (pid ${holder.pid}, ${holder.what}) to finish`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
      // After `cluster down --purge`: the lock was the last thing in data_dir.
      if (o.cleanupDataDir) rmdirSync(cfg.dataDir);
    } catch {
      // already gone, or data_dir holds other things: leave it
    }
  }
}

function readHolder(path: string): { pid: number; what: string } | undefined {
  try {
    const [pid, what] = readFileSync(path, 'utf8').split('\n');
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 ? { pid: n, what: what ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const info = readProc(pid);
  if (info) return info.state !== 'Z' && info.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
