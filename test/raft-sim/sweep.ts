// A long seed sweep outside tap, with progress lines, split over JOBS processes:
//
//   JOBS=2 SEEDS=100000 node --import @tapjs/typescript/import test/raft-sim/sweep.ts
//
// Takes the same SEEDS / SEED_START / FAULTS / NODES variables as simulation.test.ts.
// Prints every failing seed with its replay command (and the full report of the first
// few), and exits 1 if any seed failed. The same sweep through tap, single process:
//   SEEDS=100000 npx tap --timeout 0 test/raft-sim/simulation.test.ts

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { selectSeeds } from './seeds.js';
import { replayCommand, runSeed } from './simulation.js';

const FULL_REPORTS = 3;

/** Runs seeds [start, start+count) in this process; returns how many failed. */
function sweep(start: number, count: number, tag: string): number {
  const sel = selectSeeds(process.env, count);
  const opts = { faults: sel.faults, ...(sel.nodes !== undefined ? { nodes: sel.nodes } : {}) };
  const started = Date.now();
  const every = Math.max(1, Math.min(5000, Math.floor(count / 10)));
  let failed = 0;
  for (let seed = start; seed < start + count; seed++) {
    const r = runSeed({ seed, ...opts });
    if (r.violation) {
      failed++;
      if (failed <= FULL_REPORTS) console.log(r.report);
      console.log(`${tag}FAIL seed ${seed}: ${r.violation.message.split('\n')[0]} — replay: ${replayCommand(seed, opts)}`);
    }
    const done = seed - start + 1;
    if (done % every === 0 || done === count) {
      console.log(`${tag}${done}/${count} seeds (from ${start}), ${failed} failed, ${((Date.now() - started) / 1000).toFixed(0)}s`);
    }
  }
  return failed;
}

/** Splits the range over `jobs` child processes running this script; returns how many jobs failed. */
async function fanOut(start: number, count: number, jobs: number): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const per = Math.ceil(count / jobs);
  const children: Promise<number>[] = [];
  for (let j = 0; j < jobs && j * per < count; j++) {
    const env = {
      ...process.env, JOBS: '1', SEED_START: String(start + j * per), SEEDS: String(Math.min(per, count - j * per)),
      SWEEP_TAG: `[job ${j + 1}] `,
    };
    const child = spawn(process.execPath, [...process.execArgv, script], { env, stdio: 'inherit' });
    children.push(new Promise((resolve) => child.on('exit', (code) => resolve(code === 0 ? 0 : 1))));
  }
  return (await Promise.all(children)).reduce((a, b) => a + b, 0);
}

const sel = selectSeeds({ ...process.env, SEED: '' }, 100_000);
const jobs = Number(process.env.JOBS ?? '1');
if (!Number.isSafeInteger(jobs) || jobs < 1) throw new RangeError(`JOBS must be a positive integer, got ${process.env.JOBS}`);
const failures = jobs > 1 ? await fanOut(sel.start, sel.count, jobs) : sweep(sel.start, sel.count, process.env.SWEEP_TAG ?? '');
process.exitCode = failures > 0 ? 1 : 0;
