// The nemesis against a fake cluster: a seed fixes the schedule (so `--seed` replays it),
// every fault it starts is undone before run() returns, kinds come round evenly, and a
// fault that cannot be injected is recorded with why instead of stopping the run.

import t from 'tap';
import { Nemesis, type FaultTarget } from './nemesis.js';
import type { FaultKind } from './run-record.js';

/** A cluster of three stores that records what was done to it; `failing` kinds throw. */
function fakeTarget(failing: readonly string[] = []) {
  const log: string[] = [];
  let leader = 1;
  const act = (what: string) => async () => {
    if (failing.some((f) => what.startsWith(f))) throw new Error(`${what}: refused\nsecond line`);
    log.push(what);
  };
  const target: FaultTarget = {
    stores: [1, 2, 3],
    leader: async () => leader,
    kill: (id) => act(`kill ${id}`)(),
    restart: (id) => act(`restart ${id}`)(),
    pause: (id) => act(`pause ${id}`)(),
    resume: (id) => act(`resume ${id}`)(),
    partition: (a, b) => act(`partition ${a.join(',')}|${b.join(',')}`)(),
    isolate: (id) => act(`isolate ${id}`)(),
    drop: (rate) => act(`drop ${rate}`)(),
    heal: () => act('heal')(),
    transfer: async (to) => {
      await act(`transfer ${to}`)();
      leader = to;
    },
  };
  return { target, log };
}

/** Runs a nemesis on a fake clock until it has started `faults` faults. */
async function schedule(seed: number, kinds: readonly FaultKind[], faults: number, failing: readonly string[] = []) {
  const { target, log } = fakeTarget(failing);
  let clock = 0;
  let stopped = false;
  const n = new Nemesis(target, {
    kinds, seed, intervalMs: 1000, now: () => clock, stopped: () => stopped,
    sleep: async (ms) => {
      clock += ms;
    },
    onFault: (f) => {
      if (f.endMs !== null && n.faults.length >= faults) stopped = true;
    },
  });
  await n.run();
  return { faults: n.faults, log };
}

const ALL: FaultKind[] = ['kill', 'pause', 'partition', 'isolate', 'drop', 'transfer'];

t.test('a seed fixes the schedule', async (t) => {
  const a = await schedule(7, ALL, 24);
  const b = await schedule(7, ALL, 24);
  const c = await schedule(8, ALL, 24);
  t.same(b.faults, a.faults, 'same seed: same faults, targets and times');
  t.same(b.log, a.log);
  t.not(JSON.stringify(c.faults), JSON.stringify(a.faults), 'another seed: another schedule');
});

t.test('every kind comes round once per round, and every fault is undone', async (t) => {
  const { faults, log } = await schedule(3, ALL, 12);
  t.same([...faults.slice(0, 6).map((f) => f.kind)].sort(), [...ALL].sort(), 'the first six are one of each');
  t.same([...faults.slice(6, 12).map((f) => f.kind)].sort(), [...ALL].sort(), 'and the next six');
  for (const f of faults) {
    t.ok(f.endMs !== null && f.endMs >= f.startMs, `${f.description}: ended`);
    t.equal(f.note, undefined);
  }
  const count = (prefix: string) => log.filter((l) => l.startsWith(prefix)).length;
  t.equal(count('kill'), count('restart'), 'each kill has its restart');
  t.equal(count('pause'), count('resume'), 'each pause has its resume');
  t.equal(count('partition') + count('isolate') + count('drop'), count('heal'), 'each network fault is healed');
  const hold = faults.filter((f) => f.kind !== 'transfer').map((f) => f.endMs! - f.startMs);
  t.ok(hold.every((ms) => ms >= 600 && ms <= 1400), 'held 60-140% of the interval');
});

t.test('a fault that cannot be injected is noted and the run goes on', async (t) => {
  const { faults } = await schedule(5, ['kill', 'pause'], 4, ['kill']);
  const kills = faults.filter((f) => f.kind === 'kill');
  t.ok(kills.length >= 1);
  for (const k of kills) t.match(k.note, /^not injected: kill \d: refused$/, 'the first line of why');
  t.ok(faults.some((f) => f.kind === 'pause' && f.note === undefined), 'other faults still happen');
  const undo = await schedule(5, ['pause'], 2, ['resume']);
  t.match(undo.faults[0]!.note, /^undo failed: resume \d: refused$/);
  t.throws(() => new Nemesis(fakeTarget().target, { kinds: [], seed: 1, intervalMs: 1, now: () => 0, stopped: () => true, sleep: async () => {} }), RangeError);
});
