// One orchestrator at a time per cluster: commands that start or stop store processes
// (cluster up/down, store start, chaos restart, and the start/stop steps of store add/
// remove/replace) hold `<data_dir>/.orchestrator.lock` (created exclusively, holding the
// PID) while they do. Signals alone (chaos kill/pause/resume) need no lock: they go to a
// recorded PID checked against /proc. Two `cluster up` at once used to race over the stores' pid files: the
// loser's store failed on the port and removed the winner's record, leaving a store no
// command could stop. A second command now waits its turn; a lock left by a process that
// died is taken over.

import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
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
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n${what}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (fd !== undefined) {
        // Created but not written (a full disk): do not leave an empty lock behind.
        try { closeSync(fd); } catch { /* closed */ }
        try { unlinkSync(path); } catch { /* gone */ }
        throw e;
      }
      if (code === 'ENOENT') {
        mkdirSync(cfg.dataDir, { recursive: true }); // purged meanwhile
        continue;
      }
      if (code !== 'EEXIST') throw e;
    }
    const holder = readHolder(path);
    if (holder === 'stale' || (holder && !alive(holder.pid))) {
      takeOver(path);
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

/**
 * The lock's holder; undefined while it is being written (or gone); 'stale' for a lock that
 * stayed empty or unreadable for seconds (its writer died between create and write).
 */
function readHolder(path: string): { pid: number; what: string } | 'stale' | undefined {
  try {
    const [pid, what] = readFileSync(path, 'utf8').split('\n');
    const n = Number(pid);
    if (Number.isSafeInteger(n) && n > 0) return { pid: n, what: what ?? '' };
    return Date.now() - statSync(path).mtimeMs > 5_000 ? 'stale' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes a dead holder's lock. Renamed away first, so that of two processes that both
 * saw it dead only one removes it (the other's rename fails), never a new holder's lock.
 */
function takeOver(path: string): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // another process took it over first
  }
  const holder = readHolder(aside);
  if (holder !== 'stale' && holder !== undefined && alive(holder.pid)) {
    // It was already a new, live holder's lock: put it back (if no one has taken the path since).
    try { linkSync(aside, path); } catch { /* taken: the live holder keeps its own */ }
  }
  try { unlinkSync(aside); } catch { /* gone */ }
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
