// Signalling a store process by its recorded PID — only after checking it is still our
// store (liveness.ts) — and waiting for it to be gone. Never by name.

import type { ClusterConfig } from '../config/types.js';
import { StoreNotRunningError } from './errors.js';
import { storeProcessState } from './liveness.js';
import type { PidRecord } from './pid-file.js';
import { sleep } from './probe.js';
import { storeConfig, storeProcess } from './stores.js';

/** The record of a store whose process runs (or is paused); throws if it is not running. */
export function runningStore(cfg: ClusterConfig, id: number): { rec: PidRecord; paused: boolean } {
  storeConfig(cfg, id);
  const p = storeProcess(cfg, id);
  if (!p.rec) throw new StoreNotRunningError(id, 'is not running (no live process recorded in its store.pid)');
  return { rec: p.rec, paused: p.state === 'paused' };
}

/** Sends `signal` if the record is still our store; false if it was already gone. */
export function signalStore(rec: PidRecord, signal: NodeJS.Signals): boolean {
  if (storeProcessState(rec) === 'dead') return false;
  try {
    process.kill(rec.pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Waits until the process is gone (exited or a zombie); false if it still runs at the deadline. */
export async function waitGone(rec: PidRecord, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (storeProcessState(rec) === 'dead') return true;
    if (Date.now() >= until) return false;
    await sleep(20);
  }
}
