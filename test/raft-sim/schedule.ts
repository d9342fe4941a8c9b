// Random schedules. A seed decides the shape of its run up front — cluster size, Raft
// timing and flow-control settings, how lossy the network is, how often each kind of
// fault happens, and the phases (safety phases allow any number of crashes; liveness
// phases keep a majority up) — so different seeds stress different things. Then each
// step picks one concrete action from what the current state allows.

import type { ConfChange, ConfState, NodeId, Rng } from '../../src/raft/index.js';
import type { FaultInjection } from '../../src/raft/testing/index.js';
import type { NodeSetup } from './cluster.js';
import type { LinkFaults } from './network.js';

export type Mode = 'safety' | 'liveness';

export type Action =
  | { readonly kind: 'tick'; readonly node: NodeId | 'all' }
  /** `count` random due messages (so they arrive reordered), or every due message. */
  | { readonly kind: 'deliver'; readonly count: number | 'allDue' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'propose' }
  | { readonly kind: 'readIndex'; readonly node: NodeId }
  | { readonly kind: 'campaign'; readonly node: NodeId }
  /** `isolate`: a node (a leader) to cut off into a minority group. */
  | { readonly kind: 'partition'; readonly isolate?: NodeId }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly node: NodeId; readonly midReady: boolean }
  | { readonly kind: 'restart'; readonly node: NodeId }
  /** Snapshot and compact node's log at a random applied point; `busy`: its snapshot() then says "unavailable". */
  | { readonly kind: 'compact'; readonly node: NodeId; readonly fraction: number; readonly busy: boolean }
  /** A leader proposes a membership change (add a learner, promote, add a voter, remove). */
  | { readonly kind: 'confChange'; readonly leader: NodeId; readonly change: ConfChange }
  /** A leader is asked to hand leadership to another voter. */
  | { readonly kind: 'transfer'; readonly leader: NodeId; readonly to: NodeId };

type Kind = 'tickAll' | 'tickOne' | Exclude<Action['kind'], 'tick'>;

/**
 * Relative weights before a seed scales them. Faults are rare next to ticks and
 * deliveries, so that leaders get elected and make progress between them; a seed's
 * `intensity` then scales all the faults together.
 */
const BASE_WEIGHTS: Readonly<Record<Kind, number>> = {
  tickAll: 6, tickOne: 10, deliver: 50, drop: 2, duplicate: 2, propose: 8, readIndex: 5,
  campaign: 0.3, partition: 0.4, heal: 1, crash: 0.4, restart: 1, compact: 1, confChange: 0.6, transfer: 0.3,
};
const FAULTS: readonly Kind[] = ['campaign', 'partition', 'heal', 'crash', 'restart'];

export interface Segment {
  readonly mode: Mode;
  readonly steps: number;
}

/** Everything a seed decides before its first step. */
export interface Plan {
  /** Every node of the run: the initial voters, then the spares a conf change may add. */
  readonly ids: readonly NodeId[];
  /** The voters the group is bootstrapped with. */
  readonly initialVoters: readonly NodeId[];
  /** Whether membership may change (then `ids` has two spares beyond the initial voters). */
  readonly membership: boolean;
  readonly setup: NodeSetup;
  readonly link: LinkFaults;
  readonly weights: Readonly<Record<Kind, number>>;
  /** Chance that a live node's pending Ready is handled after a step (else it waits). */
  readonly readyRate: number;
  /**
   * Chance that a leader dies right after persisting a Ready that appends to its log or
   * advances its commit, before sending anything (see Run.leaderCrashHazard).
   */
  readonly leaderCrashRate: number;
  readonly segments: readonly Segment[];
}

export interface PlanOverrides {
  readonly nodes?: number;
  readonly steps?: number;
  readonly faults?: FaultInjection;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.intBetween(0, xs.length)]!;

export function makePlan(rng: Rng, o: PlanOverrides = {}): Plan {
  // Drawn even when overridden, so an override changes nothing else about the seed.
  const drawn = rng.next() < 0.6 ? 3 : 5;
  const n = o.nodes ?? drawn;
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const heartbeatTick = rng.intBetween(1, 3);
  const setup: NodeSetup = {
    electionTick: heartbeatTick + pick(rng, [2, 2, 3, 4, 6, 9]),
    heartbeatTick,
    preVote: rng.next() < 0.75,
    checkQuorum: rng.next() < 0.75,
    // Tiny limits split appends into one entry each and keep the inflight window full.
    maxSizePerMsg: pick(rng, [1, 1, 8, 1 << 20]),
    maxInflightMsgs: pick(rng, [1, 2, 8, 256]),
    faults: o.faults ?? {},
  };
  const link: LinkFaults = {
    dropRate: pick(rng, [0, 0.05, 0.15, 0.3]),
    dupRate: pick(rng, [0, 0.02, 0.1]),
    maxDelay: pick(rng, [0, 2, 6, 15]),
  };
  const weights = {} as Record<Kind, number>;
  const intensity = pick(rng, [0.3, 1, 1, 3, 8]);
  for (const [k, w] of Object.entries(BASE_WEIGHTS) as [Kind, number][]) {
    weights[k] = w * (0.25 + 1.75 * rng.next()) * (FAULTS.includes(k) ? intensity : 1);
  }
  // Some seeds never compact (the plain log paths), others compact all the time.
  weights.compact *= pick(rng, [0, 0.3, 1, 4]);
  // Some seeds keep their voters for the whole run; the others add, promote and remove
  // members (two spare nodes wait to be added) and transfer leadership.
  const membershipRate = pick(rng, [0, 0, 0.5, 1, 3]);
  weights.confChange *= membershipRate;
  weights.transfer *= membershipRate > 0 ? pick(rng, [0.5, 1, 3]) : 0;
  const drawnSteps = n <= 3 ? rng.intBetween(2500, 4000) : rng.intBetween(1500, 2500);
  const steps = o.steps ?? drawnSteps;
  const membership = membershipRate > 0;
  return {
    ids: membership ? [...ids, n + 1, n + 2] : ids, initialVoters: ids, membership,
    setup, link, weights, readyRate: pick(rng, [1, 0.8, 0.5]), leaderCrashRate: pick(rng, [0, 0.05, 0.2, 0.5]),
    segments: makeSegments(rng, steps),
  };
}

/** Splits `steps` into 1–4 phases of random modes. */
function makeSegments(rng: Rng, steps: number): Segment[] {
  const k = rng.intBetween(1, 5);
  const out: Segment[] = [];
  let left = steps;
  for (let i = 0; i < k; i++) {
    const len = i === k - 1 ? left : Math.floor(left * (0.2 + 0.6 * rng.next()));
    out.push({ mode: rng.next() < 0.5 ? 'safety' : 'liveness', steps: len });
    left -= len;
  }
  return out;
}

/** How many nodes may be down at once: a liveness phase keeps a majority up. */
export function maxDown(mode: Mode, n: number): number {
  return mode === 'liveness' ? Math.floor((n - 1) / 2) : n;
}

/** What the next action may touch. */
export interface ScheduleView {
  readonly ids: readonly NodeId[];
  readonly up: readonly NodeId[];
  readonly down: readonly NodeId[];
  readonly partitioned: boolean;
  readonly mode: Mode;
  /** Live nodes that think they lead; faults favour them, as leader loss is what matters. */
  readonly leaders: readonly NodeId[];
  /** A live node's configuration in force. */
  readonly confOf: (id: NodeId) => ConfState;
}

/** Picks the next action by weight among those the state allows. */
export function pickAction(rng: Rng, plan: Plan, v: ScheduleView): Action {
  const w = plan.weights;
  const anyUp = v.up.length > 0;
  const canCrash = anyUp && v.down.length < maxDown(v.mode, v.ids.length);
  const allowed: [Kind, number][] = [
    ['tickAll', w.tickAll], ['tickOne', anyUp ? w.tickOne : 0], ['deliver', w.deliver],
    ['drop', w.drop], ['duplicate', w.duplicate], ['propose', w.propose],
    ['readIndex', anyUp ? w.readIndex : 0], ['campaign', anyUp ? w.campaign : 0],
    ['partition', w.partition], ['heal', v.partitioned ? w.heal : 0],
    ['crash', canCrash ? w.crash : 0], ['restart', v.down.length > 0 ? w.restart : 0],
    ['compact', anyUp ? w.compact : 0],
    ['confChange', v.leaders.length > 0 ? w.confChange : 0], ['transfer', v.leaders.length > 0 ? w.transfer : 0],
  ];
  let total = 0;
  for (const [, x] of allowed) total += x;
  let r = rng.next() * total;
  let kind: Kind = 'deliver';
  for (const [k, x] of allowed) {
    if (r < x) {
      kind = k;
      break;
    }
    r -= x;
  }
  return concrete(rng, kind, v);
}

function concrete(rng: Rng, kind: Kind, v: ScheduleView): Action {
  switch (kind) {
    case 'tickAll': return { kind: 'tick', node: 'all' };
    case 'tickOne': return { kind: 'tick', node: pick(rng, v.up) };
    case 'deliver': return { kind: 'deliver', count: rng.next() < 0.5 ? 'allDue' : rng.intBetween(1, 4) };
    case 'readIndex': return { kind: 'readIndex', node: pickFavouringLeaders(rng, v) };
    case 'campaign': return { kind: 'campaign', node: pick(rng, v.up) };
    case 'crash': return { kind: 'crash', node: pickFavouringLeaders(rng, v), midReady: rng.next() < 0.3 };
    case 'partition':
      return v.leaders.length > 0 && rng.next() < 0.5 ? { kind, isolate: pick(rng, v.leaders) } : { kind };
    case 'restart': return { kind: 'restart', node: pick(rng, v.down) };
    case 'compact': return { kind: 'compact', node: pick(rng, v.up), fraction: rng.next(), busy: rng.next() < 0.2 };
    case 'confChange': {
      const leader = pick(rng, v.leaders);
      return { kind, leader, change: randomChange(rng, v.ids, v.confOf(leader)) };
    }
    case 'transfer': {
      const leader = pick(rng, v.leaders);
      const others = v.confOf(leader).voters.filter((id) => id !== leader);
      // Now and then a target that cannot take it (a learner, a stranger, itself): ignored.
      const to = others.length > 0 && rng.next() < 0.85 ? pick(rng, others) : pick(rng, v.ids);
      return { kind, leader, to };
    }
    case 'drop':
    case 'duplicate':
    case 'propose':
    case 'heal':
      return { kind };
    default: {
      const never: never = kind;
      throw new Error(`unknown action ${String(never)}`);
    }
  }
}

/**
 * A live node to crash or read from: half the time one of the leaders, if there is one —
 * losing a leader is what stresses elections, and a deposed leader is where stale reads hide.
 */
function pickFavouringLeaders(rng: Rng, v: ScheduleView): NodeId {
  return v.leaders.length > 0 && rng.next() < 0.5 ? pick(rng, v.leaders) : pick(rng, v.up);
}

/**
 * A change to `cs`: a non-member usually joins as a learner (sometimes straight as a
 * voter), a learner is promoted or removed, a voter is removed (never the last one).
 */
function randomChange(rng: Rng, ids: readonly NodeId[], cs: ConfState): ConfChange {
  const learners = cs.learners ?? [];
  const options: ConfChange[] = [];
  for (const id of ids) {
    if (cs.voters.includes(id)) {
      if (cs.voters.length > 1) options.push({ type: 'removeNode', nodeId: id });
    } else if (learners.includes(id)) {
      options.push({ type: 'addVoter', nodeId: id }, { type: 'addVoter', nodeId: id }, { type: 'removeNode', nodeId: id });
    } else {
      options.push({ type: 'addLearner', nodeId: id }, { type: 'addLearner', nodeId: id }, { type: 'addLearner', nodeId: id });
      options.push({ type: 'addVoter', nodeId: id });
    }
  }
  return pick(rng, options);
}
