// Looking up a store in the cluster file and the state of its recorded process.

import type { ClusterConfig, StoreConfig } from '../config/types.js';
import { OrchestratorError, UnknownStoreError } from './errors.js';
import { storeProcessState, type ProcessState } from './liveness.js';
import { readPidFile, type PidRecord } from './pid-file.js';

export function storeConfig(cfg: ClusterConfig, id: number): StoreConfig {
  const s = cfg.stores.find((x) => x.id === id);
  if (!s && cfg.removedStores.some((x) => x.id === id)) {
    throw new OrchestratorError('UNKNOWN_STORE', `store ${id} was removed from the cluster (${cfg.file} marks it removed); add it back with tinykv store add --id ${id}`);
  }
  if (!s) throw new UnknownStoreError(id, cfg.file, cfg.stores.map((x) => x.id));
  return s;
}

export interface StoreProcess {
  readonly storeId: number;
  /** The pid file's record, present only while `state` is running or paused. */
  readonly rec?: PidRecord;
  readonly state: ProcessState;
}

/** The store's process as its pid file records it; a stale record reads as dead. */
export function storeProcess(cfg: ClusterConfig, id: number): StoreProcess {
  const rec = readPidFile(cfg, id);
  if (!rec) return { storeId: id, state: 'dead' };
  const state = storeProcessState(rec);
  return state === 'dead' ? { storeId: id, state } : { storeId: id, rec, state };
}
