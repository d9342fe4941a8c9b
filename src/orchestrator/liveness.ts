// Is a recorded PID still our store? A PID is ours only while the process exists, is not
// a zombie, started at the recorded kernel start time and runs node/main.js with our
// --config and --store arguments. Anything else — a zombie, an exited process, a reused
// PID — counts as dead, so the orchestrator never signals a stranger.
//
// Linux reads /proc; elsewhere (no /proc) the check falls back to `kill(pid, 0)`.

import { existsSync, readFileSync } from 'node:fs';
import type { PidRecord } from './pid-file.js';

export type ProcessState = 'running' | 'paused' | 'dead';

export interface ProcInfo {
  /** The one-letter state of /proc/<pid>/stat: R, S, D, T (stopped), t, Z (zombie), X… */
  readonly state: string;
  readonly startTicks: number;
  readonly argv: readonly string[];
}

const HAVE_PROC = existsSync('/proc/self/stat');

/** What /proc says about `pid`, or undefined if there is no such process (or no /proc). */
export function readProc(pid: number): ProcInfo | undefined {
  if (!HAVE_PROC) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    return { state: fields[0] ?? '?', startTicks: Number(fields[19]), argv };
  } catch {
    return undefined;
  }
}

/** The kernel start time of `pid` (0 without /proc), taken when the record is written. */
export function startTicksOf(pid: number): number | undefined {
  if (!HAVE_PROC) return 0;
  return readProc(pid)?.startTicks;
}

/** True when `argv` is a store process `node …/node/main.js --config <config> --store <id>`. */
export function isStoreCommandLine(argv: readonly string[], config: string, storeId: number): boolean {
  const has = (flag: string, value: string) => argv.some((a, i) => a === flag && argv[i + 1] === value);
  return argv.some((a) => /[\\/]node[\\/]main\.js$/.test(a)) && has('--config', config) && has('--store', String(storeId));
}

/** The state of the store process a pid file records. */
export function storeProcessState(rec: PidRecord): ProcessState {
  if (!HAVE_PROC) return fallbackAlive(rec.pid) ? 'running' : 'dead';
  const info = readProc(rec.pid);
  if (!info || info.state === 'Z' || info.state === 'X' || info.state === 'x') return 'dead';
  if (info.startTicks !== rec.startTicks || !isStoreCommandLine(info.argv, rec.config, rec.storeId)) return 'dead';
  return info.state === 'T' || info.state === 't' ? 'paused' : 'running';
}

function fallbackAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
