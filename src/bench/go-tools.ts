// The two Go load generators of `npm run bench:etcd-go` (built by tools/gobench/build.sh
// into build/gobench/): etcd's own `benchmark` tool and tinykv's `tinykv-benchmark`, which
// prints the same report (etcd's pkg/report). Here: the arguments each takes for one kind
// of load, running one with the servers' CPU read from /proc around it, and reading its
// report.

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuTicks, procStatFields } from '../loadgen/proc-usage.js';
import type { ServerProc } from './side-by-side.js';

/** Where tools/gobench/build.sh puts the binaries (relative to dist/bench/). */
export const GO_BIN_DIR = fileURLToPath(new URL('../../build/gobench/', import.meta.url));

export const KEY_SIZE = 16;
export const VALUE_SIZE = 64;
/** The key every get reads, and the 100 keys every scan covers: [SCAN_START, SCAN_END). */
export const GET_KEY = 'bench/get';
export const SCAN_KEYS = Array.from({ length: 100 }, (_, i) => `bench/scan/${String(i).padStart(3, '0')}`);
export const SCAN_START = SCAN_KEYS[0]!;
export const SCAN_END = 'bench/scan/100';

/** Who drives the load: etcd's tool, or tinykv's in one of its two modes. */
export type Runner = 'etcd' | 'tinykv-unary' | 'tinykv-batch';

/** One run's load, in the terms both tools share. */
export interface Load {
  readonly kind: 'put' | 'get' | 'scan';
  readonly clients: number;
  readonly conns: number;
  readonly total: number;
  /** put: keys drawn from this many (the preloaded ones). */
  readonly keySpace: number;
  /** put: keys 0, 1, 2, ... in order instead of at random (the preload). */
  readonly sequential?: boolean;
}

/** The Go tool's command line for `load` against the servers at `endpoints`. */
export function toolArgs(runner: Runner, load: Load, endpoints: readonly string[]): string[] {
  const common = ['--endpoints', endpoints.join(','), '--conns', String(load.conns), '--clients', String(load.clients), '--total', String(load.total)];
  const put = ['--key-size', String(KEY_SIZE), '--val-size', String(VALUE_SIZE), '--key-space-size', String(load.keySpace), ...(load.sequential ? ['--sequential-keys'] : [])];
  if (runner === 'etcd') {
    const cmd = load.kind === 'put' ? ['put', ...put] : load.kind === 'get' ? ['range', GET_KEY, '--consistency', 'l'] : ['range', SCAN_START, SCAN_END, '--consistency', 'l'];
    return [...cmd, ...common, '--target-leader'];
  }
  const cmd = load.kind === 'put' ? ['put', ...put] : load.kind === 'get' ? ['get', '--key', GET_KEY] : ['scan', '--key', SCAN_START, '--end', SCAN_END];
  return [...cmd, ...common, '--mode', runner === 'tinykv-unary' ? 'unary' : 'batch'];
}

export function toolPath(runner: Runner): string {
  return `${GO_BIN_DIR}${runner === 'etcd' ? 'etcd-benchmark' : 'tinykv-benchmark'}`;
}

/** What etcd's report says about one run. */
export interface Report {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests that failed (the report's error distribution, summed). */
  readonly errors: number;
}

/** Reads etcd's pkg/report text; throws when it holds neither a summary nor errors. */
export function parseReport(text: string): Report {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const reqPerSec = num(/^\s*Requests\/sec:\s*([\d.]+)\s*$/m);
  const errorSection = /^Error distribution:\s*$/m.exec(text);
  let errors = 0;
  if (errorSection) {
    for (const m of text.slice(errorSection.index).matchAll(/^\s*\[(\d+)\]\t/gm)) errors += Number(m[1]);
  }
  if (reqPerSec === undefined && !errorSection) throw new Error('no report in its output');
  const secs = (p: string) => (num(new RegExp(`^\\s*${p}% in ([\\d.]+) secs\\.\\s*$`, 'm')) ?? NaN) * 1000;
  return { reqPerSec: reqPerSec ?? 0, p50Ms: secs('50'), p99Ms: secs('99'), errors };
}

/** Linux's clock ticks per second in /proc/<pid>/stat (USER_HZ). */
export const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && Number.isSafeInteger(n) && n > 0 ? n : 100;
})();

/** CPU used by this process's children that have ended and been waited for (cutime + cstime), in ticks. */
function endedChildrenTicks(): number {
  const f = procStatFields('self');
  return f ? Number(f[13]) + Number(f[14]) : NaN; // cutime, cstime (fields 16 and 17)
}

/** One run of a Go tool: its report, how many requests succeeded and the CPU they cost. */
export interface Run extends Report {
  readonly requests: number;
  /** CPU milliseconds per successful request: the leader's, the servers' summed, the client's. */
  readonly leaderCpuMsPerReq: number;
  readonly serversCpuMsPerReq: number;
  readonly clientCpuMsPerReq: number;
}

/**
 * Runs the tool for `load`, reading the servers' CPU before and after. The client's own CPU
 * comes from this process's cutime/cstime (Linux adds a child's CPU there once it is waited
 * for), so no other child of this process may end meanwhile: runs go one at a time.
 */
export async function runTool(runner: Runner, load: Load, endpoints: readonly string[], servers: readonly ServerProc[], leader: ServerProc, timeoutMs: number): Promise<Run> {
  const ticks = () => servers.map((p) => cpuTicks(p.pid) ?? NaN);
  const before = ticks();
  const client0 = endedChildrenTicks();
  const out = await spawnTool(toolPath(runner), toolArgs(runner, load, endpoints), timeoutMs);
  const clientTicks = endedChildrenTicks() - client0;
  const after = ticks();
  let report: Report;
  try {
    report = parseReport(out);
  } catch (e) {
    throw new Error(`${runner} ${load.kind} ×${load.clients}: ${(e as Error).message}: ${lastLine(out)}`);
  }
  const requests = load.total - report.errors;
  const perReq = (t: number) => (requests > 0 ? (t / CLOCK_TICKS) * 1000 / requests : NaN);
  const used = servers.map((_, i) => after[i]! - before[i]!);
  return {
    ...report, requests,
    leaderCpuMsPerReq: perReq(used[servers.findIndex((p) => p.pid === leader.pid)] ?? NaN),
    serversCpuMsPerReq: perReq(used.reduce((a, b) => a + b, 0)),
    clientCpuMsPerReq: perReq(clientTicks),
  };
}

const lastLine = (text: string): string => text.trim().split(/[\r\n]+/).at(-1) ?? '';

/** Runs a binary to its end; resolves with stdout, rejects with its last line of stderr when it fails or overruns. */
function spawnTool(bin: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const name = bin.split('/').at(-1);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${name}: ${e.message} (run tools/gobench/build.sh)`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else if (signal === 'SIGKILL') reject(new Error(`${name} ${args[0]}: still running after ${timeoutMs / 1000} s, killed`));
      else reject(new Error(`${name} ${args.join(' ')}: exited with ${code ?? signal}: ${lastLine(stderr || stdout)}`));
    });
  });
}
