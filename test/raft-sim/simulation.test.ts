// Deterministic simulation of the Raft core over many seeds: each seed builds a 3- or
// 5-node group on a lossy, reordering, partitioning network with crashes and restarts,
// checks every safety invariant after every step, then heals everything and requires
// progress (see simulation.ts for one seed, invariants.ts for what is checked).
//
//   npx tap test/raft-sim/simulation.test.ts                       1,000 seeds (CI)
//   SEED=42 npx tap test/raft-sim/simulation.test.ts               one seed, every event printed
//   SEEDS=5000 SEED_START=1001 npx tap test/raft-sim/simulation.test.ts
//   SEEDS=100000 npx tap --timeout 0 test/raft-sim/simulation.test.ts   a big sweep
//   FAULTS=commitPreviousTermByCount SEED=7 npx tap test/raft-sim/simulation.test.ts
//                                                                  replay a self-test catch
//
// For a big sweep outside tap, over several processes, with progress lines:
//   JOBS=2 SEEDS=100000 node --import @tapjs/typescript/import test/raft-sim/sweep.ts
//
// A failing seed prints the broken invariant, the cluster state, its last 60 events and
// the command that replays it.

import t from 'tap';
import { selectSeeds } from './seeds.js';
import { replayCommand, runSeed } from './simulation.js';
import type { SimStats } from './simulation.js';

const DEFAULT_SEEDS = 1000;
/** Full reports for the first few failures; one line each after that. */
const FULL_REPORTS = 3;

const sel = selectSeeds(process.env, DEFAULT_SEEDS);
const nodes = sel.nodes !== undefined ? { nodes: sel.nodes } : {};

if (sel.single !== undefined) {
  const seed = sel.single;
  t.test(`seed ${seed}`, async (t) => {
    const lines: string[] = [];
    const r = runSeed({ seed, faults: sel.faults, ...nodes, sink: (l) => lines.push(l) });
    t.comment(`settings: ${r.describe}`);
    t.comment(lines.join('\n'));
    if (r.report) {
      t.comment(r.report);
      t.fail(`seed ${seed}: ${r.violation!.message.split('\n')[0]}`);
    } else {
      t.pass(`seed ${seed} passed: ${formatStats(r.stats)}`);
    }
  });
} else {
  const last = sel.start + sel.count - 1;
  t.test(`seeds ${sel.start}..${last}`, async (t) => {
    const started = Date.now();
    const total: Record<keyof SimStats, number> = {
      steps: 0, committed: 0, leaderTerms: 0, crashes: 0, proposals: 0, readStates: 0, livenessTicks: 0,
      compactions: 0, snapshotsInstalled: 0, confChanges: 0, transfers: 0,
    };
    let failures = 0;
    for (let seed = sel.start; seed <= last; seed++) {
      const r = runSeed({ seed, faults: sel.faults, ...nodes });
      for (const k of Object.keys(total) as (keyof SimStats)[]) total[k] += r.stats[k];
      if (!r.violation) continue;
      failures++;
      if (failures <= FULL_REPORTS) t.comment(r.report!);
      t.fail(`seed ${seed}: ${r.violation.message.split('\n')[0]} — replay: ${replayCommand(seed, sel)}`);
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    t.comment(`${sel.count} seeds in ${secs}s: ${formatStats(total)}`);
    if (failures === 0) t.pass(`${sel.count} seeds kept every invariant`);
  });
}

if (sel.single === undefined) {
  t.test('a seed replays event for event', async (t) => {
    const runs = [0, 1].map(() => {
      const lines: string[] = [];
      runSeed({ seed: sel.start, faults: sel.faults, ...nodes, sink: (l) => lines.push(l) });
      return lines;
    });
    t.ok(runs[0]!.length > 100, `seed ${sel.start} produced ${runs[0]!.length} events`);
    t.same(runs[1], runs[0], 'two runs of one seed produce the same trace');
  });
}

function formatStats(s: SimStats): string {
  return `${s.steps} steps, ${s.committed} entries committed, ${s.leaderTerms} leader terms, ${s.crashes} crashes, ` +
    `${s.proposals} proposals accepted, ${s.readStates} reads served, ${s.compactions} compactions, ` +
    `${s.snapshotsInstalled} snapshots installed, ${s.confChanges} conf changes and ${s.transfers} leader transfers proposed, ` +
    `${s.livenessTicks} ticks to recover`;
}
