// One seed of the simulation, start to finish. The seed fixes the plan (schedule.ts),
// then the run has two parts:
//   chaos    — the planned phases of random steps (ticks, deliveries, drops, duplicates,
//              proposals, reads, partitions, crashes, restarts), with every safety
//              invariant checked after every step;
//   liveness — everything healed and restarted, delivery reliable: a leader must emerge
//              and a fresh proposal must be applied on every node within 50 election
//              timeouts.
// The outcome is a SimResult; a failure carries a report with the seed, the broken
// invariant, the cluster state, the last events and the command that replays it.

import type { Ready, Rng } from '../../src/raft/index.js';
import type { FaultInjection } from '../../src/raft/testing/index.js';
import { seededRng } from '../../src/raft/index.js';
import { INIT_INDEX, mixSeed, SimCluster } from './cluster.js';
import { checkLogMatching, SafetyChecker, SimViolation } from './invariants.js';
import { SimNetwork } from './network.js';
import { randomPartition } from './partition.js';
import type { Action, Mode, Plan } from './schedule.js';
import { makePlan, maxDown, pickAction } from './schedule.js';
import { showBytes, Trace } from './trace.js';

export interface SimOptions {
  readonly seed: number;
  /** Cluster size; by default the seed picks 3 or 5. */
  readonly nodes?: number;
  /** Chaos steps; by default the seed picks (fewer for 5 nodes). */
  readonly steps?: number;
  /** Deliberate core bugs to switch on, on every node (self-test only). */
  readonly faults?: FaultInjection;
  /** Verbose mode: every event, formatted, as it happens. */
  readonly sink?: (line: string) => void;
  /** How many recent events a failure report shows. */
  readonly traceLines?: number;
}

export interface SimStats {
  readonly steps: number;
  readonly committed: number;
  readonly leaderTerms: number;
  readonly crashes: number;
  readonly proposals: number;
  readonly readStates: number;
  readonly livenessTicks: number;
  readonly compactions: number;
  readonly snapshotsInstalled: number;
  readonly confChanges: number;
  readonly transfers: number;
}

export interface SimResult {
  readonly seed: number;
  readonly violation?: SimViolation;
  /** Present on failure: the full, printable account. */
  readonly report?: string;
  readonly stats: SimStats;
  readonly describe: string;
}

/**
 * Log matching is checked incrementally on every write; a full pairwise comparison of
 * the durable logs runs this often (in steps), and once more at the end.
 */
const FULL_CHECK_EVERY = 64;

/** Rounds of delivery without progress, on a reliable network, that count as a message loop. */
const LOOP_ROUNDS = 30;

class Run {
  readonly rng: Rng;
  readonly plan: Plan;
  readonly trace: Trace;
  readonly net: SimNetwork;
  readonly checker: SafetyChecker;
  readonly cluster: SimCluster;
  step = 0;
  livenessTicks = 0;
  /** The current chaos phase's mode; undefined once the liveness check starts. */
  private mode: Mode | undefined;
  private proposals = 0;
  private reads = 0;

  constructor(readonly opts: SimOptions) {
    this.rng = seededRng(mixSeed(opts.seed, 0x5eed));
    this.plan = makePlan(this.rng, opts);
    this.trace = new Trace({ capacity: opts.traceLines ?? 60, ...(opts.sink ? { sink: opts.sink } : {}) });
    this.net = new SimNetwork({ rng: this.rng, trace: this.trace });
    this.checker = new SafetyChecker(this.plan.ids, INIT_INDEX + 1, !this.plan.membership);
    this.cluster = new SimCluster({
      ids: this.plan.ids, initialVoters: this.plan.initialVoters, seed: opts.seed, setup: this.plan.setup, net: this.net, trace: this.trace, checker: this.checker,
      crashPoint: (id, rd) => this.leaderCrashHazard(id, rd),
    });
    this.net.onLost = (m) => this.cluster.onLost(m);
  }

  private nextStep(): void {
    this.step++;
    this.trace.step = this.step;
    this.net.now = this.step;
  }

  chaos(): void {
    this.net.faults = this.plan.link;
    for (const seg of this.plan.segments) {
      this.trace.record({ k: 'note', text: `-- ${seg.mode} phase, ${seg.steps} steps` });
      this.mode = seg.mode;
      for (let i = 0; i < seg.steps; i++) {
        this.nextStep();
        this.perform(this.nextAction(seg.mode));
        this.handleReadies(this.plan.readyRate);
        this.cluster.checkLeaders();
        if (this.step % FULL_CHECK_EVERY === 0) checkLogMatching(this.cluster.storages);
      }
    }
  }

  /**
   * The leader crash hazard: a leader may die just after persisting a Ready that appends
   * to its log (its no-op when elected, a proposal) or advances its commit, before anyone
   * hears of it — the moments that Figure 8 of the Raft paper turns on.
   */
  private leaderCrashHazard(id: number, rd: Ready): boolean {
    if (this.mode === undefined || this.plan.leaderCrashRate === 0) return false;
    const c = this.cluster;
    if (c.downIds().length >= maxDown(this.mode, c.ids.length)) return false;
    if (rd.entries.length === 0 && rd.committedEntries.length === 0) return false;
    if (c.node(id)?.status().role !== 'leader') return false;
    return this.rng.next() < this.plan.leaderCrashRate;
  }

  private nextAction(mode: Mode): Action {
    const c = this.cluster;
    return pickAction(this.rng, this.plan, {
      ids: c.ids, up: c.upIds(), down: c.downIds(), partitioned: this.net.partition !== undefined, mode,
      leaders: c.leaders().map((l) => l.id), confOf: (id) => c.confOf(id),
    });
  }

  private perform(a: Action): void {
    const c = this.cluster;
    switch (a.kind) {
      case 'tick':
        this.trace.record({ k: 'tick', node: a.node });
        if (a.node === 'all') c.tickAll();
        else c.tick(a.node);
        return;
      case 'deliver': {
        const batch = a.count === 'allDue' ? this.net.takeAllDue() : this.net.takeRandomDue(a.count);
        for (const m of batch) c.deliver(m);
        return;
      }
      case 'drop': this.net.dropRandom(); return;
      case 'duplicate': this.net.duplicateRandom(); return;
      case 'propose':
        for (const l of c.leaders()) c.propose(l.id, `p${++this.proposals}`);
        return;
      case 'readIndex': c.readIndex(a.node, `r${++this.reads}`); return;
      case 'campaign': c.campaign(a.node); return;
      case 'partition':
        this.net.partition = randomPartition(this.rng, c.ids, a.isolate);
        this.trace.record({ k: 'partition', text: this.net.partition.toString() });
        return;
      case 'heal':
        this.net.partition = undefined;
        this.trace.record({ k: 'heal' });
        return;
      case 'crash': c.crash(a.node, a.midReady); return;
      case 'restart': c.restart(a.node); return;
      case 'compact': {
        const n = c.node(a.node);
        if (!n) return;
        const first = c.storages.get(a.node)!.firstIndex();
        const applied = n.status().applied;
        c.compact(a.node, first + Math.floor(a.fraction * (applied - first + 1)), a.busy);
        return;
      }
      case 'confChange': c.proposeConfChange(a.leader, a.change); return;
      case 'transfer': c.transferLeader(a.leader, a.to); return;
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  /** Handles each live node's pending Ready with probability `rate` (1: all of them). */
  private handleReadies(rate: number): void {
    for (const id of this.cluster.upIds()) {
      if (rate >= 1 || this.rng.next() < rate) this.cluster.handleReady(id);
    }
  }

  /**
   * Delivers everything in flight, in order, until the network is quiet. The message-rate
   * invariant: messages may keep flowing only while they make progress; LOOP_ROUNDS rounds
   * of delivery that change nothing (see SimCluster.progressSignature) are a message loop.
   */
  private flush(): void {
    let sig = this.cluster.progressSignature();
    let changed = 0;
    for (let round = 0; round < 200; round++) {
      this.handleReadies(1);
      const batch = this.net.takeAll();
      if (batch.length === 0) return;
      for (const m of batch) this.cluster.deliver(m);
      const now = this.cluster.progressSignature();
      if (now !== sig) {
        sig = now;
        changed = round;
      } else if (round - changed >= LOOP_ROUNDS) {
        throw new SimViolation('message rate',
          `on a reliable network, ${round - changed} rounds of delivery (${batch.length} messages in the last) changed nothing: ${sig}`);
      }
    }
  }

  /**
   * Heals everything and requires progress within 50 election timeouts: a leader, a new
   * proposal applied on every node, then a ReadIndex answered on every node (a read that
   * was dropped, say by a leader change, is asked again after an election timeout).
   */
  liveness(): void {
    const c = this.cluster;
    const e = this.plan.setup.electionTick;
    this.nextStep();
    this.mode = undefined;
    this.trace.record({ k: 'note', text: '-- liveness: heal, restart everyone, reliable delivery' });
    this.net.makeReliable();
    c.snapshotsAvailable();
    for (const id of c.downIds()) c.restart(id);
    const limit = 50 * e;
    const proposed: { data: string; term: number }[] = [];
    let reads: Map<number, string> | undefined;
    for (let tick = 1; tick <= limit; tick++) {
      this.nextStep();
      this.livenessTicks = tick;
      this.keepOnlyMembersUp();
      this.trace.record({ k: 'tick', node: 'all' });
      c.tickAll();
      this.flush();
      c.checkLeaders();
      if (!reads) {
        this.proposeOnNewestLeader(proposed);
        if (proposed.some((p) => this.appliedEverywhere(p.data))) reads = new Map();
      }
      if (reads) {
        const pending = this.members().filter((id) => !this.checker.wasServed(reads!.get(id) ?? ''));
        if (pending.length === 0) return;
        for (const id of pending) {
          if (!reads.has(id) || tick % e === 0) this.readAgain(id, reads);
        }
      }
    }
    throw new SimViolation('liveness', this.livenessFailure(limit, proposed.map((p) => p.data), reads));
  }

  /**
   * With membership changes, the nodes the liveness check is about: the members of the
   * newest leader's configuration (all nodes before there is a leader, or without changes).
   */
  private members(): number[] {
    const c = this.cluster;
    return (this.plan.membership ? c.currentMembers() : undefined) ?? [...c.ids];
  }

  /**
   * A removed node is shut down, as an operator (or the store) does: left running, one
   * that never heard of its removal keeps campaigning and, without PreVote and
   * CheckQuorum, disrupts the group (thesis §4.2.3). A member that is down is started.
   */
  private keepOnlyMembersUp(): void {
    if (!this.plan.membership) return;
    const c = this.cluster;
    const members = c.currentMembers();
    if (!members) return;
    for (const id of c.upIds()) if (!members.includes(id)) c.crash(id, false);
    for (const id of c.downIds()) if (members.includes(id)) c.restart(id);
  }

  /** Proposes once per leader term, on the leader of the newest term. */
  private proposeOnNewestLeader(proposed: { data: string; term: number }[]): void {
    const leaders = this.cluster.leaders();
    const newest = leaders.reduce<(typeof leaders)[number] | undefined>((a, l) => (!a || l.term > a.term ? l : a), undefined);
    if (!newest || proposed.some((p) => p.term === newest.term)) return;
    const data = `live${proposed.length + 1}`;
    if (this.cluster.propose(newest.id, data)) proposed.push({ data, term: newest.term });
    this.flush();
  }

  private readAgain(id: number, reads: Map<number, string>): void {
    const ctx = `r${++this.reads}`;
    reads.set(id, ctx);
    this.cluster.readIndex(id, ctx);
    this.flush();
  }

  private appliedEverywhere(data: string): boolean {
    return this.members().every((id) => this.hasApplied(id, data));
  }

  private hasApplied(id: number, data: string): boolean {
    return (this.cluster.applied.get(id) ?? []).some((e) => e.data.length === data.length && showBytes(e.data) === data);
  }

  private livenessFailure(limit: number, proposed: string[], reads: Map<number, string> | undefined): string {
    const c = this.cluster;
    const leaders = c.leaders();
    const head = `after ${limit} ticks (50 × electionTick ${this.plan.setup.electionTick}) of a healed, reliable network`;
    if (leaders.length === 0) return `${head}, no leader emerged`;
    const lead = `leader ${leaders.map((l) => `n${l.id} t${l.term}`).join(', ')}`;
    if (reads) {
      const unread = this.members().filter((id) => !this.checker.wasServed(reads.get(id) ?? ''));
      return `${head}, ${lead}, a proposal committed, but ReadIndex got no answer on ${unread.map((id) => `n${id}`).join(', ')}`;
    }
    const got = proposed.map((d) => `${d} applied on {${c.ids.filter((id) => this.hasApplied(id, d)).join(',')}} of members {${this.members().join(',')}}`);
    return `${head}, ${lead} but no proposal was applied on every node (${got.length > 0 ? got.join('; ') : 'none was accepted'})`;
  }

  stats(): SimStats {
    return {
      steps: this.step, committed: this.checker.maxCommitted - INIT_INDEX, leaderTerms: this.checker.leaderTerms,
      crashes: this.cluster.crashes, proposals: this.cluster.proposals, readStates: this.cluster.readStates,
      compactions: this.cluster.compactions, snapshotsInstalled: this.cluster.snapshotsInstalled,
      confChanges: this.cluster.confChanges, transfers: this.cluster.transfers,
      livenessTicks: this.livenessTicks,
    };
  }
}

/** The seed's settings in one line, for reports. */
export function describePlan(p: Plan): string {
  const s = p.setup;
  const faults = Object.entries(s.faults).filter(([, on]) => on).map(([k]) => k);
  const members = p.membership ? ` (voters ${p.initialVoters.length} + 2 spares, conf change weight ${p.weights.confChange.toFixed(2)}, transfer ${p.weights.transfer.toFixed(2)})` : '';
  return `${p.ids.length} nodes${members}, electionTick ${s.electionTick}, heartbeatTick ${s.heartbeatTick}, ` +
    `preVote ${s.preVote ? 'on' : 'off'}, checkQuorum ${s.checkQuorum ? 'on' : 'off'}, maxSizePerMsg ${s.maxSizePerMsg}, ` +
    `maxInflightMsgs ${s.maxInflightMsgs}, link drop ${p.link.dropRate} dup ${p.link.dupRate} delay ≤${p.link.maxDelay}, ` +
    `ready rate ${p.readyRate}, leader crash rate ${p.leaderCrashRate}, phases ${p.segments.map((g) => `${g.mode}:${g.steps}`).join(' ')}` +
    (faults.length > 0 ? `, INJECTED BUGS ${faults.join('+')}` : '');
}

/** The command that replays a seed (with the same injected bugs and size override, if any). */
export function replayCommand(seed: number, o: Pick<SimOptions, 'faults' | 'nodes'> = {}): string {
  const on = Object.entries(o.faults ?? {}).filter(([, v]) => v).map(([k]) => k);
  const env = (on.length > 0 ? `FAULTS=${on.join(',')} ` : '') + (o.nodes !== undefined ? `NODES=${o.nodes} ` : '');
  return `${env}SEED=${seed} npx tap test/raft-sim/simulation.test.ts`;
}

export function runSeed(opts: SimOptions): SimResult {
  const run = new Run(opts);
  const describe = describePlan(run.plan);
  try {
    run.chaos();
    run.liveness();
    checkLogMatching(run.cluster.storages);
    return { seed: opts.seed, stats: run.stats(), describe };
  } catch (e) {
    // Anything but a SimViolation is the simulator's own bug; it still gets a seed and a trace.
    const v = e instanceof SimViolation ? e : new SimViolation('simulator error', e instanceof Error ? e.stack ?? e.message : String(e));
    return { seed: opts.seed, violation: v, report: report(run, v, describe), stats: run.stats(), describe };
  }
}

function report(run: Run, v: SimViolation, describe: string): string {
  const kind = v.isSafety ? 'SAFETY VIOLATION' : v.invariant.toUpperCase();
  const indent = (s: string): string => s.split('\n').map((l) => `  ${l}`).join('\n');
  const lines = run.trace.lines();
  return [
    `raft-sim seed ${run.opts.seed}: ${kind} [${v.invariant}] at step ${run.step}`,
    indent(v.detail),
    `settings: ${describe}`,
    'nodes:',
    indent(run.cluster.describe()),
    `last ${lines.length} events:`,
    indent(lines.join('\n')),
    `replay: ${replayCommand(run.opts.seed, run.opts)}`,
  ].join('\n');
}
