// Crash points (issue 10): a store dies abruptly at a named instant of its Ready loop or
// apply path (crash-points.ts) while clients write — no stop(), nothing flushed, and a
// power cut takes all or a random suffix of both engines' unsynced writes. It restarts
// from what survived. After every point's cycles the cluster must show:
//   - every acknowledged write, with its value (read through the leader);
//   - the same data on every store once all have applied the same index (a store whose
//     apply state ran ahead of its data, or the other way round, differs here);
//   - a linearizable history of every put, get and delete the clients recorded.
// The snapshot-install points crash a store that is catching up by snapshot, then restart
// it: load() must finish (or cleanly ignore) the interrupted install.
//
// The deliberate bug applyStateInSeparateBatch (the apply state written ahead of the data,
// in its own batch) is shown caught: a cut that keeps the first write and loses the second
// leaves a replica whose applied index covers data it never wrote.

import t from 'tap';
import type { Test } from 'tap';
import { checkHistory } from '../../src/checker/index.js';
import { HistoryRecorder } from '../../src/checker/index.js';
import { keys } from '../../src/engine/index.js';
import type { LossMode } from '../../src/engine/index.js';
import { Cluster } from '../../src/harness/in-process-cluster.js';
import type { CrashReport } from '../../src/harness/in-process-cluster.js';
import { CRASH_POINTS, type CrashPoint } from '../../src/raftstore/crash-points.js';
import type { DeliberateBugs } from '../../src/raftstore/deliberate-bugs.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { enc, dec } from '../support/bytes.js';
import { eventually, sleep } from '../support/wait.js';

const WRITERS = 4;
const HOT = ['hot a', 'hot b'];
/** How long an armed point may take to be reached before the test says it never was. */
const REACH_MS = 10_000;

export interface CycleResult {
  readonly cycles: number;
  readonly lostWrites: number;
  /** Problems found (missing writes, diverged stores, a non-linearizable history). */
  readonly problems: string[];
}

async function withDeadline<T>(p: Promise<T>, ms: number, what: string, cluster: Cluster): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${what} not within ${ms} ms: ${statusLine(cluster)}`));
        cluster.disarmCrash('deadline'); // after: the race has already settled with the reason above
      }, ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

function statusLine(cluster: Cluster): string {
  return cluster.ids.map((id) => {
    const s = cluster.store(id)?.status()[0];
    if (!s) return `store ${id}: down`;
    const snaps = cluster.store(id)!.snapshots.snapshotStats();
    const lead = ` [${cluster.store(id)!.describeProgress()}]`;
    return `store ${id}: ${s.role} t${s.term} applied ${s.appliedIndex} truncated ${s.truncatedIndex} ` +
      `snapshots sending ${snaps.sending} sent ${snaps.sent} failed ${snaps.sendFailures} receiving ${snaps.receiving} installed ${snaps.installed}${lead}`;
  }).join('; ');
}

/** Runs `cycles` crash-restart cycles at `point` while writers run; returns what the checks found. */
async function crashCycles(t: Test, point: CrashPoint, cycles: number, bugs: DeliberateBugs = {}, lose?: LossMode): Promise<CycleResult> {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SEED=${seed})`);
  const cluster = await Cluster.start({
    stores: 3, seed, tickMs: 10, electionTick: 10, heartbeatTick: 2, compactLogThreshold: 20, powerLoss: true, slowSyncMs: 4,
    deliberateBugs: bugs,
  });
  t.teardown(() => cluster.close());
  const rec = new HistoryRecorder({ now: () => performance.now() });
  const acked = new Map<string, string>();
  let stop = false;
  const writer = async (w: number) => {
    const client = cluster.client({ timeoutMs: 3_000, attemptTimeoutMs: 300 });
    for (let i = 0; !stop && i < 1_000_000; i++) {
      if (cluster.random() < 0.25) {
        const key = HOT[Math.floor(cluster.random() * HOT.length)]!;
        if (cluster.random() < 0.5) {
          const id = rec.invoke(w, { kind: 'get', key });
          await client.get(enc(key)).then((v) => rec.okGet(id, v === undefined ? null : dec(v)), () => rec.fail(id));
        } else {
          const value = `w${w}-${i}`;
          const id = rec.invoke(w, { kind: 'put', key, value });
          await client.put(enc(key), enc(value)).then(() => rec.ok(id), () => rec.unknown(id));
        }
        continue;
      }
      const key = `k${w}-${String(i).padStart(7, '0')}`;
      const value = `v-${key}`;
      const id = rec.invoke(w, { kind: 'put', key, value });
      try {
        await client.put(enc(key), enc(value));
        rec.ok(id);
        acked.set(key, value);
      } catch {
        rec.unknown(id); // a crash mid-write: either outcome is allowed
      }
    }
  };
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
  let lostWrites = 0;
  let done = 0;
  try {
    await cluster.waitForLeader(20_000);
    for (; done < cycles; done++) {
      const r = point.startsWith('snapshot-') ? await snapshotCycle(cluster, point) : await loopCycle(cluster, point, done, lose);
      lostWrites += r.lostWrites;
    }
  } finally {
    stop = true;
    await Promise.all(writers);
  }
  const problems = await finalChecks(cluster, acked);
  const history = checkHistory(rec.history());
  if (!history.ok) problems.push(history.explanation);
  t.comment(`${point}: ${done} crash-restart cycles, ${acked.size} writes acknowledged, ${lostWrites} unsynced engine writes lost to the cuts, ` +
    `points passed: ${[...cluster.crashPointPasses].map(([p, n]) => `${p} ${n}`).join(', ')}`);
  return { cycles: done, lostWrites, problems };
}

/** All unsynced writes, a random suffix of them, or just the newest one. */
function randomLoss(cluster: Cluster): LossMode {
  const x = cluster.random();
  return x < 0.4 ? 'all' : x < 0.8 ? 'suffix' : 1;
}

/**
 * Crashes the leader (even cycles) or a follower (odd cycles) at `point`, then restarts
 * it. A follower crashed earlier may still be catching up by snapshot; it must get back to
 * the log path (snapshot-catch-up.test.ts) to pass the point in time.
 */
async function loopCycle(cluster: Cluster, point: CrashPoint, n: number, lose?: LossMode): Promise<CrashReport> {
  const leader = await cluster.waitForLeader(20_000);
  await sleep(50 + Math.floor(cluster.random() * 150)); // the clients write between crashes
  const followers = cluster.ids.filter((id) => id !== leader);
  const target = n % 2 === 0 ? leader : followers[Math.floor(cluster.random() * followers.length)]!;
  const plan = { store: target, skip: Math.floor(cluster.random() * 4), lose: lose ?? randomLoss(cluster) };
  const report = await withDeadline(cluster.armCrash(point, plan), REACH_MS, `store ${target} reaching ${point}`, cluster);
  await sleep(Math.floor(cluster.random() * 100)); // down for a random while: the others go on without it
  await cluster.startStore(report.store);
  return report;
}

/**
 * Stops a follower, lets the leader compact past it, then arms `point` on it and starts it:
 * it crashes while installing the snapshot that catches it up, and starts again.
 */
async function snapshotCycle(cluster: Cluster, point: CrashPoint): Promise<CrashReport> {
  const leader = await cluster.waitForLeader(20_000);
  const target = cluster.ids.filter((id) => id !== leader)[Math.floor(cluster.random() * 2)]!;
  await cluster.crashStore(target, 'suffix');
  const lastIndex = cluster.store(leader)?.status()[0]?.lastIndex ?? 0;
  await eventually(`the leader compacting past index ${lastIndex}`, () => {
    const l = cluster.leaderId();
    return l !== undefined && (cluster.store(l)!.status()[0]!.truncatedIndex > lastIndex + 1);
  }, 20_000);
  const armed = cluster.armCrash(point, { store: target, lose: randomLoss(cluster) });
  await cluster.startStore(target);
  const report = await withDeadline(armed, REACH_MS, `store ${target} reaching ${point}`, cluster);
  await sleep(Math.floor(cluster.random() * 50)); // down for a random while, as above
  await cluster.startStore(target);
  return report;
}

/** Acknowledged writes through the leader, then every store's data once all applied the same index. */
async function finalChecks(cluster: Cluster, acked: Map<string, string>): Promise<string[]> {
  const problems: string[] = [];
  const client = cluster.client({ timeoutMs: 20_000 });
  const found = new Map((await client.scan(Buffer.alloc(0), Buffer.alloc(0), 10_000_000)).map(([k, v]) => [dec(k), dec(v)]));
  for (const [k, v] of acked) {
    if (found.get(k) !== v) problems.push(`acknowledged ${k} ${found.has(k) ? `holds ${found.get(k)}` : 'is missing'}`);
  }
  let applied: number[] = [];
  await eventually('every store applied the same index', () => {
    applied = cluster.ids.map((id) => cluster.store(id)?.status()[0]?.appliedIndex ?? -1);
    const l = cluster.leaderId();
    return l !== undefined && applied.every((a) => a === cluster.store(l)!.status()[0]!.commitIndex);
  }, 20_000).catch((e: Error) => problems.push(`${e.message}: ${statusLine(cluster)}`));
  const contents = await Promise.all(cluster.ids.map(async (id) => {
    const kv = cluster.engines(id)!.kv;
    const pairs = await kv.scan({ start: keys.dataKey('default', Buffer.alloc(0)), end: keys.dataKeyEnd('default') });
    return pairs.map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`);
  }));
  for (let i = 1; i < contents.length; i++) {
    const a = contents[0]!;
    const b = contents[i]!;
    const diff = a.length !== b.length || a.some((x, j) => x !== b[j]);
    if (diff) {
      const onlyA = a.filter((x) => !b.includes(x)).length;
      const onlyB = b.filter((x) => !a.includes(x)).length;
      problems.push(`store ${cluster.ids[i]} differs from store ${cluster.ids[0]} at applied index ${applied[i]}: ` +
        `${a.length} vs ${b.length} pairs, ${onlyA} only on store ${cluster.ids[0]}, ${onlyB} only on store ${cluster.ids[i]}`);
    }
  }
  return problems;
}

const CYCLES = Number(process.env.CRASH_CYCLES ?? 6);

for (const point of CRASH_POINTS) {
  t.test(`crash at ${point}, ${CYCLES} times: nothing acknowledged lost, stores agree, history linearizable`, async (t) => {
    const r = await crashCycles(t, point, point.startsWith('snapshot-') ? Math.ceil(CYCLES / 2) : CYCLES);
    t.same(r.problems.slice(0, 5), [], `no problem after ${r.cycles} crashes (${r.problems.length} found)`);
  });
}

t.test('applyStateInSeparateBatch (a planted bug): a cut between its two writes is caught', async (t) => {
  // Each crash at "applied" loses exactly the newest unsynced kvdb write: with the bug that
  // is the data, and the apply state written just before it survives.
  const r = await crashCycles(t, 'applied', 12, { applyStateInSeparateBatch: true }, 1);
  t.comment(`found: ${r.problems.slice(0, 3).join('; ')}`);
  t.ok(r.problems.length > 0, `the checks caught the bug within ${r.cycles} crashes`);
});
