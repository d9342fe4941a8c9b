// The randomized workload behind the raftstore scenario tests, after TinyKV's
// GenericTest: 5 stores, N clients appending to their own keys and scanning them back,
// optional message loss, random partitions and full-cluster restarts between rounds.
// Every client checks its scans against exactly what it wrote, and the whole recorded
// history (puts, scans, final deletes) must pass the linearizability checker.
// Stricter than TinyKV: every client also puts, gets and deletes a few shared "hot" keys,
// so the checker judges histories where several clients race on one key, and an
// unreliable network also duplicates and reorders messages.

import type { Test } from 'tap';
import { checkHistory } from '../../src/checker/index.js';
import { HistoryRecorder } from '../../src/checker/index.js';
import type { KvClient } from '../../src/client/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import { enc, dec } from '../support/bytes.js';
import { eventually, sleep } from '../support/wait.js';

export interface GenericOptions {
  readonly clients: number;
  readonly unreliable?: boolean;
  readonly partitions?: boolean;
  readonly crash?: boolean;
  readonly rounds?: number;
  /** How long clients run in each round. */
  readonly roundMs?: number;
  readonly seed?: number;
  /** Applied entries before the leader compacts (default 50, so every scenario truncates). */
  readonly compactLogThreshold?: number;
  /**
   * The 2C check: at the end of every round, once the cluster has caught up, every store
   * keeps at most 2 × threshold entries above its truncated index.
   */
  readonly checkLogBounded?: boolean;
  /** Store count (default 5, as TinyKV's GenericTest). */
  readonly stores?: number;
  /**
   * In every round one random store is stopped for most of the round and started again
   * near its end, so it falls far behind and must catch up (by snapshot, once the leader
   * compacted past it) while the clients keep writing.
   */
  readonly laggard?: boolean;
  /** 'lease': leaders answer reads under a lease (src/raftstore/leader-lease.ts). */
  readonly readMode?: 'read_index' | 'lease';
}

const keyOf = (c: number, j: number) => `${c} ${String(j).padStart(8, '0')}`;
const valueOf = (c: number, j: number) => `x ${c} ${j} y`;
/** Shared by all clients; outside every client's own key range ("<digit> ..."). */
const HOT_KEYS = ['hot 0', 'hot 1', 'hot 2'];

export const ROUND_MS = Number(process.env.ROUND_MS ?? 2500);
/**
 * How long a round may take beyond its client time before the scenario fails with the
 * cluster's state, instead of hanging until tap's timeout.
 */
const ROUND_SLACK_MS = Number(process.env.ROUND_SLACK_MS ?? 90_000);

/**
 * How long a round may go without any client operation succeeding before the scenario
 * fails with the cluster's state. Every scenario keeps a majority connected (random halves
 * of 5 stores always leave one side with 3), so a healthy cluster never goes this long.
 */
const STALL_MS = Number(process.env.STALL_MS ?? 20_000);

/**
 * Fails with what every store and the network look like if `work` outlasts `ms`, or if no
 * operation succeeds for STALL_MS (a stuck cluster fails in seconds, not at tap's timeout).
 */
async function withWatchdog<T>(cluster: Cluster, rec: HistoryRecorder, round: number, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let stall: NodeJS.Timeout | undefined;
  const started = performance.now();
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`round ${round} did not finish within ${Math.round(ms / 1000)} s: ${describeCluster(cluster)}`)), ms);
    stall = setInterval(() => {
      const quiet = performance.now() - Math.max(started, rec.lastOkAt);
      if (quiet > STALL_MS) reject(new Error(`round ${round}: no client operation succeeded for ${Math.round(quiet / 1000)} s: ${describeCluster(cluster)}`));
    }, 1000);
  });
  try {
    return await Promise.race([work, stuck]);
  } finally {
    clearTimeout(timer);
    clearInterval(stall);
  }
}

/** One line per store (role, term, indexes, snapshots) and the network's counters. */
export function describeCluster(cluster: Cluster): string {
  const stores = cluster.ids.map((id) => {
    const s = cluster.store(id)?.status()[0];
    if (!s) return `store ${id}: down`;
    const snaps = cluster.store(id)!.snapshots.snapshotStats();
    return `store ${id}: ${s.role} t${s.term} leader ${s.leaderStoreId ?? '?'} commit ${s.commitIndex} applied ${s.appliedIndex} ` +
      `last ${s.lastIndex} truncated ${s.truncatedIndex} snapshots sent ${snaps.sent}/failed ${snaps.sendFailures}/installed ${snaps.installed} ` +
      `[${cluster.store(id)!.describeProgress()}]`;
  });
  const n = cluster.network;
  return [...stores, `network: ${n.sent} sent, ${n.dropped} dropped, ${n.duplicated} duplicated`].join('; ');
}

export async function runGeneric(t: Test, o: GenericOptions): Promise<void> {
  const seed = o.seed ?? Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  // A low compaction threshold, so every scenario also truncates the log many times.
  const cluster = await Cluster.start({
    stores: o.stores ?? 5, seed, tickMs: 20, electionTick: 10, heartbeatTick: 2, compactLogThreshold: o.compactLogThreshold ?? 50,
    ...(o.readMode ? { readMode: o.readMode } : {}),
  });
  const recorder = new HistoryRecorder({ now: () => performance.now() });
  t.teardown(() => cluster.close());
  try {
    await cluster.waitForLeader();
    const clients = Array.from({ length: o.clients }, () => cluster.client({ timeoutMs: 15_000 }));
    for (let round = 0; round < (o.rounds ?? 3); round++) {
      await withWatchdog(cluster, recorder, round, (o.roundMs ?? ROUND_MS) + ROUND_SLACK_MS, runRound(t, cluster, clients, recorder, o, round));
    }
    const truncated = cluster.ids.map((id) => cluster.store(id)?.status()[0]?.truncatedIndex ?? 0);
    t.ok(Math.max(...truncated) > 5, `the log was compacted along the way (truncated at ${truncated.join(', ')})`);
  } finally {
    const result = checkHistory(recorder.history());
    t.ok(result.ok, result.ok ? `history of ${result.ops} ops over ${result.keys} keys is linearizable` : result.explanation);
  }
}

async function runRound(
  t: Test, cluster: Cluster, clients: KvClient[], rec: HistoryRecorder, o: GenericOptions, round: number,
): Promise<void> {
  let stop = false;
  const counts = clients.map(() => 0);
  const workers = clients.map((client, c) => clientLoop(client, c, rec, () => stop, counts, cluster.random));
  const chaos = o.partitions || o.unreliable ? chaosLoop(cluster, o, () => stop) : Promise.resolve();
  const roundMs = o.roundMs ?? ROUND_MS;
  const lag = o.laggard ? laggardLoop(cluster, roundMs) : Promise.resolve();
  await sleep(roundMs); // a round is a length of time under load and faults
  stop = true;
  await chaos;
  await lag;
  cluster.network.heal();
  const failures = (await Promise.all(workers)).filter((e) => e !== undefined);
  t.same(failures, [], `round ${round}: every client operation succeeded and read its own appends`);
  if (o.checkLogBounded) await checkLogBounded(t, cluster, o.compactLogThreshold ?? 50, round);
  if (o.crash) await cluster.restartAll();
  // Final checks: each client's range holds exactly its acknowledged appends, in order.
  const checker = clients[0]!;
  for (let c = 0; c < clients.length; c++) {
    const pairs = await recordedScan(checker, rec, 1000 + c, keyOf(c, 0), keyOf(c, counts[c]!));
    const got = pairs.map(([, v]) => v).join('');
    const want = Array.from({ length: counts[c]! }, (_, j) => valueOf(c, j)).join('');
    t.equal(got, want, `round ${round}: client ${c}'s ${counts[c]} appends are all there, once, in order`);
    for (let j = 0; j < counts[c]!; j++) {
      const id = rec.invoke(1000 + c, { kind: 'delete', key: keyOf(c, j) });
      await checker.delete(enc(keyOf(c, j))).then(() => rec.ok(id), (e) => { rec.unknown(id); throw e; });
    }
  }
}

/**
 * Every store ends up with at most 2 × threshold entries above its truncated index, and
 * every store has applied what the leader committed (a store cut off during the round
 * catches up, by snapshot if the leader compacted past it).
 */
async function checkLogBounded(t: Test, cluster: Cluster, threshold: number, round: number): Promise<void> {
  const status = () => cluster.ids.map((id) => cluster.store(id)!.status()[0]!);
  let last = '';
  try {
    await eventually(`round ${round}: every store caught up with a log of at most ${2 * threshold} entries`, () => {
      const lead = cluster.leaderId();
      if (lead === undefined) return false;
      const commit = cluster.store(lead)!.status()[0]!.commitIndex;
      const s = status();
      last = s.map((x) => `store ${x.storeId}: applied ${x.appliedIndex}, truncated ${x.truncatedIndex}`).join('; ');
      return s.every((x) => x.appliedIndex >= commit && x.appliedIndex - x.truncatedIndex <= 2 * threshold);
    }, 20_000);
    const installed = cluster.ids.map((id) => cluster.store(id)!.snapshots.snapshotStats().installed);
    t.pass(`round ${round}: logs bounded (${last}); snapshots installed since the stores started: ${installed.join(', ')}`);
  } catch (e) {
    t.fail(`${(e as Error).message}: ${last}`);
  }
}

async function recordedScan(
  client: KvClient, rec: HistoryRecorder, clientId: number, start: string, end: string,
): Promise<Array<[string, string]>> {
  const id = rec.invoke(clientId, { kind: 'scan', start, end });
  try {
    const raw = await client.scan(enc(start), enc(end), 1_000_000);
    const pairs = raw.map(([k, v]) => [dec(k), dec(v)] as [string, string]);
    rec.okScan(id, pairs);
    return pairs;
  } catch (e) {
    rec.fail(id); // a read that failed has no effect
    throw e;
  }
}

/** One client: a fair coin between appending a new key and scanning all of its keys. */
async function clientLoop(
  client: KvClient, c: number, rec: HistoryRecorder, stopped: () => boolean, counts: number[], random: () => number,
): Promise<string | undefined> {
  let last = '';
  let hotWrites = 0;
  counts[c] = 0;
  while (!stopped()) {
    const j = counts[c]!;
    const dice = random();
    if (dice < 0.2) {
      const err = await hotKeyOp(client, c, rec, random, hotWrites++);
      if (err) return err;
    } else if (dice < 0.6) {
      const id = rec.invoke(c, { kind: 'put', key: keyOf(c, j), value: valueOf(c, j) });
      try {
        await client.put(enc(keyOf(c, j)), enc(valueOf(c, j)));
        rec.ok(id);
      } catch (e) {
        rec.unknown(id);
        return `client ${c}: put ${keyOf(c, j)} failed: ${(e as Error).message}`;
      }
      last += valueOf(c, j);
      counts[c] = j + 1;
    } else {
      let pairs: Array<[string, string]>;
      try {
        pairs = await recordedScan(client, rec, c, keyOf(c, 0), keyOf(c, j));
      } catch (e) {
        return `client ${c}: scan failed: ${(e as Error).message}`;
      }
      const got = pairs.map(([, v]) => v).join('');
      if (got !== last) return `client ${c}: scan returned ${JSON.stringify(got)}, expected ${JSON.stringify(last)}`;
    }
  }
  return undefined;
}

/** A get, put or delete of a random hot key; every value written is unique. */
async function hotKeyOp(
  client: KvClient, c: number, rec: HistoryRecorder, random: () => number, n: number,
): Promise<string | undefined> {
  const key = HOT_KEYS[Math.floor(random() * HOT_KEYS.length)]!;
  const which = random();
  if (which < 0.5) {
    const id = rec.invoke(c, { kind: 'get', key });
    try {
      const v = await client.get(enc(key));
      rec.okGet(id, v === undefined ? null : dec(v));
      return undefined;
    } catch (e) {
      rec.fail(id);
      return `client ${c}: get ${key} failed: ${(e as Error).message}`;
    }
  }
  const call = which < 0.85 ? { kind: 'put' as const, key, value: `hot ${c} ${n}` } : { kind: 'delete' as const, key };
  const id = rec.invoke(c, call);
  try {
    if (call.kind === 'put') await client.put(enc(key), enc(call.value));
    else await client.delete(enc(key));
    rec.ok(id);
    return undefined;
  } catch (e) {
    rec.unknown(id);
    return `client ${c}: ${call.kind} ${key} failed: ${(e as Error).message}`;
  }
}

/** Stops one random store from 10% to 70% of the round, then starts it again. */
async function laggardLoop(cluster: Cluster, roundMs: number): Promise<void> {
  await sleep(roundMs * 0.1);
  const id = cluster.ids[Math.floor(cluster.random() * cluster.ids.length)]!;
  await cluster.stopStore(id);
  await sleep(roundMs * 0.6);
  await cluster.startStore(id);
}

/**
 * Random partitions (each store on side A or B by a coin flip) and/or an unreliable
 * network: 10% loss (as TinyKV's), and, stricter than TinyKV, 5% of messages delivered
 * twice and every message delayed by up to half a tick, so messages overtake each other.
 */
async function chaosLoop(cluster: Cluster, o: GenericOptions, stopped: () => boolean): Promise<void> {
  if (o.unreliable) cluster.network.setFaults({ dropRate: 0.1, dupRate: 0.05, delayMs: 10 });
  while (!stopped()) {
    if (o.partitions) {
      const a: number[] = [];
      const b: number[] = [];
      for (const id of cluster.ids) (cluster.random() < 0.5 ? a : b).push(id);
      cluster.network.partition(a, b);
    }
    await sleep(500 + Math.floor(cluster.random() * 200)); // each partition holds for a random while
  }
}
