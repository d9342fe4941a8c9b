// `tinykv chaos run`: a Jepsen-style test of a live cluster. Clients (workload.ts) run
// while the nemesis (nemesis.ts) injects faults for the run's duration; then every fault is
// undone (heal, resume, restart what is down), the cluster must become healthy again, the
// clients go on for a recovery phase, a last read of every key is taken, and the whole
// history is judged by the linearizability checker (src/checker). The run folder gets the
// history, the faults, the stores' logs of the run, the verdict and the HTML report.

import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Op } from '../checker/index.js';
import { checkHistory } from '../checker/index.js';
import type { ClusterConfig } from '../config/types.js';
import { storeDir } from '../config/types.js';
import { clusterHealth } from '../orchestrator/health.js';
import { OrchestratorError } from '../orchestrator/errors.js';
import { Nemesis, type FaultTarget } from './nemesis.js';
import { renderReport } from './report-html.js';
import type { FaultRecord, OpKind, OpOutcome, OpRecord, RunParameters, RunRecord, Verdict } from './run-record.js';
import { runKeyPrefix, Workload } from './workload.js';

export interface ChaosRunOptions {
  readonly clients: number;
  readonly keys: number;
  readonly readRatio: number;
  readonly rate: number | null;
  readonly durationMs: number;
  readonly faults: RunParameters['faults'];
  readonly intervalMs: number;
  readonly recoveryMs: number;
  readonly seed: number;
  /** The run folder; created, and must not hold anything yet. */
  readonly outDir: string;
  /** Stops the run early (Ctrl-C): faults are undone and what was recorded is judged. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (line: string) => void;
  /** How often the progress line is updated while faults run (default 1 s). */
  readonly progressEveryMs?: number;
  /** Search steps the checker may take per key before it calls a key inconclusive. */
  readonly maxCheckerSteps?: number;
}

export interface ChaosRunResult {
  readonly verdict: Verdict;
  readonly outDir: string;
  readonly report: string;
  readonly faults: number;
  readonly stopped: boolean;
}

/** The cluster cannot be tested now (not healthy before, or not healthy again after the faults). */
export class ChaosRunError extends OrchestratorError {
  constructor(message: string) {
    super('CLUSTER_UNHEALTHY', message);
  }
}

/** --out names a file, or a folder that already holds something. */
export class RunFolderError extends OrchestratorError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** How long the cluster gets to become healthy again once every fault is undone. */
const RECOVERY_WAIT_MS = 60_000;
/** The final reads' client timeout. */
const FINAL_READ_TIMEOUT_MS = 10_000;

export async function chaosRun(cfg: ClusterConfig, target: FaultTarget, o: ChaosRunOptions): Promise<ChaosRunResult> {
  const say = o.onProgress ?? (() => {});
  try {
    await clusterHealth(cfg);
  } catch (e) {
    throw new ChaosRunError(`chaos run needs a healthy cluster to start from: ${(e as Error).message} (start it with tinykv cluster up)`);
  }
  prepareOutDir(o.outDir);
  const logStarts = new Map(cfg.stores.map((s) => [s.id, fileSize(storeLog(cfg, s.id))]));
  const startedAt = new Date();
  // Keys of their own: data already in the cluster is neither read (it would look like a
  // value nobody wrote) nor overwritten.
  const keyPrefix = runKeyPrefix(startedAt, o.seed);
  const params: RunParameters = {
    seed: o.seed, startedAt: startedAt.toISOString(), clusterFile: cfg.file, stores: cfg.stores.map((s) => s.id),
    clients: o.clients, keys: o.keys, keyPrefix, readRatio: o.readRatio, rate: o.rate, durationMs: o.durationMs,
    faults: o.faults, intervalMs: o.intervalMs, recoveryMs: o.recoveryMs,
  };
  writeFileSync(join(o.outDir, 'run.json'), `${JSON.stringify(params, null, 2)}\n`);

  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 1000) / 1000;
  const stop = new Stopper(o.signal);
  const workload = new Workload(cfg, { clients: o.clients, keys: o.keys, keyPrefix, readRatio: o.readRatio, rate: o.rate, seed: o.seed, now });
  let current: FaultRecord | undefined;
  const nemesis = new Nemesis(target, {
    kinds: o.faults, seed: o.seed, intervalMs: o.intervalMs, now, stopped: () => stop.stopped,
    sleep: (ms) => stop.sleep(ms), onFault: (f) => { current = f.endMs === null ? f : undefined; },
  });
  const ticker = setInterval(() => {
    const c = workload.counts;
    say(`${(now() / 1000).toFixed(0)}/${(o.durationMs / 1000).toFixed(0)} s: ${c.ok + c.fail + c.unknown} operations ` +
      `(${c.ok} ok, ${c.unknown} unknown, ${c.fail} failed), ${nemesis.faults.length} faults; ${current ? current.description : 'no fault'}`);
  }, o.progressEveryMs ?? 1000);
  try {
    workload.start();
    const timer = setTimeout(() => stop.stop(), o.durationMs);
    try {
      await nemesis.run();
    } finally {
      clearTimeout(timer);
    }
    clearInterval(ticker);
    say('undoing every fault: heal the network, resume and restart stores');
    await recover(cfg, target);
    if (!stop.aborted && o.recoveryMs > 0) {
      say(`recovery: ${(o.recoveryMs / 1000).toFixed(0)} s of traffic on the healed cluster`);
      await stop.sleepEvenIfStopped(o.recoveryMs, o.signal);
    }
    await workload.stop();
    say('final reads of every key');
    await workload.finalReads(cfg, FINAL_READ_TIMEOUT_MS);
    try {
      const removed = await workload.removeKeys(cfg, FINAL_READ_TIMEOUT_MS);
      say(`removed the run's keys from the cluster (${removed ?? 'all'} under ${keyPrefix})`);
    } catch (e) {
      say(`could not remove the run's keys under ${keyPrefix}: ${(e as Error).message}`);
    }
  } finally {
    clearInterval(ticker);
    await workload.stop();
    workload.close();
  }
  const runMs = now();

  const ops = workload.history();
  say(`checking ${ops.length} operations for linearizability`);
  const verdict = judge(ops, runMs, o.maxCheckerSteps);
  const record: RunRecord = { params, ops, faults: nemesis.faults, verdict };
  say('writing the run folder and the report');
  writeJsonLines(join(o.outDir, 'history.jsonl'), ops);
  writeJsonLines(join(o.outDir, 'faults.jsonl'), nemesis.faults);
  writeFileSync(join(o.outDir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  copyLogs(cfg, logStarts, join(o.outDir, 'logs'));
  const report = join(o.outDir, 'report.html');
  writeFileSync(report, renderReport(record));
  return { verdict, outDir: o.outDir, report, faults: nemesis.faults.length, stopped: stop.aborted };
}

/** Undoes everything a fault may have left: network faults, paused and stopped stores. */
async function recover(cfg: ClusterConfig, target: FaultTarget): Promise<void> {
  await target.heal().catch(() => undefined); // a store that is down is healed when restarted (faults live in memory)
  for (const id of target.stores) {
    await target.resume(id).catch(() => undefined); // not running: restarted next
    await target.restart(id);
  }
  const until = Date.now() + RECOVERY_WAIT_MS;
  for (;;) {
    try {
      await clusterHealth(cfg);
      return;
    } catch (e) {
      if (Date.now() >= until) {
        throw new ChaosRunError(`the cluster did not become healthy within ${RECOVERY_WAIT_MS / 1000} s after every fault was undone: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The checker's history: failed operations are left out (they did not happen). */
export function checkerHistory(ops: readonly OpRecord[]): Op[] {
  const out: Op[] = [];
  for (const r of ops) {
    if (r.outcome === 'fail') continue;
    const times = { id: r.id, clientId: r.client, invokeAt: r.invokeMs };
    if (r.outcome === 'unknown') {
      if (r.kind === 'put') out.push({ ...times, kind: 'put', key: r.key!, value: r.value!, outcome: { status: 'unknown' } });
      else if (r.kind === 'delete') out.push({ ...times, kind: 'delete', key: r.key!, outcome: { status: 'unknown' } });
      // an unknown read constrains nothing
      continue;
    }
    const returned = { ...times, returnAt: r.completeMs! };
    if (r.kind === 'put') out.push({ ...returned, kind: 'put', key: r.key!, value: r.value!, outcome: { status: 'ok' } });
    else if (r.kind === 'delete') out.push({ ...returned, kind: 'delete', key: r.key!, outcome: { status: 'ok' } });
    else if (r.kind === 'get') out.push({ ...returned, kind: 'get', key: r.key!, outcome: { status: 'ok', value: r.read ?? null } });
    else out.push({ ...returned, kind: 'scan', start: r.start!, ...(r.end !== undefined ? { end: r.end } : {}), outcome: { status: 'ok', pairs: r.pairs ?? [] } });
  }
  return out;
}

export function judge(ops: readonly OpRecord[], runMs: number, maxSteps?: number): Verdict {
  const counts = countOps(ops);
  const history = checkerHistory(ops);
  const t0 = performance.now();
  const r = checkHistory(history, maxSteps !== undefined ? { maxSteps } : {});
  const checkerMs = Math.round(performance.now() - t0);
  const tally = `${ops.length} operations (${sum(counts, 'ok')} ok, ${sum(counts, 'unknown')} unknown, ${sum(counts, 'fail')} failed)`;
  const base = { checkerMs, ops: ops.length, counts, runMs };
  if (r.ok) return { status: 'linearizable', summary: `linearizable: ${tally}; checked in ${seconds(checkerMs)}`, ...base };
  if (r.inconclusive) {
    return { status: 'inconclusive', summary: `inconclusive: the checker gave up on key ${JSON.stringify(r.key)} (${tally})`, explanation: r.explanation, key: r.key, ...base };
  }
  return {
    status: 'violation',
    summary: `NOT linearizable: key ${JSON.stringify(r.key)}, a window of ${r.window.length} operations (${tally})`,
    explanation: r.explanation, key: r.key, windowOpIds: r.window.map((op) => op.id!), ...base,
  };
}

function countOps(ops: readonly OpRecord[]): Verdict['counts'] {
  const zero = (): Record<OpOutcome, number> => ({ ok: 0, fail: 0, unknown: 0 });
  const c: Record<OpKind, Record<OpOutcome, number>> = { put: zero(), get: zero(), delete: zero(), scan: zero() };
  for (const r of ops) c[r.kind][r.outcome]++;
  return c;
}

function sum(c: Verdict['counts'], outcome: OpOutcome): number {
  return Object.values(c).reduce((n, k) => n + k[outcome], 0);
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The run folder must be new or empty: a run never mixes its files with another's. */
function prepareOutDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new RunFolderError(`--out ${dir} is a file, not a folder`);
    if (readdirSync(dir).length > 0) throw new RunFolderError(`--out ${dir} already holds files; give a new or empty folder`);
  }
  mkdirSync(join(resolve(dir), 'logs'), { recursive: true });
}

function storeLog(cfg: ClusterConfig, id: number): string {
  return join(storeDir(cfg, id), 'store.log');
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Each store's log from where it stood when the run started. */
function copyLogs(cfg: ClusterConfig, starts: ReadonlyMap<number, number>, dir: string): void {
  for (const s of cfg.stores) {
    const from = storeLog(cfg, s.id);
    const to = join(dir, `store-${s.id}.log`);
    const start = starts.get(s.id) ?? 0;
    const size = fileSize(from);
    if (start === 0 || start > size) {
      if (existsSync(from)) copyFileSync(from, to);
      continue;
    }
    const fd = openSync(from, 'r');
    try {
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      writeFileSync(to, buf);
    } finally {
      closeSync(fd);
    }
  }
}

function writeJsonLines(path: string, rows: readonly object[]): void {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : ''));
}

/** The run's clock of stopping: at the end of its duration, or when aborted (Ctrl-C). */
class Stopper {
  stopped = false;
  aborted = false;
  private readonly wakers = new Set<() => void>();

  constructor(signal?: AbortSignal) {
    signal?.addEventListener('abort', () => {
      this.aborted = true;
      this.stop();
    }, { once: true });
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.wakers) w();
    this.wakers.clear();
  }

  /** Sleeps `ms`, or less if the run stops meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** The recovery phase: sleeps `ms` after the faults stopped, unless aborted. */
  sleepEvenIfStopped(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }
}
