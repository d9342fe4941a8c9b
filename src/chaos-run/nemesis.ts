// The nemesis of `tinykv chaos run`: one fault at a time, drawn from a seeded RNG, held
// for a while and undone, with a quiet gap before the next. The same seed gives the same
// schedule of kinds, targets (by role where the fault names one: "the leader") and hold
// times; process timing is not deterministic, so a replay repeats the schedule, not the
// interleaving of operations.
//
// Faults go through a FaultTarget: the orchestrator's implementation drives real store
// processes (target-orchestrator.ts); a test can give its own.

import { seededRng, type Rng } from '../util/rng.js';
import type { FaultKind, FaultRecord } from './run-record.js';

/** What the nemesis can do to a cluster. Each resolves once the fault is in place (or undone). */
export interface FaultTarget {
  readonly stores: readonly number[];
  /** The store that leads now, or undefined if none does (asked briefly). */
  leader(): Promise<number | undefined>;
  kill(id: number): Promise<void>;
  restart(id: number): Promise<void>;
  pause(id: number): Promise<void>;
  resume(id: number): Promise<void>;
  partition(a: readonly number[], b: readonly number[]): Promise<void>;
  isolate(id: number): Promise<void>;
  drop(rate: number): Promise<void>;
  heal(): Promise<void>;
  /** Hands leadership to `to` (Raft leader transfer). */
  transfer(to: number): Promise<void>;
}

export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition', 'isolate', 'drop', 'transfer'];

export interface NemesisOptions {
  readonly kinds: readonly FaultKind[];
  readonly seed: number;
  /** Mean hold time of a fault and mean gap between faults is a fraction of it. */
  readonly intervalMs: number;
  /** Milliseconds since the run started. */
  readonly now: () => number;
  /** Told of each fault as it starts and ends. */
  readonly onFault?: (f: FaultRecord) => void;
  /** Waits `ms` unless the run is stopped; resolves early on stop. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly stopped: () => boolean;
}

/** Share of drop faults' message loss. */
const DROP_RATE = 0.3;

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  private readonly rng: Rng;
  private bag: FaultKind[] = [];

  constructor(private readonly target: FaultTarget, private readonly o: NemesisOptions) {
    if (o.kinds.length === 0) throw new RangeError('the nemesis needs at least one fault kind');
    this.rng = seededRng(o.seed >>> 0);
  }

  /** Injects faults until stopped; every fault it started is undone before it returns. */
  async run(): Promise<void> {
    while (!this.o.stopped()) {
      // Every enabled kind once per round, in a random order.
      if (this.bag.length === 0) this.bag = shuffle(this.rng, [...this.o.kinds]);
      const kind = this.bag.pop()!;
      const hold = Math.round(this.o.intervalMs * (0.6 + 0.8 * this.rng.next()));
      const gap = Math.round(this.o.intervalMs * (0.2 + 0.4 * this.rng.next()));
      const pick = this.rng.intBetween(0, this.target.stores.length);
      const onLeader = this.rng.next() < 0.5;
      await this.one(kind, hold, pick, onLeader);
      await this.o.sleep(gap);
    }
  }

  private async one(kind: FaultKind, holdMs: number, pick: number, onLeader: boolean): Promise<void> {
    const t = this.target;
    const some = t.stores[pick]!;
    switch (kind) {
      case 'kill': {
        const leader = onLeader ? await t.leader() : undefined;
        const id = leader ?? some;
        await this.hold(kind, `kill store ${id}${leader !== undefined ? ' (leader)' : ''}`, [id], holdMs, () => t.kill(id), () => t.restart(id));
        return;
      }
      case 'pause': {
        const leader = onLeader ? await t.leader() : undefined;
        const id = leader ?? some;
        await this.hold(kind, `pause store ${id}${leader !== undefined ? ' (leader)' : ''}`, [id], holdMs, () => t.pause(id), () => t.resume(id));
        return;
      }
      case 'partition': {
        const rest = t.stores.filter((x) => x !== some);
        await this.hold(kind, `partition ${some} | ${rest.join(',')}`, t.stores, holdMs, () => t.partition([some], rest), () => t.heal());
        return;
      }
      case 'isolate': {
        // Isolating the leader strands it with clients that still talk to it.
        const id = (await t.leader()) ?? some;
        await this.hold(kind, `isolate store ${id}`, [id], holdMs, () => t.isolate(id), () => t.heal());
        return;
      }
      case 'drop':
        await this.hold(kind, `drop ${DROP_RATE * 100}% of messages`, t.stores, holdMs, () => t.drop(DROP_RATE), () => t.heal());
        return;
      case 'transfer': {
        const leader = await t.leader();
        const others = t.stores.filter((x) => x !== leader);
        const to = others[pick % others.length]!;
        // Instant: recorded as a fault that ends when the new leader is in place.
        await this.hold(kind, `transfer leadership ${leader ?? '?'} → ${to}`, [to], 0, () => t.transfer(to), async () => {});
        return;
      }
    }
  }

  /** Starts a fault, keeps it `holdMs`, undoes it; records both ends (and any failure). */
  private async hold(
    kind: FaultKind, description: string, stores: readonly number[], holdMs: number,
    start: () => Promise<void>, undo: () => Promise<void>,
  ): Promise<void> {
    const base = { id: this.faults.length, kind, description, stores };
    const startMs = this.o.now();
    let note: string | undefined;
    try {
      await start();
    } catch (e) {
      // A fault that could not be injected (no leader to transfer, a store that will not
      // stop) is recorded with why; the run goes on.
      this.record({ ...base, startMs, endMs: this.o.now(), note: `not injected: ${firstLine(e)}` });
      return;
    }
    this.o.onFault?.({ ...base, startMs, endMs: null });
    if (holdMs > 0) await this.o.sleep(holdMs);
    try {
      await undo();
    } catch (e) {
      note = `undo failed: ${firstLine(e)}`;
    }
    this.record({ ...base, startMs, endMs: this.o.now(), ...(note ? { note } : {}) });
  }

  private record(f: FaultRecord): void {
    this.faults.push(f);
    this.o.onFault?.(f);
  }
}

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.intBetween(0, i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
