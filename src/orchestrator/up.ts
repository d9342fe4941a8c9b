// `cluster up` and the start of one store (`chaos restart`, `store start`). Idempotent:
// a store whose recorded process still runs is left alone. Before anything is spawned,
// every port that must be bound is checked, so a port held by another program fails the
// command without starting half a cluster. Then it waits — with a deadline — until every
// store answers status and a leader is elected, reporting progress as it goes.

import type { ClusterConfig, StoreConfig } from '../config/types.js';
import { ClusterNotReadyError, portInUse, StoreStartError } from './errors.js';
import { readPidFile, removePidFile } from './pid-file.js';
import { checkPort } from './port.js';
import { isServing, leaderOf, probeAll, probeStore, sleep, type Probe } from './probe.js';
import { signalStore } from './signals.js';
import { lastLogLine, spawnStore, type SpawnedStore } from './spawn.js';
import { storeConfig, storeProcess } from './stores.js';

export const DEFAULT_UP_TIMEOUT_MS = 30_000; // keep equal to src/cli/options.ts
const POLL_MS = 50;
const PROBE_TIMEOUT_MS = 500;

export interface StartOptions {
  /** Deadline for the stores to answer (and, for cluster up, to elect a leader). */
  readonly timeoutMs?: number;
  /** One human-readable line per step. */
  readonly onProgress?: (line: string) => void;
}

export type StoreStart =
  /** resumed: it was paused (SIGSTOP) and got SIGCONT. */
  | { readonly storeId: number; readonly how: 'started' | 'already-running' | 'resumed'; readonly pid: number }
  /** Not started by us, but a store with this id answers on its address. */
  | { readonly storeId: number; readonly how: 'external'; readonly pid: number };

export interface UpResult {
  readonly stores: readonly StoreStart[];
  readonly leaderId: number;
  readonly term: number;
  readonly elapsedMs: number;
}

export async function clusterUp(cfg: ClusterConfig, o: StartOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const deadline = t0 + (o.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS);
  const say = o.onProgress ?? (() => {});
  const plan = await Promise.all(cfg.stores.map((s) => planStart(cfg, s)));
  const spawned: SpawnedStore[] = [];
  const results: StoreStart[] = [];
  for (const p of plan) {
    if (p.how === 'spawn') {
      const s = spawnStore(cfg, p.storeId);
      spawned.push(s);
      results.push({ storeId: p.storeId, how: 'started', pid: s.pid });
      say(`store ${p.storeId}: started (pid ${s.pid}), listening on ${storeConfig(cfg, p.storeId).addr}`);
    } else {
      results.push(p);
      const note = p.how === 'external' ? ', not started by cluster up' : p.how === 'resumed' ? ', was paused: resumed' : '';
      say(`store ${p.storeId}: already running (pid ${p.pid}${note})`);
    }
  }
  const ready = await waitUntil(cfg, spawned, deadline, (probes) => {
    const serving = probes.filter(isServing).length;
    const leader = leaderOf(probes);
    return { done: serving === probes.length && leader !== undefined, progress: readiness(probes, leader) };
  }, say);
  const leader = leaderOf(ready)!;
  say(`store ${leader.storeId} leads (term ${leader.term})`);
  return { stores: results, leaderId: leader.storeId, term: leader.term, elapsedMs: Date.now() - t0 };
}

/** Starts one store if it is not running, and waits until it answers status. */
export async function startStore(cfg: ClusterConfig, id: number, o: StartOptions = {}): Promise<StoreStart> {
  const store = storeConfig(cfg, id);
  const deadline = Date.now() + (o.timeoutMs ?? DEFAULT_UP_TIMEOUT_MS);
  const say = o.onProgress ?? (() => {});
  const p = await planStart(cfg, store);
  if (p.how !== 'spawn') return p;
  const s = spawnStore(cfg, id);
  say(`store ${id}: started (pid ${s.pid}), listening on ${store.addr}`);
  await waitUntil(cfg, [s], deadline, (probes) => {
    const mine = probes.find((x) => x.storeId === id)!;
    return { done: isServing(mine), progress: isServing(mine) ? `store ${id} is serving` : `waiting for store ${id}` };
  }, say, [id]);
  return { storeId: id, how: 'started', pid: s.pid };
}

type Plan = StoreStart | { readonly storeId: number; readonly how: 'spawn' };

/** What to do about one store: leave it running, or spawn it (its port is free). */
async function planStart(cfg: ClusterConfig, store: StoreConfig): Promise<Plan> {
  const proc = storeProcess(cfg, store.id);
  if (proc.rec) {
    // A store left paused by `chaos pause` would never answer: up means running.
    if (proc.state === 'paused') signalStore(proc.rec, 'SIGCONT');
    return { storeId: store.id, how: proc.state === 'paused' ? 'resumed' : 'already-running', pid: proc.rec.pid };
  }
  removePidFile(cfg, store.id);
  const port = await checkPort(store.host, store.port);
  if (port.free) {
    // Its metrics port too: a taken one would stop the store after the others started.
    const m = store.metrics ? await checkPort(store.metrics.host, store.metrics.port) : { free: true as const };
    if (!m.free) throw portInUse(store.id, store.metrics!.addr, m.reason, 'metrics_addr');
    return { storeId: store.id, how: 'spawn' };
  }
  // Maybe it is this very store, started some other way (`store start --foreground`).
  const probe = await probeStore(store, PROBE_TIMEOUT_MS);
  if (probe.ok) return { storeId: store.id, how: 'external', pid: probe.status.pid };
  throw portInUse(store.id, store.addr, port.reason);
}

type Check = (probes: Probe[]) => { done: boolean; progress: string };

/**
 * Polls the stores until `check` is done or the deadline passes. A spawned store that
 * exits meanwhile fails the wait at once with its last line of output.
 */
async function waitUntil(
  cfg: ClusterConfig,
  spawned: readonly SpawnedStore[],
  deadline: number,
  check: Check,
  say: (line: string) => void,
  ids?: readonly number[],
): Promise<Probe[]> {
  let exitedStore: { s: SpawnedStore; how: { exitCode?: number; signal?: string } } | undefined;
  for (const s of spawned) void s.exited.then((how) => (exitedStore ??= { s, how }));
  const failIfExited = (): void => {
    if (exitedStore) throw startError(cfg, exitedStore.s, exitedStore.how);
  };
  let lastProgress = '';
  let probes: Probe[] = [];
  while (Date.now() < deadline) {
    failIfExited();
    probes = await probeAll(cfg, Math.min(PROBE_TIMEOUT_MS, Math.max(1, deadline - Date.now())), ids);
    failIfExited();
    const { done, progress } = check(probes);
    if (progress !== lastProgress) say(progress);
    lastProgress = progress;
    if (done) return probes;
    await sleep(POLL_MS);
  }
  throw new ClusterNotReadyError(notReady(probes, lastProgress));
}

function startError(cfg: ClusterConfig, s: SpawnedStore, how: { exitCode?: number; signal?: string }): StoreStartError {
  if (readPidFile(cfg, s.storeId)?.pid === s.pid) removePidFile(cfg, s.storeId);
  const exit = how.signal ? `signal ${how.signal}` : `exit code ${how.exitCode ?? '?'}`;
  return new StoreStartError(s.storeId, exit, lastLogLine(s.logFile, s.logOffset), s.logFile);
}

function readiness(probes: readonly Probe[], leader: { storeId: number; term: number } | undefined): string {
  const serving = probes.filter(isServing).length;
  const lead = leader ? `store ${leader.storeId} leads` : 'no leader yet';
  return `${serving}/${probes.length} stores serving, ${lead}`;
}

function notReady(probes: readonly Probe[], lastProgress: string): string {
  const silent = probes.filter((p) => !p.ok).map((p) => p.storeId);
  const why = silent.length > 0 ? `; no answer from store ${silent.join(', ')}` : '';
  return `the cluster was not ready in time (${lastProgress || 'no store answered'}${why}); the stores keep running, see their store.log`;
}
