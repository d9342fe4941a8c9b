// Shared setup of the end-to-end tests: a temporary cluster (data dir, cluster.yaml on
// free loopback ports, fast raft timing), the built `tinykv` CLI run as a child process,
// and a teardown that SIGKILLs every store process the test started — by PID, checked
// against the store's command line — even when the test failed.
//
// Needs `npm run build` first: the CLI is bin/tinykv → dist/bundle/*.cjs (or
// dist/cli/main.js without them), and stores run dist/node/main.js.

import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Test } from 'tap';
import { loadClusterConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/types.js';
import { isStoreCommandLine, readProc, storeProcessState } from '../../src/orchestrator/liveness.js';
import { readPidFile } from '../../src/orchestrator/pid-file.js';
import { makeTempDir, removeDir } from '../support/temp-dir.js';
import { eventually } from '../support/wait.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(root, 'bin', 'tinykv');

/**
 * Raft timing of every e2e cluster: one election timeout is 200-400 ms. E2E_TICK_MS=100
 * gives the default cluster file's timing (1-2 s), e.g. to measure failover as users see it.
 */
export const TICK_MS = Number(process.env.E2E_TICK_MS ?? 20);
export const ELECTION_TICKS = 10;
export const ELECTION_TIMEOUT_MS = TICK_MS * ELECTION_TICKS;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface TestCluster {
  readonly dir: string;
  readonly file: string;
  readonly cfg: ClusterConfig;
  /** Runs `tinykv -c <file> ...args`; never rejects. */
  cli(...args: string[]): Promise<CliResult>;
  /** Runs the CLI and fails the test unless it exits 0. */
  ok(...args: string[]): Promise<CliResult>;
  /** PIDs of the store processes that run now (from their pid files). */
  livePids(): number[];
  /** SIGKILLs every store process this cluster ever ran. */
  killAll(): void;
  /** Free ports reserved for stores added later (makeCluster's `spare`). */
  readonly sparePorts: readonly number[];
}

/** `n` distinct free ports on 127.0.0.1, found by binding port 0 (all held at once). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export function yamlFor(ports: readonly number[], extra = ''): string {
  const stores = ports.map((p, i) => `  - id: ${i + 1}\n    addr: 127.0.0.1:${p}\n`).join('');
  return (
    `data_dir: ./data\ncluster_id: e2e\nstores:\n${stores}` +
    // A low compaction threshold so real processes truncate their logs during every test.
    `raft:\n  tick_ms: ${TICK_MS}\n  election_ticks: ${ELECTION_TICKS}\n  heartbeat_ticks: 2\n  compact_log_threshold: 50\n` +
    `max_key_bytes: 256\nmax_value_bytes: 4096\n${extra}`
  );
}

/** A fresh cluster directory whose processes are killed and files removed in teardown. */
export async function makeCluster(
  t: Test, o: { stores?: number; keep?: boolean; spare?: number; maxValueBytes?: number; readMode?: 'read_index' | 'lease' } = {},
): Promise<TestCluster> {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js')) || !existsSync(join(root, 'dist', 'node', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the e2e tests');
  }
  // Removed in the teardown, after the stores that use it are killed.
  const dir = makeTempDir('tinykv-e2e-');
  const file = join(dir, 'cluster.yaml');
  const ports = await freePorts((o.stores ?? 3) + (o.spare ?? 0));
  let yaml = yamlFor(ports.slice(0, o.stores ?? 3));
  if (o.readMode) yaml = yaml.replace(/^raft:\n/m, `raft:\n  read_mode: ${o.readMode}\n`);
  writeFileSync(file, o.maxValueBytes ? yaml.replace(/^max_value_bytes: \d+$/m, `max_value_bytes: ${o.maxValueBytes}`) : yaml);
  const cfg = loadClusterConfig(file);
  const seen = new Set<number>();
  // Every store the file lists now (`store add` appends to it), removed ones included.
  const allStores = () => {
    let now = cfg;
    try {
      now = loadClusterConfig(file);
    } catch {
      // mid-edit or broken by the test itself: the stores it started with
    }
    return [...now.stores, ...now.removedStores];
  };

  const remember = (text: string) => {
    for (const m of text.matchAll(/\bpid (\d+)/g)) seen.add(Number(m[1]));
    for (const m of text.matchAll(/"pid":(\d+)/g)) seen.add(Number(m[1]));
  };
  const livePids = () => {
    const pids: number[] = [];
    for (const s of allStores()) {
      const rec = readPidFile(cfg, s.id);
      if (rec && storeProcessState(rec) !== 'dead') pids.push(rec.pid);
    }
    return pids;
  };
  const killed = new Set<number>();
  const killAll = () => {
    for (const pid of livePids()) seen.add(pid);
    for (const pid of seen) {
      const argv = readProc(pid)?.argv ?? [];
      // Only our stores: the command line names this cluster's file and a store of it.
      if (!allStores().some((s) => isStoreCommandLine(argv, cfg.file, s.id))) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // already gone
      }
    }
  };
  const cli = async (...args: string[]): Promise<CliResult> => {
    const t0 = performance.now();
    const { TINYKV_CONFIG: _ignored, ...env } = process.env;
    // tap preloads @tapjs/processinfo through NODE_OPTIONS and re-adds it to every spawn;
    // `env -u` drops it just before node starts, so the CLI and the stores it spawns run as
    // they would for a user (and about 300 ms faster per command).
    const r = await execa('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, bin, '-c', file, ...args], {
      reject: false,
      env: { ...env, NO_COLOR: '1' },
      extendEnv: false,
      timeout: 120_000,
      stdin: 'ignore',
      stripFinalNewline: false,
    });
    const out = { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), ms: performance.now() - t0 };
    remember(out.stdout);
    remember(out.stderr);
    return out;
  };
  const ok = async (...args: string[]): Promise<CliResult> => {
    const r = await cli(...args);
    if (r.code !== 0) t.fail(`tinykv ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r;
  };
  t.teardown(async () => {
    killAll();
    // Their files go once the killed stores are gone (a zombie holds no files open).
    await eventually('the killed stores exited', () => [...killed].every((pid) => (readProc(pid)?.state ?? 'Z') === 'Z'), { timeoutMs: 5000 });
    if (!o.keep) removeDir(dir);
  });
  return { dir, file, cfg, cli, ok, livePids, killAll, sparePorts: ports.slice(o.stores ?? 3) };
}

export interface JsonStatus {
  readonly id: number;
  readonly addr: string;
  readonly pid: number | null;
  readonly alive: boolean;
  readonly role: string | null;
  readonly term: number | null;
  readonly leader_id: number | null;
  readonly commit_index: number | null;
  readonly applied_index: number | null;
  readonly last_index: number | null;
  readonly truncated_index: number | null;
  readonly raftdb_bytes: number | null;
  readonly kvdb_bytes: number | null;
  readonly fsync_p99_ms: number | null;
  readonly rss_bytes: number | null;
  readonly metrics_addr: string | null;
  readonly snapshots_sending: number | null;
  readonly snapshots_receiving: number | null;
  readonly last_snapshot_installed: number | null;
}

/** `tinykv cluster status --json`, parsed. */
export async function status(c: TestCluster): Promise<JsonStatus[]> {
  const r = await c.cli('cluster', 'status', '--json');
  if (r.code !== 0) throw new Error(`cluster status exited ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { stores: JsonStatus[] }).stores;
}

/** The store that leads at the highest term, per `cluster status`. */
export function leaderIn(rows: readonly JsonStatus[]): JsonStatus | undefined {
  return rows.filter((r) => r.role === 'leader').sort((a, b) => (b.term ?? 0) - (a.term ?? 0))[0];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
