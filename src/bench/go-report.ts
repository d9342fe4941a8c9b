// The report of `npm run bench:etcd-go`: the median of the rounds for every workload, etcd
// against tinykv's unary client (like for like) and against its batching client, and the
// memory phase; as Markdown and as the object written to JSON.

import type { Runner } from './go-tools.js';
import { FILL, type MemoryResult, type MemoryRow, type RunRecord, type Workload } from './go-rounds.js';
import { median } from './side-by-side.js';

/** The median of a runner's rounds for one workload (errors summed over the rounds). */
export interface Stats {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly leaderCpuMsPerReq: number;
  readonly serversCpuMsPerReq: number;
  readonly clientCpuMsPerReq: number;
  readonly errors: number;
  readonly rounds: number;
}

export interface Row {
  readonly workload: string;
  readonly label: string;
  readonly etcd: Stats;
  readonly tinykv: Stats;
  /** tinykv's req/s ÷ etcd's. */
  readonly ratio: number;
}

export interface Header {
  readonly commit: string;
  readonly date: string;
  readonly etcdVersion: string;
  readonly machine: string;
  readonly flags: string;
  readonly reps: number;
  readonly keys: number;
  readonly conns: readonly number[];
}

export interface Summary {
  /** etcd against tinykv's unary client, the preload (FILL) last. */
  readonly unary: Row[];
  readonly batch: Row[];
}

function stats(runs: readonly RunRecord[]): Stats {
  const m = (f: (r: RunRecord) => number) => median(runs.map(f));
  return {
    reqPerSec: m((r) => r.reqPerSec), p50Ms: m((r) => r.p50Ms), p99Ms: m((r) => r.p99Ms),
    leaderCpuMsPerReq: m((r) => r.leaderCpuMsPerReq), serversCpuMsPerReq: m((r) => r.serversCpuMsPerReq),
    clientCpuMsPerReq: m((r) => r.clientCpuMsPerReq), errors: runs.reduce((n, r) => n + r.errors, 0), rounds: runs.length,
  };
}

export function summarize(workloads: readonly Workload[], keys: number, runs: readonly RunRecord[]): Summary {
  const of = (w: { name: string }, runner: Runner) => stats(runs.filter((r) => r.workload === w.name && r.runner === runner));
  const rows = (runner: Runner, ws: ReadonlyArray<{ name: string; label: string }>): Row[] => ws.map((w) => {
    const etcd = of(w, 'etcd');
    const tinykv = of(w, runner);
    return { workload: w.name, label: w.label, etcd, tinykv, ratio: tinykv.reqPerSec / etcd.reqPerSec };
  });
  const fill = { name: FILL, label: `preload: ${fmt(keys)} keys in order ×64` };
  return { unary: rows('tinykv-unary', [...workloads, fill]), batch: rows('tinykv-batch', workloads) };
}

const fmt = (n: number, digits = 0): string =>
  (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
/** CPU per request: three significant digits, enough for 0.0xx ms and for several ms. */
const cpu = (n: number): string => (Number.isFinite(n) ? (n >= 10 ? n.toFixed(1) : n.toPrecision(3)) : '-');
const pair = (a: string, b: string): string => `${a} / ${b}`;

const TABLE_HEAD = [
  '| workload | etcd req/s | tinykv req/s | tinykv ÷ etcd | etcd p50 / p99 ms | tinykv p50 / p99 ms | CPU ms/req, leader: etcd / tinykv | CPU ms/req, 3 servers: etcd / tinykv | client CPU ms/req: etcd / tinykv | errors: etcd / tinykv |',
  '|---|---|---|---|---|---|---|---|---|---|',
];

function tableRow(r: Row): string {
  const { etcd: e, tinykv: t } = r;
  return `| ${r.label} | ${fmt(e.reqPerSec)} | ${fmt(t.reqPerSec)} | **${fmt(r.ratio, 2)}** | ${pair(fmt(e.p50Ms, 1), fmt(e.p99Ms, 1))} | ${pair(fmt(t.p50Ms, 1), fmt(t.p99Ms, 1))} | ` +
    `${pair(cpu(e.leaderCpuMsPerReq), cpu(t.leaderCpuMsPerReq))} | ${pair(cpu(e.serversCpuMsPerReq), cpu(t.serversCpuMsPerReq))} | ` +
    `${pair(cpu(e.clientCpuMsPerReq), cpu(t.clientCpuMsPerReq))} | ${pair(String(e.errors), String(t.errors))} |`;
}

function memoryLines(memory: MemoryResult): string[] {
  const name = (r: MemoryRow) => `${r.label}${r.leader ? ' (leader)' : ''}`;
  return [
    `## Memory: resident set of each server, fresh clusters, idle and after ${fmt(memory.keys)} keys written`, '',
    `Written with each Go tool at 64 clients over 8 connections (tinykv unary), keys in order: etcd at ${fmt(memory.fills.etcd)} keys/s, ` +
      `tinykv at ${fmt(memory.fills.tinykv)} keys/s. MiB; peak is VmHWM over the process's life.`, '',
    '| system | process | idle after start | after the keys | peak |', '|---|---|---|---|---|',
    ...memory.rows.map((r) => `| ${r.system} | ${name(r)} | ${fmt(r.idleMiB)} | ${fmt(r.afterMiB)} | ${fmt(r.peakMiB)} |`), '',
  ];
}

export function markdown(h: Header, s: Summary, memory?: MemoryResult): string {
  const lines = [
    '# tinykv and etcd, each driven by a lean Go client', '',
    `Commit ${h.commit}, ${h.date}; ${h.etcdVersion}; ${h.machine}. Flags: \`${h.flags || '(defaults)'}\`.`, '',
    `Each system: 3 nodes on loopback, heartbeat 100 ms, election timeout 1 s, fsync on; fresh clusters every round, ` +
      `preloaded with ${fmt(h.keys)} keys of 16 B with 64 B values. Median of ${h.reps} round${h.reps === 1 ? '' : 's'}, the systems run one after ` +
      `another for each workload, their order alternated. etcd is driven by its own \`benchmark\` tool (\`--target-leader\`), tinykv by ` +
      `\`tinykv-benchmark\` (tools/gobench), which prints the same report. ×N is N clients, over ${h.conns[0]}, ${h.conns[1]} and ${h.conns[2]} ` +
      'connections for ×1, ×16 and ×64 on both sides. CPU is milliseconds per request (= seconds per 1,000 requests) from /proc: ' +
      "the leader's, the three servers' summed, and the Go client's own. Latencies as etcd's pkg/report gives them for both tools (0.1 ms resolution); " +
      'errors are summed over the rounds.', '',
    '## Like for like: one unary gRPC call per request on both sides', '',
    ...TABLE_HEAD, ...s.unary.map(tableRow), '',
    "## tinykv through its batching protocol (BatchCommands streams), against the same etcd runs", '',
    ...TABLE_HEAD, ...s.batch.map(tableRow), '',
    ...(memory ? memoryLines(memory) : []),
  ];
  return lines.join('\n');
}
