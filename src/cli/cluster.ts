// `tinykv cluster up|down|status`: the whole local cluster described by the cluster file.
// Parses and prints only; process control is src/orchestrator's.

import type { Command } from 'commander';
import type { Membership, StoreStatusRow } from '../orchestrator/status.js';
import type { UpResult } from '../orchestrator/up.js';
import { clusterConfigOf, processLocked, startProgress } from './context.js';
import type { CliIo } from './io.js';
import { DEFAULT_UP_TIMEOUT_MS, jsonOption, timeoutOption, writeOutOf } from './options.js';

export function registerCluster(program: Command, io: CliIo): Command {
  const cluster = program
    .command('cluster')
    .summary('start, stop and inspect the local cluster')
    .description('Start, stop and inspect the local cluster: one store process per store in the cluster file.');

  cluster
    .command('up')
    .usage('[--timeout <ms>]')
    .summary('start every store in the background and wait for a leader')
    .description(
      'Start every store listed in the cluster file as a background process, with its data and log ' +
        'under data_dir/store-<id>/, and wait until every store answers and a leader is elected. ' +
        'Stores that already run are left alone. Fails without starting anything if a store\'s port ' +
        'is held by another program. -w json: {"stores":[{"store_id","pid","how"}],"leader_id","term","ms"}.',
    )
    .addOption(timeoutOption(DEFAULT_UP_TIMEOUT_MS, 'wait at most this many milliseconds for a leader (exit 3)'))
    .action(async (opts: { timeout: number }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const progress = await startProgress(io, `starting ${cfg.stores.length} stores from ${cfg.file}`);
      const { clusterUp } = await import('../orchestrator/up.js');
      let result: UpResult;
      try {
        result = await processLocked(cmd, 'cluster up', (c) => clusterUp(c, { timeoutMs: opts.timeout, onProgress: progress.update }), io);
      } finally {
        progress.stop();
      }
      io.stdout(writeOutOf(cmd) === 'json'
        ? `${JSON.stringify({
          stores: result.stores.map((s) => ({ store_id: s.storeId, pid: s.pid, how: s.how })),
          leader_id: result.leaderId, term: result.term, ms: result.elapsedMs,
        })}\n`
        : formatUp(result, cfg.stores));
    });

  cluster
    .command('down')
    .usage('[--purge]')
    .summary('stop every store process')
    .description(
      'Stop every store process of the cluster (SIGTERM, then SIGKILL after a grace period). ' +
        'Data stays on disk unless --purge is given. -w json: {"stores":[{"store_id","how","pid"}],"purged"} ' +
        '(how: stopped, killed, not-running, external; pid null when not running).',
    )
    .option('--purge', "also delete every store's data directory (raftdb, kvdb, log)")
    .action(async (opts: { purge?: boolean }, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { clusterDown } = await import('../orchestrator/down.js');
      const result = await processLocked(cmd, 'cluster down', (c) => clusterDown(c, { purge: opts.purge === true, onProgress: (l) => io.stderr(`${l}\n`) }), io, opts.purge === true);
      if (writeOutOf(cmd) === 'json') {
        const stores = result.stores.map((s) => ({ store_id: s.storeId, how: s.how, pid: 'pid' in s ? s.pid : null }));
        io.stdout(`${JSON.stringify({ stores, purged: result.purged })}\n`);
        return;
      }
      const lines = result.stores.map((s) => {
        if (s.how === 'not-running') return `store ${s.storeId}: not running`;
        if (s.how === 'external') return `store ${s.storeId}: left running (pid ${s.pid}, not started by cluster up)`;
        return `store ${s.storeId}: ${s.how} (pid ${s.pid})`;
      });
      if (result.purged) lines.push(`data deleted under ${cfg.dataDir}`);
      io.stdout(lines.map((l) => `${l}\n`).join(''));
    });

  cluster
    .command('status')
    .usage('[--json]')
    .summary('show each store: address, process, raft role and indexes')
    .description(
      'Show each store of the cluster file: its address, its process, and its raft state (role, ' +
        'term, leader, commit/applied/last index). A store that is down or does not answer has no role. ' +
        '-w table adds kvdb\'s size, the p99 of the last 1,024 fsyncs, the process RSS and the metrics address ' +
        '(Prometheus text at http://<addr>/metrics).',
    )
    .addOption(jsonOption())
    .action(async (_opts: unknown, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { clusterStatus, membershipOf } = await import('../orchestrator/status.js');
      const rows = await clusterStatus(cfg);
      const members = membershipOf(rows);
      const removed = cfg.removedStores.map((s) => s.id);
      const w = writeOutOf(cmd);
      io.stdout(w === 'json' ? `${statusJson(rows, members, removed)}\n` : statusTable(rows, members, removed, w === 'table'));
    });

  cluster
    .command('health')
    .usage('[-w json]')
    .summary('exit 0 only if a leader is elected and a majority of voters answers')
    .description(
      'Check that the cluster can serve now: a leader is elected and a majority of the region\'s voters ' +
        'answers. Prints one line and exits 0 if so; otherwise prints why on stderr and exits 3. ' +
        '-w json: {"healthy","leader_id","term","voters","answering"} on success.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const { clusterHealth } = await import('../orchestrator/health.js');
      const h = await clusterHealth(cfg);
      io.stdout(writeOutOf(cmd) === 'json'
        ? `${JSON.stringify({ healthy: true, leader_id: h.leaderId, term: h.term, voters: h.voters, answering: h.answering })}\n`
        : `healthy: store ${h.leaderId} leads (term ${h.term}); ${h.answering} of ${h.voters} voters answer\n`);
    });

  return cluster;
}

function formatUp(r: UpResult, stores: ReadonlyArray<{ id: number; addr: string }>): string {
  const how = {
    started: 'started',
    'already-running': 'already running',
    resumed: 'was paused: resumed',
    external: 'running, not started by cluster up',
  };
  const lines = r.stores.map((s) => {
    const addr = stores.find((x) => x.id === s.storeId)?.addr ?? '';
    return `store ${s.storeId}  ${addr}  pid ${s.pid}  ${how[s.how]}`;
  });
  lines.push(`leader: store ${r.leaderId} (term ${r.term}); ready in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  return lines.map((l) => `${l}\n`).join('');
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** "sending 1, installed 4211", or "-" when there is nothing to say. */
function snapshotCell(r: StoreStatusRow): string {
  const parts: string[] = [];
  if (r.snapshotsSending) parts.push(`sending ${r.snapshotsSending}`);
  if (r.snapshotsReceiving) parts.push(`receiving ${r.snapshotsReceiving}`);
  if (r.lastSnapshotInstalled) parts.push(`installed ${r.lastSnapshotInstalled}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

/** voter / learner / - (not a member), as the leader sees it; null without a leader. */
function memberCell(id: number, m: Membership | null): { member: string | null; match: number | null } {
  if (!m) return { member: null, match: null };
  const v = m.voters.find((x) => x.storeId === id);
  const l = m.learners.find((x) => x.storeId === id);
  const x = v ?? l;
  return { member: v ? 'voter' : l ? 'learner' : 'none', match: x && m.leaderId !== null ? x.match : null };
}

/** Exactly the documented JSON shape, in this key order. */
export function statusJson(rows: readonly StoreStatusRow[], m: Membership | null = null, removed: readonly number[] = []): string {
  return JSON.stringify({
    stores: rows.map((r) => ({
      id: r.id,
      addr: r.addr,
      pid: r.pid,
      alive: r.alive,
      role: r.role,
      term: r.term,
      leader_id: r.leaderId,
      commit_index: r.commitIndex,
      applied_index: r.appliedIndex,
      last_index: r.lastIndex,
      truncated_index: r.truncatedIndex,
      raftdb_bytes: r.raftdbBytes,
      kvdb_bytes: r.kvdbBytes,
      fsync_p99_ms: r.fsyncP99Ms,
      rss_bytes: r.rssBytes,
      metrics_addr: r.metricsAddr,
      snapshots_sending: r.snapshotsSending,
      snapshots_receiving: r.snapshotsReceiving,
      last_snapshot_installed: r.lastSnapshotInstalled,
      member: memberCell(r.id, m).member,
      match: memberCell(r.id, m).match,
    })),
    membership: m && {
      leader_id: m.leaderId,
      conf_ver: m.confVer,
      voters: m.voters.map((x) => x.storeId),
      learners: m.learners.map((x) => x.storeId),
    },
    removed_stores: removed,
  });
}

/**
 * The status table; `wide` (-w table) adds kvdb's size, the fsync p99, the process's RSS
 * and the metrics address.
 */
export function statusTable(rows: readonly StoreStatusRow[], m: Membership | null = null, removed: readonly number[] = [], wide = false): string {
  const head = ['STORE', 'ADDR', 'PID', 'PROCESS', 'ROLE', 'MEMBER', 'MATCH', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAST', 'TRUNCATED', 'RAFTDB', 'SNAPSHOTS'];
  if (wide) head.push('KVDB', 'FSYNC P99', 'RSS', 'METRICS');
  const cell = (v: string | number | null) => (v === null ? '-' : String(v));
  const bytes = (n: number | null) => (n === null ? '-' : formatBytes(n));
  const body = rows.map((r) => [
    cell(r.id), r.addr, cell(r.pid), r.process === 'paused' ? 'stopped (SIGSTOP)' : r.process, cell(r.role), cell(memberCell(r.id, m).member), cell(memberCell(r.id, m).match), cell(r.term),
    cell(r.leaderId), cell(r.commitIndex), cell(r.appliedIndex), cell(r.lastIndex),
    cell(r.truncatedIndex), bytes(r.raftdbBytes), snapshotCell(r),
    ...(wide ? [bytes(r.kvdbBytes), r.fsyncP99Ms === null ? '-' : `${r.fsyncP99Ms.toFixed(2)} ms`, bytes(r.rssBytes), cell(r.metricsAddr)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const notes = rows.flatMap((r) => (r.error && r.alive ? [`store ${r.id}: no answer: ${r.error}`] : []));
  const ids = (xs: readonly { storeId: number }[]) => xs.map((x) => x.storeId).join(', ') || '-';
  const whose = m?.leaderId != null ? `store ${m.leaderId} leads` : 'no leader answers: as the stores have applied it';
  notes.push(m ? `membership (${whose}): conf_ver ${m.confVer}; voters ${ids(m.voters)}; learners ${ids(m.learners)}` : 'membership: unknown (no store answers)');
  if (removed.length > 0) notes.push(`removed from the cluster: store ${removed.join(', ')}`);
  return [...[head, ...body].map(fmt), ...notes].map((l) => `${l}\n`).join('');
}
