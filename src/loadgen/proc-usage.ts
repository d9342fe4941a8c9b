// CPU and memory of other processes (the stores under test) over a benchmark, from
// /proc/<pid>/stat (utime + stime, in clock ticks) and /proc/<pid>/status (VmRSS): the
// CPU share is the ticks used between the first and last sample over the wall time; the
// RSS is the peak of the samples. Linux only; elsewhere every figure is null.

import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: clock ticks per second in /proc/<pid>/stat (100 on every common build). */
const TICKS_PER_SECOND = 100;

export interface ProcUsage {
  readonly pid: number;
  readonly label: string;
  /** Share of one core used over the window (1.0 = one core busy); null if unreadable. */
  readonly cpu: number | null;
  readonly peakRssBytes: number | null;
}

/**
 * The fields of /proc/<pid>/stat from the third (the state) on, so that field n of proc(5)
 * is at index n - 3; undefined when the process is gone or this is not Linux.
 */
export function procStatFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU the process has used, user and system (utime + stime), in clock ticks. */
export function cpuTicks(pid: number): number | undefined {
  const f = procStatFields(pid);
  return f ? Number(f[11]) + Number(f[12]) : undefined; // utime, stime (fields 14 and 15)
}

/** A status line's size in bytes (`VmRSS`, `VmHWM`: the resident set now, its peak). */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const rssBytes = (pid: number): number | undefined => statusBytes(pid, 'VmRSS');

/** Samples the processes every `everyMs` until stop() returns their usage over the window. */
export function watchProcesses(procs: ReadonlyArray<{ pid: number; label: string }>, everyMs = 250): { stop(): ProcUsage[] } {
  const t0 = performance.now();
  const first = procs.map((p) => cpuTicks(p.pid));
  const peak = procs.map((p) => rssBytes(p.pid) ?? 0);
  const sample = () => procs.forEach((p, i) => { peak[i] = Math.max(peak[i]!, rssBytes(p.pid) ?? 0); });
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const seconds = (performance.now() - t0) / 1000;
      return procs.map((p, i) => {
        const a = first[i];
        const b = cpuTicks(p.pid);
        return {
          pid: p.pid, label: p.label,
          cpu: a === undefined || b === undefined || seconds <= 0 ? null : (b - a) / TICKS_PER_SECOND / seconds,
          peakRssBytes: peak[i]! > 0 ? peak[i]! : null,
        };
      });
    },
  };
}
