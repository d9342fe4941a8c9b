// `npm run bench:membership`: what membership changes and leader transfer cost on real
// store processes (a temporary 3-store cluster on loopback, fsync on, the default cluster
// file's timing: tick 100 ms, election 10 ticks, heartbeat 2):
//   1. preload --keys keys (default 1,000,000; 16-byte keys, --value-bytes values, 256 in
//      flight);
//   2. baseline: put throughput for --window seconds with 64 in flight;
//   3. `store add` of a fourth store (learner, catch-up by snapshot, promotion) while the
//      same 64-in-flight writer runs: the command's time and phases, and the throughput
//      during it against the baseline;
//   4. leader transfer: --transfers times (default 7), while one client writes with one
//      put in flight, the time from asking for the transfer to the first write the new
//      leader acknowledges; median and each.
// Every load loop is bounded by a count and a time cap. Flags: --keys N, --value-bytes N,
// --window S, --transfers N, --keep (leave the data directory), --json.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts, intFlag } from './real-cluster.js';
import { connectKvClient, connectKvClients } from '../client/index.js';
import { loadClusterConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/types.js';
import { clusterDown } from '../orchestrator/down.js';
import { transferLeader } from '../orchestrator/leader.js';
import { addStore } from '../orchestrator/membership.js';
import { leaderOf, probeAll } from '../orchestrator/probe.js';
import { clusterUp } from '../orchestrator/up.js';
import { runLoop } from '../loadgen/loop.js';

const progress = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const keyOf = (i: number) => Buffer.from(`k${String(i).padStart(15, '0')}`);

/** A writer of fresh keys, `inflight` at a time, until stopped or `capMs`; counts completions per second. */
function writer(cfg: ClusterConfig, from: number, inflight: number, valueBytes: number, capMs: number) {
  // One client per write in flight: a client's writes are serialized.
  const { clients, close } = connectKvClients(cfg, inflight, { timeoutMs: 30_000 });
  const value = Buffer.alloc(valueBytes, 0x61);
  let stopped = false;
  const completions: number[] = [];
  const done = runLoop({
    workers: inflight, ops: 50_000_000, durationMs: capMs, stopOnError: true, stopped: () => stopped,
    op: (w, seq) => clients[w]!.put(keyOf(from + seq), value),
    onOk: () => { completions.push(Date.now()); },
  }).finally(close);
  return {
    /** Writes completed within [a, b) (ms timestamps), per second. */
    rate: (a: number, b: number) => completions.filter((x) => x >= a && x < b).length / ((b - a) / 1000),
    get count() {
      return completions.length;
    },
    /** Stops the writer; throws its first failed write (the rates would not be of this load). */
    stop: async () => {
      stopped = true;
      const r = await done;
      if (r.firstError) throw r.firstError;
    },
  };
}

async function preload(cfg: ClusterConfig, n: number, valueBytes: number): Promise<number> {
  const { clients, close } = connectKvClients(cfg, 256, { timeoutMs: 30_000 });
  const value = Buffer.alloc(valueBytes, 0x62);
  const t0 = Date.now();
  try {
    const r = await runLoop({
      workers: clients.length, ops: n, durationMs: 60 * 60_000, stopOnError: true, tickMs: 15_000,
      onTick: (done, _failed, ms) => progress(`  ${done} of ${n} keys written (${Math.round(done / (ms / 1000))}/s)`),
      op: (w, i) => clients[w]!.put(keyOf(i), value),
    });
    if (r.firstError) throw r.firstError;
  } finally {
    close();
  }
  return (Date.now() - t0) / 1000;
}

interface Flags { keys: number; valueBytes: number; window: number; transfers: number; keep: boolean; json: boolean }

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      'keys': { type: 'string', default: '1000000' },
      'value-bytes': { type: 'string', default: '64' },
      'window': { type: 'string', default: '10' },
      'transfers': { type: 'string', default: '7' },
      'keep': { type: 'boolean', default: false },
      'json': { type: 'boolean', default: false },
    },
  });
  const int = intFlag;
  return {
    keys: int('keys', values['keys'], 0), valueBytes: int('value-bytes', values['value-bytes'], 1),
    window: int('window', values['window'], 1), transfers: int('transfers', values['transfers'], 1),
    keep: values['keep'] === true, json: values['json'] === true,
  };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2));
  const out: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-bench-members-'));
  const ports = await freePorts(4);
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, `data_dir: ./data\ncluster_id: bench\nstores:\n${ports.slice(0, 3).map((p, i) => `  - id: ${i + 1}\n    addr: 127.0.0.1:${p}\n`).join('')}`);
  let cfg = loadClusterConfig(file);
  try {
    progress(`cluster in ${dir}`);
    await clusterUp(cfg, { timeoutMs: 30_000 });

    progress(`phase 1: preloading ${f.keys} keys (16-byte keys, ${f.valueBytes}-byte values, 256 in flight)`);
    const preloadSecs = f.keys > 0 ? await preload(cfg, f.keys, f.valueBytes) : 0;
    out['preload'] = { keys: f.keys, valueBytes: f.valueBytes, seconds: preloadSecs, perSecond: Math.round(f.keys / Math.max(preloadSecs, 0.001)) };
    progress(`  ${f.keys} keys in ${preloadSecs.toFixed(1)} s`);

    progress(`phase 2: baseline put throughput, 64 in flight, ${f.window} s`);
    const base = writer(cfg, 100_000_000, 64, f.valueBytes, f.window * 1000 + 5_000);
    await sleep(1000);
    const b0 = Date.now();
    await sleep(f.window * 1000);
    const baseline = base.rate(b0, Date.now());
    await base.stop();
    progress(`  ${Math.round(baseline)} puts/s`);

    progress('phase 3: store add --id 4 while the same writer runs');
    const during = writer(cfg, 200_000_000, 64, f.valueBytes, 30 * 60_000);
    await sleep(1000);
    const a0 = Date.now();
    const added = await addStore(cfg, 4, `127.0.0.1:${ports[3]}`, { timeoutMs: 30 * 60_000, onProgress: (l) => progress(`  ${l}`) });
    const a1 = Date.now();
    await during.stop();
    cfg = loadClusterConfig(file);
    const rate = during.rate(a0, a1);
    out['storeAdd'] = {
      ms: added.ms, phases: added.phases, putsPerSecondDuring: Math.round(rate), putsPerSecondBaseline: Math.round(baseline),
      ratio: Number((rate / baseline).toFixed(2)), voters: added.voters,
    };
    progress(`  store add took ${(added.ms / 1000).toFixed(1)} s (${added.phases.map((p) => `${p.name} ${(p.ms / 1000).toFixed(1)} s`).join(', ')}); ` +
      `${Math.round(rate)} puts/s during it vs ${Math.round(baseline)} without (${(rate / baseline).toFixed(2)}x)`);

    progress(`phase 4: ${f.transfers} leader transfers, one put in flight`);
    let answeredBy = 0;
    let answeredAt = 0;
    const { client, close } = connectKvClient(cfg, { timeoutMs: 30_000, onAnswer: (id) => { answeredBy = id; answeredAt = performance.now(); } });
    let stop = false;
    const firstAck = new Map<number, number>(); // target store → time of its first acknowledged write after the ask
    let asked: { to: number; at: number } | undefined;
    // Failed writes (unknown outcomes during a transfer) are counted by the loop and the next
    // write goes on. Bounded by count and by time: each transfer waits at most ~16 s.
    const loop = runLoop({
      workers: 1, ops: 1_000_000, durationMs: f.transfers * 30_000 + 60_000, stopped: () => stop,
      op: (_w, seq) => client.put(keyOf(300_000_000 + seq), Buffer.from('t')),
      onOk: () => { if (asked && answeredBy === asked.to && !firstAck.has(asked.at)) firstAck.set(asked.at, answeredAt); },
    });
    const times: number[] = [];
    try {
      for (let i = 0; i < f.transfers; i++) {
        const probes = await probeAll(cfg, 1000);
        const lead = leaderOf(probes)!.storeId;
        const ids = cfg.stores.map((s) => s.id);
        const to = ids[(ids.indexOf(lead) + 1) % ids.length]!;
        asked = { to, at: performance.now() };
        await transferLeader(cfg, to, { timeoutMs: 10_000 });
        for (const until = Date.now() + 5_000; !firstAck.has(asked.at) && Date.now() < until;) await sleep(5);
        const at = firstAck.get(asked.at);
        if (at !== undefined) times.push(at - asked.at);
        progress(`  store ${lead} → store ${to}: first write acknowledged by the new leader after ${at === undefined ? '?' : Math.round(at - asked.at)} ms`);
        await sleep(500);
      }
    } finally {
      stop = true;
      await loop;
      close();
    }
    out['transfer'] = { medianMs: Math.round(median(times)), eachMs: times.map(Math.round) };
    progress(`  median ${Math.round(median(times))} ms over ${times.length} transfers`);
  } finally {
    await clusterDown(loadClusterConfig(file)).catch(() => undefined);
    if (!f.keep) rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(f.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
