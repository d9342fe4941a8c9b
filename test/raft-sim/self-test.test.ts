// The simulation can fail: for each deliberate bug in FaultInjection, switched on in
// every node, run seeds until the simulation reports a safety violation (for
// resendOnStaleAck, a message loop: the message-rate invariant), and require
// that to happen within MAX_SEEDS seeds. The seed that caught it must pass with the
// bug switched off, so the catch is the bug's doing and not the simulator's.
//
// minorityQuorum (a quorum of 2) only differs from a majority with 5 nodes, so it runs
// on 5-node groups; the other bugs run on the usual mix of 3 and 5. The membership bugs
// need seeds that change membership (two in five): concurrentConfChanges and
// learnersCountInQuorum break the membership invariants; removedLeaderStepsDownAtOnce
// leaves a group without a leader, a liveness failure.

import t from 'tap';
import type { FaultInjection } from '../../src/raft/testing/index.js';
import { ALL_FAULTS } from './seeds.js';
import type { FaultName } from './seeds.js';
import { replayCommand, runSeed } from './simulation.js';

const MAX_SEEDS = 2000;

const NODES: Partial<Record<FaultName, number>> = { minorityQuorum: 5 };

for (const fault of ALL_FAULTS) {
  t.test(`the simulation catches ${fault}`, async (t) => {
    const faults: FaultInjection = { [fault]: true };
    const nodes = NODES[fault];
    const started = Date.now();
    const other = new Map<string, number>();
    for (let seed = 1; seed <= MAX_SEEDS; seed++) {
      const r = runSeed({ seed, faults, ...(nodes ? { nodes } : {}) });
      if (!r.violation) continue;
      const wanted = fault === 'resendOnStaleAck' ? r.violation.invariant === 'message rate'
        : fault === 'removedLeaderStepsDownAtOnce' ? r.violation.invariant === 'liveness' : r.violation.isSafety;
      if (!wanted) {
        // A liveness failure or a core assertion is not what this test is after.
        other.set(r.violation.invariant, (other.get(r.violation.invariant) ?? 0) + 1);
        continue;
      }
      const ms = Date.now() - started;
      t.comment(`${fault}: caught after ${seed} seed(s) in ${ms} ms — ${r.violation.message.split('\n')[0]}`);
      t.comment(`  replay: ${replayCommand(seed, { faults, ...(nodes ? { nodes } : {}) })}`);
      if (other.size > 0) t.comment(`  before that: ${[...other].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
      const clean = runSeed({ seed, ...(nodes ? { nodes } : {}) });
      t.equal(clean.violation?.message, undefined, `seed ${seed} passes with ${fault} off`);
      t.pass(`${fault} caught within ${MAX_SEEDS} seeds (at seed ${seed})`);
      return;
    }
    t.fail(`${fault}: no safety violation in ${MAX_SEEDS} seeds` +
      (other.size > 0 ? ` (other failures: ${[...other].map(([k, n]) => `${n}× ${k}`).join(', ')})` : ''));
  });
}
