// `<data_dir>/store-<id>/store.pid`: the record the orchestrator keeps of a store process
// it started. Line 1 is the bare PID (so `kill $(head -1 store.pid)` works); line 2 is a
// JSON start marker that lets liveness.ts tell our store from a process that merely
// reuses the PID later: the kernel start time of the process and the arguments we gave it.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeDir, type ClusterConfig } from '../config/types.js';

export interface PidRecord {
  readonly pid: number;
  readonly storeId: number;
  /** Absolute path of the cluster file the store was started with. */
  readonly config: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); 0 where /proc does not exist. */
  readonly startTicks: number;
  /** ISO time of the spawn, for people reading the file. */
  readonly startedAt: string;
}

export function pidFilePath(cfg: ClusterConfig, id: number): string {
  return join(storeDir(cfg, id), 'store.pid');
}

/** Writes the record atomically (temp file, then rename), so a reader never sees half of it. */
export function writePidFile(cfg: ClusterConfig, rec: PidRecord): void {
  const path = pidFilePath(cfg, rec.storeId);
  mkdirSync(storeDir(cfg, rec.storeId), { recursive: true });
  const marker = { store_id: rec.storeId, config: rec.config, start_ticks: rec.startTicks, started_at: rec.startedAt };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${rec.pid}\n${JSON.stringify(marker)}\n`);
  renameSync(tmp, path);
}

/** The record, or undefined if there is none or it is not one of ours (then it is ignored). */
export function readPidFile(cfg: ClusterConfig, id: number): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(pidFilePath(cfg, id), 'utf8');
  } catch {
    return undefined;
  }
  const [first, second] = text.split('\n');
  const pid = Number(first);
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  try {
    const m = JSON.parse(second ?? '') as Record<string, unknown>;
    if (typeof m.config !== 'string' || typeof m.start_ticks !== 'number' || m.store_id !== id) return undefined;
    const startedAt = typeof m.started_at === 'string' ? m.started_at : '';
    return { pid, storeId: id, config: m.config, startTicks: m.start_ticks, startedAt };
  } catch {
    return undefined;
  }
}

export function removePidFile(cfg: ClusterConfig, id: number): void {
  rmSync(pidFilePath(cfg, id), { force: true });
}
