// `tinykv chaos run`: parses the options, holds the orchestrator lock for the run, shows
// progress, prints the verdict and the run folder, and turns the verdict into the exit
// code (0 linearizable, 5 not, 6 inconclusive). The run itself is src/chaos-run.

import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { FaultKind } from '../chaos-run/run-record.js';
import { CliError } from './errors.js';
import { exitNow } from './exit-codes.js';
import { clusterConfigOf, processLocked, startProgress } from './context.js';
import type { CliIo } from './io.js';
import { parsePositiveInt, parseProbability, writeOutOf } from './options.js';

const ALL_FAULTS: readonly FaultKind[] = ['kill', 'pause', 'partition', 'isolate', 'drop', 'transfer'];

interface RunOptions {
  readonly clients: number;
  readonly keys: number;
  readonly readRatio: number;
  readonly rate?: number;
  readonly duration: number;
  readonly faults: readonly FaultKind[];
  readonly interval?: number;
  readonly recovery: number;
  readonly seed?: number;
  readonly out?: string;
}

/** `30`, `30s`, `5m`, `1h` → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m?.[2] ?? 's'] ?? NaN;
  const ms = m ? Math.round(Number(m[1]) * unit) : NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidArgumentError('expected a duration such as 30s, 5m or 1h (a bare number is seconds).');
  return ms;
}

/** A comma-separated list of fault kinds, `all`, or `none`. */
export function parseFaults(value: string): FaultKind[] {
  const v = value.trim();
  if (v === 'all') return [...ALL_FAULTS];
  if (v === 'none') return [];
  const kinds = v.split(',').map((x) => x.trim());
  for (const k of kinds) {
    if (!ALL_FAULTS.includes(k as FaultKind)) throw new InvalidArgumentError(`unknown fault ${JSON.stringify(k)}; expected some of ${ALL_FAULTS.join(',')}, or all, or none.`);
  }
  return [...new Set(kinds as FaultKind[])];
}

function parseSeed(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new InvalidArgumentError('a seed is an integer from 0 to 4294967295.');
  return n;
}

function boundedInt(what: string, max: number): (v: string) => number {
  const positive = parsePositiveInt(what);
  return (v) => {
    const n = positive(v);
    if (n > max) throw new InvalidArgumentError(`${what} must be at most ${max}.`);
    return n;
  };
}

export function registerChaosRun(chaos: Command, io: CliIo): void {
  chaos
    .command('run')
    .usage('[--duration 60s] [--faults kill,pause,...] [--clients 4] [--seed n] [--out dir]')
    .summary('a Jepsen-style test: clients and faults, then a linearizability verdict and an HTML report')
    .description(
      'Run concurrent clients (put/get/delete/scan over a few hot keys of the run\'s own, under ' +
        'chaos-run/<start time>-<seed>/ and removed at the end, every value unique) against the ' +
        'running cluster while injecting faults one at a time (kill -9 and restart, pause, partitions, ' +
        'isolating the leader, message loss, leader transfers); then undo every fault, let the clients go on ' +
        'for a recovery phase, read every key once more, and judge the whole history with the linearizability ' +
        'checker. Writes the run folder: run.json, history.jsonl, faults.jsonl, verdict.json, logs/, and ' +
        'report.html (self-contained: opens offline). Exit 0: linearizable; 5: not linearizable; 6: the checker ' +
        'gave up. The same --seed (and options) replays the schedule of faults, not the timing. Ctrl-C stops ' +
        'early: faults are undone and what was recorded is judged; a second Ctrl-C quits at once (exit 130). ' +
        '-w json: {"verdict","summary","operations","faults","checker_ms","run_ms","out","report","seed"}.',
    )
    .addOption(new Option('--duration <time>', 'how long faults are injected (30s, 5m; a number is seconds)').default(60_000, '60s').argParser(parseDuration))
    .addOption(new Option('--faults <list>', `fault kinds, comma-separated: ${ALL_FAULTS.join(',')}; or all, or none`).default([...ALL_FAULTS], 'all').argParser(parseFaults))
    .addOption(new Option('--interval <ms>', 'mean time a fault is held (the gap between faults is 20-60% of it); default: twice the longest election timeout, at least 1000').argParser(parsePositiveInt('--interval')))
    .addOption(new Option('--clients <n>', 'concurrent clients, each its own session').default(4).argParser(boundedInt('--clients', 64)))
    .addOption(new Option('--keys <n>', 'size of the hot key space (k0, k1, ...)').default(5).argParser(boundedInt('--keys', 1000)))
    .addOption(new Option('--read-ratio <r>', 'fraction of operations that are reads (a tenth of them scans)').default(0.5).argParser(parseProbability))
    .addOption(new Option('--rate <ops/s>', 'at most this many operations per second over all clients (default: as fast as they go)').argParser(parsePositiveInt('--rate')))
    .addOption(new Option('--recovery <time>', 'traffic on the healed cluster after the faults').default(5000, '5s').argParser(parseDuration))
    .addOption(new Option('--seed <n>', 'seed of the workload and the fault schedule (default: random, printed)').argParser(parseSeed))
    .addOption(new Option('--out <dir>', 'the run folder (new or empty; default: data_dir/chaos-runs/<time>-seed<n>)'))
    .action(async (opts: RunOptions, cmd: Command) => {
      const cfg = clusterConfigOf(cmd);
      const seed = opts.seed ?? randomInt(0, 2 ** 31);
      const electionMs = 2 * cfg.raft.electionTicks * cfg.raft.tickMs;
      const intervalMs = opts.interval ?? Math.max(1000, 2 * electionMs);
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
      const outDir = opts.out ?? join(cfg.dataDir, 'chaos-runs', `${stamp}-seed${seed}`);
      const json = writeOutOf(cmd) === 'json';
      const { chaosRun } = await import('../chaos-run/run.js');
      const { orchestratorTarget } = await import('../chaos-run/target-orchestrator.js');
      const progress = await startProgress(io, `chaos run: seed ${seed}, ${opts.clients} clients, faults ${opts.faults.join(',') || 'none'} every ~${intervalMs} ms for ${opts.duration / 1000} s; folder ${outDir}`);
      const abort = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts === 1) {
          progress.update('stopping: undoing faults, then judging what was recorded (Ctrl-C again to quit at once)');
          abort.abort();
        } else {
          exitNow(new CliError('INTERRUPTED', 'chaos run: interrupted again, quit at once: faults may still be in place ' +
            '(tinykv chaos heal, and tinykv cluster up to resume paused or restart killed stores)'), io);
        }
      };
      process.on('SIGINT', onSigint);
      let result;
      try {
        result = await processLocked(cmd, 'chaos run', (c) => chaosRun(c, orchestratorTarget(c), {
          clients: opts.clients, keys: opts.keys, readRatio: opts.readRatio, rate: opts.rate ?? null,
          durationMs: opts.duration, faults: opts.faults, intervalMs, recoveryMs: opts.recovery, seed, outDir,
          signal: abort.signal, onProgress: progress.update,
          // A spinner line is rewritten in place; without a terminal each update is a new line.
          progressEveryMs: process.stderr.isTTY ? 1000 : 10_000,
        }), io);
      } finally {
        process.off('SIGINT', onSigint);
        progress.stop();
      }
      const v = result.verdict;
      if (json) {
        io.stdout(`${JSON.stringify({
          verdict: v.status, summary: v.summary, operations: v.ops, faults: result.faults, checker_ms: v.checkerMs,
          run_ms: Math.round(v.runMs), out: result.outDir, report: result.report, seed,
        })}\n`);
      } else {
        io.stdout(`${v.summary}\n${result.faults} faults${result.stopped ? ' (stopped early)' : ''}; seed ${seed}\nreport: ${result.report}\n`);
      }
      if (v.status === 'violation') throw new CliError('NOT_LINEARIZABLE', `not linearizable: ${v.explanation?.split('\n')[0] ?? v.summary} (see ${result.report})`);
      if (v.status === 'inconclusive') throw new CliError('CHECK_INCONCLUSIVE', `${v.summary} (see ${result.report})`);
    });
}
