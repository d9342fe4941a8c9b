// `npm run bench:startup`: how long one CLI call takes from start to exit, next to Node's
// own start-up (`node -e 0`). Starts a 3-store cluster of its own (a temporary data
// directory, free loopback ports, `tinykv cluster up`), writes one key, then runs
// `node -e 0`, `tinykv get`, `tinykv put` and `tinykv --version` in turn, --runs times
// each (default 20), interleaved so that a slower moment of the machine hits all alike,
// and prints the median and p90 of each and the ratio of medians to `node -e 0`. Stops
// and deletes the cluster at the end. The target (issue 11) is `get` ≤ 1.5× `node -e 0`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePorts, intFlag } from './real-cluster.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'tinykv');

function run(cmd: string, args: readonly string[], timeoutMs: number): { ms: number; status: number | null; stderr: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: timeoutMs });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status, stderr: r.stderr };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
  const runs = intFlag('runs', values.runs, 3);
  if (runs > 1000) throw new RangeError('--runs must be at most 1000');
  const dir = mkdtempSync(join(tmpdir(), 'tinykv-startup-'));
  const file = join(dir, 'cluster.yaml');
  const ports = await freePorts(6);
  writeFileSync(file, [
    'data_dir: ./data', 'stores:',
    ...[0, 1, 2].map((i) => `  - id: ${i + 1}\n    addr: 127.0.0.1:${ports[i]}\n    metrics_addr: 127.0.0.1:${ports[i + 3]}`),
    '',
  ].join('\n'));
  const tinykv = (args: readonly string[], timeoutMs = 10_000) => run(process.execPath, [bin, '-c', file, ...args], timeoutMs);
  try {
    process.stderr.write('starting a 3-store cluster...\n');
    const up = tinykv(['cluster', 'up'], 60_000);
    if (up.status !== 0) throw new Error(`cluster up failed: ${up.stderr.trim()}`);
    const put = tinykv(['put', 'bench:startup', 'value']);
    if (put.status !== 0) throw new Error(`put failed: ${put.stderr.trim()}`);
    const commands: Array<{ name: string; once: () => { ms: number; status: number | null; stderr: string } }> = [
      { name: 'node -e 0', once: () => run(process.execPath, ['-e', '0'], 10_000) },
      { name: 'tinykv get', once: () => tinykv(['get', 'bench:startup']) },
      { name: 'tinykv put', once: () => tinykv(['put', 'bench:startup', 'value']) },
      { name: 'tinykv --version', once: () => tinykv(['--version']) },
    ];
    for (const c of commands) c.once(); // warm the page cache
    const times = commands.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) {
      commands.forEach((c, j) => {
        const r = c.once();
        if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr.trim()}`);
        times[j]!.push(r.ms);
      });
      if (process.stderr.isTTY) process.stderr.write(`\r${i + 1}/${runs} rounds`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    const base = quantile([...times[0]!].sort((a, b) => a - b), 0.5);
    console.log(`start to exit, ${runs} interleaved runs each (Node ${process.version})`);
    console.log('command            median ms   p90 ms   ÷ node -e 0');
    commands.forEach((c, j) => {
      const sorted = [...times[j]!].sort((a, b) => a - b);
      const median = quantile(sorted, 0.5);
      console.log(`${c.name.padEnd(18)} ${median.toFixed(1).padStart(9)} ${quantile(sorted, 0.9).toFixed(1).padStart(8)}   ${(median / base).toFixed(2).padStart(11)}`);
    });
  } finally {
    tinykv(['cluster', 'down', '--purge'], 60_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:startup: ${(err as Error).message}`);
  process.exitCode = 1;
});
