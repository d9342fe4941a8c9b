// `npm run bench:sessions`: how big the exactly-once session table gets when every write
// comes from a new client, as every `tinykv put` from a shell does. An in-process 3-store
// cluster on RocksDB (temp directory, fsync on) takes --clients single-write clients
// (default 100,000), --concurrency of them at a time (default 64), each with its own
// client id. Printed: the write rate, the session rows on each store every few seconds,
// the peak, the rows right after the last client, and the rows once the TTL has passed
// (one client keeps writing ten times a second meanwhile, as any live cluster would).
// Rows expire after the session TTL (--ttl-ms, default the store's 30 s), so the table
// holds about write rate × TTL rows, not one per client ever. Bounded by count and by
// --max-seconds (default 600).

import { parseArgs } from 'node:util';
import { Cluster } from '../harness/in-process-cluster.js';
import { runLoop } from '../loadgen/loop.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_SESSION_TTL_MS } from '../raftstore/index.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    'ttl-ms': { type: 'string', default: String(DEFAULT_SESSION_TTL_MS) },
    'max-seconds': { type: 'string', default: '600' },
    json: { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const concurrency = Number(values.concurrency);
const ttlMs = Number(values['ttl-ms']);
const maxMs = Number(values['max-seconds']) * 1000;
for (const [name, v] of [['clients', clients], ['concurrency', concurrency], ['ttl-ms', ttlMs], ['max-seconds', maxMs]] as const) {
  if (!Number.isSafeInteger(v) || v <= 0) {
    process.stderr.write(`bench:sessions: --${name} must be a positive integer\n`);
    process.exit(2);
  }
}

// The store's skew allowance, but under a quarter of a short TTL (it must stay below the TTL).
const skewMs = Math.min(DEFAULT_MAX_CLOCK_SKEW_MS, Math.floor(ttlMs / 4));
const cluster = await Cluster.start({ stores: 3, seed: 1, tickMs: 100, electionTick: 10, heartbeatTick: 1, sessionTtlMs: ttlMs, maxClockSkewMs: skewMs });
try {
  await cluster.waitForLeader(20_000);
  const started = Date.now();
  let done = 0;
  let peak = 0;
  const rows = () => cluster.ids.map((id) => cluster.store(id)?.sessionCount() ?? 0);
  const sampler = setInterval(() => {
    const r = rows();
    peak = Math.max(peak, ...r);
    const s = (Date.now() - started) / 1000;
    process.stderr.write(`bench: ${s.toFixed(0)} s: ${done} clients done (${Math.round(done / s)}/s), session rows ${r.join(' / ')}\n`);
  }, 5_000);
  // Every operation a new client (a new session), as a shell's `tinykv put` is.
  const { failed } = await runLoop({
    workers: concurrency, ops: clients, durationMs: maxMs,
    op: (_w, i) => cluster.client({ timeoutMs: 10_000 }).put(Buffer.from(`cli-${String(i).padStart(8, '0')}`), Buffer.from('v'.repeat(64))),
    onOk: () => { done++; },
  });
  const seconds = (Date.now() - started) / 1000;
  const end = rows();
  peak = Math.max(peak, ...end);
  // Past the TTL, with light traffic: the leader's next expiry check drops the idle rows.
  const settleUntil = Date.now() + ttlMs * 1.25 + 3_000;
  const trickle = cluster.client({ timeoutMs: 10_000 });
  for (let i = 0; Date.now() < settleUntil && Date.now() - started < maxMs + ttlMs * 2; i++) {
    await trickle.put(Buffer.from('trickle'), Buffer.from(String(i))).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
  }
  clearInterval(sampler);
  const settled = rows();
  const result = {
    clients: done, failed, seconds: Number(seconds.toFixed(1)), writesPerSecond: Math.round(done / seconds), ttlMs,
    peakSessionRows: peak, sessionRowsAtEnd: end, sessionRowsAfterTtl: settled,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(`${done} single-write clients (${failed} failed) in ${seconds.toFixed(1)} s, ${result.writesPerSecond} writes/s, session TTL ${ttlMs} ms\n`);
    process.stdout.write(`session rows per store: peak ${peak}, after the last client ${end.join(' / ')}, ` +
      `${((ttlMs * 1.25 + 3_000) / 1000).toFixed(0)} s later ${settled.join(' / ')} (without expiry: ${done} for ever)\n`);
  }
} finally {
  await cluster.close();
}
