// The nemesis's FaultTarget over real store processes: the same orchestrator functions
// `tinykv chaos kill/restart/pause/resume/partition/drop/heal` and `transfer-leader` use.
// The caller holds the orchestrator lock for the whole run.

import type { ClusterConfig } from '../config/types.js';
import { killStore, pauseStore, resumeStore } from '../orchestrator/chaos.js';
import { transferLeader } from '../orchestrator/leader.js';
import { dropMessages, heal, isolate, partition } from '../orchestrator/network.js';
import { leaderOf, probeAll } from '../orchestrator/probe.js';
import { startStore } from '../orchestrator/up.js';
import type { FaultTarget } from './nemesis.js';

export function orchestratorTarget(cfg: ClusterConfig): FaultTarget {
  return {
    stores: cfg.stores.map((s) => s.id),
    async leader() {
      return leaderOf(await probeAll(cfg, 500))?.storeId;
    },
    async kill(id) {
      await killStore(cfg, id);
    },
    async restart(id) {
      await startStore(cfg, id, { timeoutMs: 30_000 });
    },
    async pause(id) {
      pauseStore(cfg, id);
    },
    async resume(id) {
      resumeStore(cfg, id);
    },
    async partition(a, b) {
      await partition(cfg, a, b);
    },
    async isolate(id) {
      await isolate(cfg, id);
    },
    async drop(rate) {
      await dropMessages(cfg, rate);
    },
    async heal() {
      await heal(cfg);
    },
    async transfer(to) {
      await transferLeader(cfg, to, { timeoutMs: 5000 });
    },
  };
}
