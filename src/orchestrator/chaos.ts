// Process faults for `tinykv chaos`: kill (SIGKILL), pause (SIGSTOP) and resume (SIGCONT)
// one store by its recorded PID, after checking the PID is still our store. `--store
// leader` resolves to whichever store leads right now. (`chaos restart` is startStore in
// up.ts; network faults are in network.ts.)

import type { ClusterConfig } from '../config/types.js';
import { NoLeaderError, StoreBusyError } from './errors.js';
import { removePidFile } from './pid-file.js';
import { leaderOf, probeAll, sleep } from './probe.js';
import { runningStore, signalStore, waitGone } from './signals.js';
import { storeConfig } from './stores.js';

export type StoreTarget = number | 'leader';

export interface ProcessFault {
  readonly storeId: number;
  readonly pid: number;
}

/** The store id a target names; waits up to `timeoutMs` for a leader when it is 'leader'. */
export async function resolveTarget(cfg: ClusterConfig, target: StoreTarget, timeoutMs = 5000): Promise<number> {
  if (target !== 'leader') return storeConfig(cfg, target).id;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const probes = await probeAll(cfg, Math.min(500, timeoutMs));
    const leader = leaderOf(probes);
    if (leader) return leader.storeId;
    if (Date.now() >= until) {
      const answering = probes.filter((p) => p.ok).length;
      throw new NoLeaderError(`no store leads right now (${answering}/${probes.length} stores answering)`);
    }
    await sleep(50);
  }
}

/** SIGKILL; resolves once the process is gone, so its port is free for a restart. */
export async function killStore(cfg: ClusterConfig, target: StoreTarget, o: { timeoutMs?: number } = {}): Promise<ProcessFault> {
  const id = await resolveTarget(cfg, target, o.timeoutMs);
  const { rec } = runningStore(cfg, id);
  signalStore(rec, 'SIGKILL');
  if (!(await waitGone(rec, 5000))) throw new StoreBusyError(`store ${id} (pid ${rec.pid}) survived SIGKILL`);
  removePidFile(cfg, id);
  return { storeId: id, pid: rec.pid };
}

/** SIGSTOP: the process keeps its sockets and memory but runs nothing until resumed. */
export function pauseStore(cfg: ClusterConfig, id: number): ProcessFault {
  const { rec } = runningStore(cfg, id);
  signalStore(rec, 'SIGSTOP');
  return { storeId: id, pid: rec.pid };
}

/** SIGCONT (harmless for a store that is not paused). */
export function resumeStore(cfg: ClusterConfig, id: number): ProcessFault & { readonly wasPaused: boolean } {
  const { rec, paused } = runningStore(cfg, id);
  signalStore(rec, 'SIGCONT');
  return { storeId: id, pid: rec.pid, wasPaused: paused };
}
