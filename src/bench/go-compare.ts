// `npm run bench:etcd-go`: tinykv and etcd side by side, each driven by a lean Go client, so
// that the figures compare servers and not a Node client against another (`npm run
// bench:etcd` does that). etcd is driven by its own `benchmark` tool (from Debian's etcd
// source package), tinykv by tools/gobench/tinykv-benchmark, both built by
// tools/gobench/build.sh into build/gobench/ (the npm script runs it first). Both tools
// print etcd's pkg/report text, read here the same way.
//
// Every round starts fresh clusters (3 tinykv stores, 3 etcd members; heartbeat 100 ms,
// election 1 s, fsync on), preloads both with the Go tools, warms up, then runs every
// workload with the systems one after another, their order alternated; tinykv twice, with
// one unary call per request (like for like with etcd's tool) and over its BatchCommands
// streams. Per run: req/s, p50/p99, errors, and CPU per request from /proc for the leader,
// the three servers and the Go client. The report is the median of the rounds, as Markdown
// (also on stdout) and JSON in bench-results/ (ignored by git).
//
// Flags: --reps N (rounds, default 3), --keys N (preloaded, default 100000), --only LIST
// (workloads: put1,put16,put64,get1,get64,scan64), --total-scale X (requests per run ×X;
// default 1: 2,000 for put ×1 up to 40,000 for get ×64), --conns A,B,C (connections for
// ×1, ×16, ×64; default 1,4,8), --warmup N (requests of each warm-up run, default 1000),
// --memory-keys N (after the rounds, fresh clusters: every server's RSS at idle and after N
// keys written; default 0, skipped).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { etcdVersion } from './etcd-cluster.js';
import { toolPath } from './go-tools.js';
import { RUNNERS, WORKLOADS, memoryPhase, runRound, type RoundOptions, type RunRecord } from './go-rounds.js';
import { markdown, summarize, type Header } from './go-report.js';
import { intFlag } from './real-cluster.js';
import { say } from './side-by-side.js';

interface Options extends RoundOptions {
  readonly reps: number;
  readonly memoryKeys: number;
  readonly connsList: readonly number[];
}

function parseFlags(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      reps: { type: 'string' }, keys: { type: 'string' }, only: { type: 'string' }, 'total-scale': { type: 'string' },
      conns: { type: 'string' }, warmup: { type: 'string' }, 'memory-keys': { type: 'string' },
    },
  });
  const only = values.only?.split(',');
  const workloads = only ? WORKLOADS.filter((w) => only.includes(w.name)) : WORKLOADS;
  if (workloads.length === 0 || (only && workloads.length !== only.length)) {
    throw new RangeError(`--only: expected some of ${WORKLOADS.map((w) => w.name).join(',')}, got ${values.only}`);
  }
  const totalScale = Number(values['total-scale'] ?? '1');
  if (!(totalScale > 0)) throw new RangeError(`--total-scale must be a number above 0, got ${values['total-scale']}`);
  const connsList = (values.conns ?? '1,4,8').split(',').map((c) => intFlag('conns', c, 1));
  if (connsList.length !== 3) throw new RangeError(`--conns: expected three counts (for ×1, ×16, ×64), got ${values.conns}`);
  return {
    reps: intFlag('reps', values.reps ?? '3', 1),
    keys: intFlag('keys', values.keys ?? '100000', 100),
    workloads, totalScale, connsList,
    conns: (clients) => connsList[clients <= 1 ? 0 : clients <= 16 ? 1 : 2]!,
    warmup: intFlag('warmup', values.warmup ?? '1000', 1),
    memoryKeys: intFlag('memory-keys', values['memory-keys'] ?? '0', 0),
  };
}

function commit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseFlags(argv);
  const version = etcdVersion();
  if (!version) throw new Error('etcd is not installed here (Debian: apt-get install etcd-server etcd-client)');
  for (const r of RUNNERS) if (!existsSync(toolPath(r))) throw new Error(`${toolPath(r)} is missing: run bash tools/gobench/build.sh`);
  const date = new Date().toISOString();
  say(`bench:etcd-go: ${version}; ${o.reps} round(s), ${o.keys} keys preloaded, workloads ${o.workloads.map((w) => w.name).join(',')}`);
  const runs: RunRecord[] = [];
  for (let round = 0; round < o.reps; round++) runs.push(...await runRound(round, o));
  const memory = o.memoryKeys > 0 ? await memoryPhase(o.memoryKeys) : undefined;

  const header: Header = {
    commit: commit(), date, etcdVersion: version, machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    flags: argv.join(' '), reps: o.reps, keys: o.keys, conns: o.connsList,
  };
  const summary = summarize(o.workloads, o.keys, runs);
  const md = markdown(header, summary, memory);
  const outDir = resolve('bench-results');
  mkdirSync(outDir, { recursive: true });
  const stamp = date.replace(/[-:]/g, '').replace(/\..*$/, '');
  writeFileSync(join(outDir, `etcd-go-compare-${stamp}.md`), md);
  writeFileSync(join(outDir, `etcd-go-compare-${stamp}.json`), `${JSON.stringify({ ...header, summary, memory, runs }, null, 2)}\n`);
  process.stdout.write(md);
  say(`written: bench-results/etcd-go-compare-${stamp}.md and .json`);
}

main().catch((e: Error) => {
  say(`bench:etcd-go: ${e.message}`);
  process.exitCode = 1;
});
