// The recorded client workload of `tinykv chaos run` and of the end-to-end tests
// (test/e2e/membership.test.ts): clients, each its own session, loop over a random mix of
// put / delete (writes) and get / scan (reads) on a small hot key space, every value unique
// in the run ("<client>-<n>") so a read can be traced to the write it saw. Each operation
// is recorded with its invoke and complete times and its outcome (run-record.ts);
// checkerHistory (run.ts) turns the records into the linearizability checker's history.
//
// Outcomes follow what the client can know: a read that got no answer is `fail` (it changed
// nothing); a write that reached no store (CLUSTER_UNAVAILABLE, CONNECTION_REFUSED) is
// `fail`; any other failed write is `unknown` (it may be applied, now or later).

import { prefixEnd } from '../api/key-range.js';
import { connectKvClient, connectKvClients } from '../client/index.js';
import type { KvClient } from '../client/index.js';
import type { ClusterConfig } from '../config/types.js';
import { seededRng, type Rng } from '../util/rng.js';
import type { OpKind, OpOutcome, OpRecord } from './run-record.js';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  /** Fraction of operations that are reads (gets, and one scan in ten reads). */
  readonly readRatio: number;
  /** Operations per second over all clients; null: each client goes as fast as it can. */
  readonly rate: number | null;
  readonly seed: number;
  /** Milliseconds since the run started (monotonic). */
  readonly now: () => number;
  /**
   * Where this run's keys live in the cluster (e.g. "chaos-run/20261206T161207-42/"): the
   * hot keys are <prefix>k0… and scans cover the prefix only, so keys already in the
   * cluster are neither read nor overwritten. The history names keys without it.
   */
  readonly keyPrefix: string;
  /** Each client stops after this many operations (default: only stop() ends it). */
  readonly maxOpsPerClient?: number;
  /** After each operation a client pauses a random 0..pauseMs-1 ms (default none), so clients interleave. */
  readonly pauseMs?: number;
  /** The odd clients' timeouts (default 500 ms, 250 ms per attempt); even clients wait 2 s. */
  readonly quickTimeouts?: { readonly timeoutMs: number; readonly attemptTimeoutMs: number };
}

/** Reads that are scans (over the whole hot key space). */
const SCAN_SHARE = 0.1;
/** Writes that are deletes. */
const DELETE_SHARE = 0.2;
/** Codes that prove a write never reached a store. */
const NEVER_SENT = new Set(['CLUSTER_UNAVAILABLE', 'CONNECTION_REFUSED', 'INVALID_ARGUMENT']);

/** The hot keys as the history names them: k0, k1, ... (short, and all within [k, l)). */
export function hotKeys(n: number): string[] {
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, i) => `k${String(i).padStart(width, '0')}`);
}
/** A scan's range as the history names it: every hot key. */
export const SCAN_START = 'k';
export const SCAN_END = 'l';

/** A run's key prefix: ASCII, ending in '/', unique to the run's start time and seed. */
export function runKeyPrefix(startedAt: Date, seed: number): string {
  return `chaos-run/${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${seed}/`;
}

export class Workload {
  readonly ops: OpRecord[] = [];
  readonly counts: Record<OpOutcome, number> = { ok: 0, fail: 0, unknown: 0 };
  private nextId = 0;
  private stopping = false;
  private readonly running: Promise<void>[] = [];
  private readonly connection: { clients: KvClient[]; close(): void };
  private readonly quick: { clients: KvClient[]; close(): void };
  private readonly keys: string[];
  private readonly inCluster: (key: string) => Buffer;

  constructor(cfg: ClusterConfig, private readonly o: WorkloadOptions) {
    this.keys = hotKeys(o.keys);
    this.inCluster = (key) => Buffer.from(o.keyPrefix + key);
    // Odd clients give up after 500 ms, even ones after 2 s: faults then leave both short
    // and long unknown writes, which is where a store that breaks its promises shows.
    // (connectKvClients finds a store added to the cluster file later: membership tests.)
    this.connection = connectKvClients(cfg, o.clients + 1, { timeoutMs: 2000, attemptTimeoutMs: 500 });
    this.quick = connectKvClients(cfg, o.clients + 1, o.quickTimeouts ?? { timeoutMs: 500, attemptTimeoutMs: 250 });
  }

  start(): void {
    for (let c = 1; c <= this.o.clients; c++) {
      const client = (c % 2 === 1 ? this.quick : this.connection).clients[c]!;
      this.running.push(this.loop(c, client, seededRng((this.o.seed * 31 + c) >>> 0)));
    }
  }

  /** Stops issuing new operations and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** One read of every hot key by client 0, once the cluster has recovered (in the history too). */
  async finalReads(cfg: ClusterConfig, timeoutMs: number): Promise<void> {
    const { client, close } = connectKvClient(cfg, { timeoutMs });
    try {
      for (const key of this.keys) {
        await this.record(0, 'get', { key }, () => client.get(this.inCluster(key)), (v) => ({ read: v === undefined ? null : text(v) }));
      }
    } finally {
      close();
    }
  }

  /** Deletes every key of the run from the cluster (after the final reads); resolves with how many. */
  async removeKeys(cfg: ClusterConfig, timeoutMs: number): Promise<number | undefined> {
    const { client, close } = connectKvClient(cfg, { timeoutMs });
    try {
      const prefix = Buffer.from(this.o.keyPrefix);
      return await client.deleteRange(prefix, prefixEnd(prefix));
    } finally {
      close();
    }
  }

  /** Every operation, in invocation order. */
  history(): OpRecord[] {
    return [...this.ops].sort((a, b) => a.id - b.id);
  }

  close(): void {
    this.connection.close();
    this.quick.close();
  }

  private async loop(c: number, client: KvClient, rng: Rng): Promise<void> {
    // With a rate, each client waits its share of the interval between its operations.
    const gapMs = this.o.rate === null ? 0 : (1000 * this.o.clients) / this.o.rate;
    let next = this.o.now();
    const maxOps = this.o.maxOpsPerClient ?? Infinity;
    for (let n = 0; !this.stopping && n < maxOps; n++) {
      const key = this.keys[rng.intBetween(0, this.keys.length)]!;
      const dice = rng.next();
      if (dice < this.o.readRatio) {
        if (rng.next() < SCAN_SHARE) {
          const prefix = this.o.keyPrefix;
          await this.record(c, 'scan', { start: SCAN_START, end: SCAN_END },
            () => client.scan(this.inCluster(SCAN_START), this.inCluster(SCAN_END), 0),
            (pairs) => ({ pairs: pairs.map(([k, v]) => [text(k).slice(prefix.length), text(v)] as const) }));
        } else {
          await this.record(c, 'get', { key }, () => client.get(this.inCluster(key)), (v) => ({ read: v === undefined ? null : text(v) }));
        }
      } else if (rng.next() < DELETE_SHARE) {
        await this.record(c, 'delete', { key }, () => client.delete(this.inCluster(key)), () => ({}));
      } else {
        const value = `${c}-${n}`;
        await this.record(c, 'put', { key, value }, () => client.put(this.inCluster(key), Buffer.from(value)), () => ({}));
      }
      if (gapMs > 0) {
        next += gapMs;
        const wait = next - this.o.now();
        if (wait > 0) await sleep(wait);
        else next = this.o.now(); // behind: do not burst to catch up
      }
      // Pacing, not waiting for something: a random gap lets the clients' operations overlap differently.
      if (this.o.pauseMs !== undefined && this.o.pauseMs > 0) await sleep(rng.intBetween(0, this.o.pauseMs));
    }
  }

  private async record<T>(
    client: number, kind: OpKind, what: Pick<OpRecord, 'key' | 'value' | 'start' | 'end'>,
    call: () => Promise<T>, result: (v: T) => Pick<OpRecord, 'read' | 'pairs'>,
  ): Promise<void> {
    const id = this.nextId++;
    const invokeMs = this.o.now();
    let rec: OpRecord;
    try {
      const v = await call();
      rec = { id, client, kind, ...what, invokeMs, completeMs: this.o.now(), outcome: 'ok', ...result(v) };
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? 'ERROR');
      const write = kind === 'put' || kind === 'delete';
      const outcome: OpOutcome = write && !NEVER_SENT.has(code) ? 'unknown' : 'fail';
      rec = { id, client, kind, ...what, invokeMs, completeMs: this.o.now(), outcome, error: code };
    }
    this.counts[rec.outcome]++;
    this.ops.push(rec);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
