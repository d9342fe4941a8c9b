// `tinykv store add / remove / replace`: membership changes of a live cluster, done the
// way that never costs it its quorum.
//
// - add: the store goes into the cluster file marked `join`, its process starts on an
//   empty data directory (it never bootstraps; see src/node/identity.ts), the leader adds
//   it as a learner, it catches up (by snapshot, then the log) while it neither votes nor
//   counts toward commit, and only then is it promoted to a voter.
// - remove: refused when the voters left would not hold a healthy majority (unless
//   --force); leadership moves away first if the store leads; the member is removed
//   through Raft, then the process is stopped and the file marks the store removed.
// - replace: for a store whose disk was lost. Its old peer is removed, its data wiped, and
//   it is added back under the same id and address as a new peer (a new peer id, so none
//   of the old peer's votes or acknowledgements can be mistaken for the new one's).
//
// Each step is asked of whoever leads at that moment and checked against the membership
// the leader reports, so a command interrupted half way can be run again and continues.

import { rmSync } from 'node:fs';
import { AdminClient } from '../client/index.js';
import { ChangePeerRefusedError } from '../api/errors.js';
import type { MemberInfo, MembershipChange, StoreStatusInfo } from '../client/index.js';
import { addJoiningStore, markStoreJoining, markStoreRemoved } from '../config/edit.js';
import type { ClusterConfig } from '../config/types.js';
import { storeDir } from '../config/types.js';
import { DEFAULT_GRACE_MS, stopStore } from './down.js';
import { MembershipNotDoneError, MembershipRefusedError, NoLeaderError, StoreBusyError, UnknownStoreError } from './errors.js';
import { transferLeader } from './leader.js';
import { withProcessLock } from './lock.js';
import type { Probe } from './probe.js';
import { probeAll, sleep } from './probe.js';
import { storeProcess } from './stores.js';
import { startStore } from './up.js';

export const DEFAULT_MEMBERSHIP_TIMEOUT_MS = 300_000;
/** A learner this close to the leader's last index counts as caught up. */
export const CATCH_UP_LAG = 64;
const POLL_MS = 100;

export interface MembershipOptions {
  readonly timeoutMs?: number;
  /** One line per step (a spinner's text on a TTY). */
  readonly onProgress?: (line: string) => void;
  /** remove/replace: go ahead even if the voters left would not hold a healthy majority. */
  readonly force?: boolean;
}

/** How long each phase took, in order. */
export interface Phase {
  readonly name: string;
  readonly ms: number;
}

export interface MembershipResult {
  readonly storeId: number;
  /** The store's peer id after the change (0 once removed). */
  readonly peerId: number;
  readonly confVer: number;
  readonly voters: number[];
  readonly learners: number[];
  readonly ms: number;
  readonly phases: Phase[];
}

/** The region as its leader reports it. */
interface View {
  readonly leader: StoreStatusInfo;
  readonly probes: Probe[];
}

class Steps {
  readonly phases: Phase[] = [];
  private readonly started = Date.now();
  private phaseStart = Date.now();
  private current = '';
  constructor(
    readonly until: number,
    readonly timeoutMs: number,
    readonly say: (line: string) => void,
  ) {}
  begin(name: string, line: string): void {
    this.end();
    this.current = name;
    this.phaseStart = Date.now();
    this.say(line);
  }
  end(): void {
    if (this.current) this.phases.push({ name: this.current, ms: Date.now() - this.phaseStart });
    this.current = '';
  }
  get elapsed(): number {
    return Date.now() - this.started;
  }
  left(cap = Infinity): number {
    return Math.max(1, Math.min(cap, this.until - Date.now()));
  }
  expired(): boolean {
    return Date.now() >= this.until;
  }
}

export async function addStore(cfg: ClusterConfig, id: number, addr: string | undefined, o: MembershipOptions = {}): Promise<MembershipResult> {
  const steps = newSteps(o);
  const inFile = cfg.stores.find((s) => s.id === id);
  const removed = cfg.removedStores.find((s) => s.id === id);
  if (inFile && addr !== undefined && addr !== inFile.addr) {
    throw new MembershipRefusedError(`store ${id} is in ${cfg.file} with address ${inFile.addr}, not ${addr}; moving a store to another address is not supported`);
  }
  if (!inFile && !removed && addr === undefined) {
    throw new MembershipRefusedError(`store ${id} is not in ${cfg.file}: give its address with --addr <host:port>`);
  }
  if (removed && addr !== undefined && addr !== removed.addr) {
    // Running stores keep the address they knew for it; use a new store id for a new address.
    throw new MembershipRefusedError(`store ${id} was removed from ${removed.addr}; adding it back at another address (${addr}) is not supported: use a new store id`);
  }
  const v = await view(cfg, steps);
  const member = v.leader.members.find((m) => m.storeId === id);
  if (member && !member.learner) {
    if (inFile) {
      steps.say(`store ${id} is already a voter (peer ${member.peerId}); nothing to do`);
      return result(id, member.peerId, v.leader, steps);
    }
    throw new MembershipRefusedError(`store ${id} is a voter (peer ${member.peerId}) but not in ${cfg.file}; add its entry by hand`);
  }
  if (inFile && !inFile.join && !member) {
    throw new MembershipRefusedError(`store ${id} is one of the stores the cluster was started with, and is not a member now; ` +
      `if its data is gone, rebuild it with tinykv store replace --store ${id}`);
  }
  let current = cfg;
  if (!inFile) {
    steps.begin('file', `store ${id}: adding it to ${cfg.file} (join: true)`);
    // A removed store's data was tombstoned when it left: start it from nothing.
    if (removed) rmSync(storeDir(cfg, id), { recursive: true, force: true });
    current = addJoiningStore(cfg.file, id, addr ?? removed!.addr);
  }
  return join(current, id, member === undefined, steps);
}

export async function removeStore(cfg: ClusterConfig, id: number, o: MembershipOptions = {}): Promise<MembershipResult> {
  const steps = newSteps(o);
  if (!cfg.stores.some((s) => s.id === id)) {
    if (cfg.removedStores.some((s) => s.id === id)) {
      const v = await view(cfg, steps);
      if (!v.leader.members.some((m) => m.storeId === id)) {
        steps.say(`store ${id} is already removed; nothing to do`);
        return result(id, 0, v.leader, steps);
      }
      throw new MembershipRefusedError(`store ${id} is marked removed in ${cfg.file} but still a member: remove the mark by hand, then run this again`);
    }
    throw new UnknownStoreError(id, cfg.file, cfg.stores.map((s) => s.id));
  }
  let v = await view(cfg, steps);
  if (v.leader.members.some((m) => m.storeId === id)) {
    v = await leaveRegion(cfg, id, v, steps, o.force === true);
  }
  steps.begin('stop', `store ${id}: stopping its process`);
  const stopped = await withProcessLock(cfg, `store ${id}: stop`, () => stopStore(cfg, id, DEFAULT_GRACE_MS, steps.say), { say: steps.say });
  if (stopped.how === 'external') steps.say(`store ${id} runs outside cluster up (pid ${stopped.pid}); stop it yourself: it no longer has a peer`);
  markStoreRemoved(cfg.file, id);
  steps.end();
  steps.say(`store ${id}: removed; ${cfg.file} marks it removed`);
  return result(id, 0, v.leader, steps);
}

export async function replaceStore(cfg: ClusterConfig, id: number, o: MembershipOptions = {}): Promise<MembershipResult> {
  const steps = newSteps(o);
  if (!cfg.stores.some((s) => s.id === id)) {
    if (cfg.removedStores.some((s) => s.id === id)) throw new MembershipRefusedError(`store ${id} was removed; add it back with tinykv store add --id ${id}`);
    throw new UnknownStoreError(id, cfg.file, cfg.stores.map((s) => s.id));
  }
  let v = await view(cfg, steps);
  const old = v.leader.members.find((m) => m.storeId === id);
  const entry = cfg.stores.find((s) => s.id === id)!;
  const probe = v.probes.find((p) => p.storeId === id);
  if (old?.learner && entry.join && probe?.ok && probe.status.hasPeer) {
    // An earlier replace (or add) got as far as the new learner: go on from there.
    steps.say(`store ${id} is a learner being rebuilt (peer ${old.peerId}): continuing`);
    return join(cfg, id, false, steps);
  }
  if (old) v = await leaveRegion(cfg, id, v, steps, o.force === true);
  steps.begin('wipe', `store ${id}: stopping it and deleting its data directory`);
  const stopped = await withProcessLock(cfg, `store ${id}: stop`, () => stopStore(cfg, id, DEFAULT_GRACE_MS, steps.say), { say: steps.say });
  if (stopped.how === 'external') {
    throw new StoreBusyError(`store ${id} runs outside cluster up (pid ${stopped.pid}); stop it, then run this again (its old peer is already removed)`);
  }
  rmSync(storeDir(cfg, id), { recursive: true, force: true });
  const current = markStoreJoining(cfg.file, id);
  return join(current, id, true, steps);
}

function newSteps(o: MembershipOptions): Steps {
  const timeoutMs = o.timeoutMs ?? DEFAULT_MEMBERSHIP_TIMEOUT_MS;
  return new Steps(Date.now() + timeoutMs, timeoutMs, o.onProgress ?? (() => {}));
}

/** Starts a store marked join, adds it as a learner (unless it is one), waits for it to catch up, promotes it. */
async function join(cfg: ClusterConfig, id: number, addLearner: boolean, steps: Steps): Promise<MembershipResult> {
  steps.begin('start', `store ${id}: starting its process`);
  if (storeProcess(cfg, id).state !== 'running') {
    await withProcessLock(cfg, `store ${id}: start`, () => startStore(cfg, id, { timeoutMs: steps.left(), onProgress: steps.say }), { say: steps.say });
  }
  if (addLearner) {
    steps.begin('learner', `store ${id}: adding it as a learner`);
    await change(cfg, 'addLearner', id, steps);
  }
  steps.begin('catch-up', `store ${id}: catching up`);
  await waitCaughtUp(cfg, id, steps);
  steps.begin('promote', `store ${id}: promoting it to a voter`);
  const v = await change(cfg, 'addVoter', id, steps);
  steps.end();
  const peer = v.leader.members.find((m) => m.storeId === id)!;
  return result(id, peer.peerId, v.leader, steps);
}

/** Removes the store's member from the region (after the quorum check, moving leadership away first). */
async function leaveRegion(cfg: ClusterConfig, id: number, v: View, steps: Steps, force: boolean): Promise<View> {
  const voters = v.leader.members.filter((m) => !m.learner);
  const left = voters.filter((m) => m.storeId !== id);
  const isVoter = voters.some((m) => m.storeId === id);
  if (isVoter && left.length === 0) throw new MembershipRefusedError(`store ${id} is the only voter; a region cannot lose its last voter`);
  if (isVoter) {
    const healthy = left.filter((m) => isHealthy(m, v));
    const need = Math.floor(left.length / 2) + 1;
    if (healthy.length < need && !force) {
      const sick = left.filter((m) => !healthy.includes(m)).map((m) => `store ${m.storeId} ${whyUnhealthy(m, v)}`).join(', ');
      throw new MembershipRefusedError(`removing store ${id} would leave ${left.length} voter(s) of which ${healthy.length} are healthy ` +
        `(${sick}); ${need} must be for the cluster to keep a quorum. Bring them back first, or pass --force`);
    }
    if (v.leader.storeId === id) {
      const to = [...(healthy.length > 0 ? healthy : left)].sort((a, b) => b.match - a.match)[0]!;
      steps.begin('transfer', `store ${id} leads: handing leadership to store ${to.storeId} first`);
      await transferLeader(cfg, to.storeId, { timeoutMs: steps.left(30_000) });
    }
  }
  steps.begin('remove', `store ${id}: removing its peer from the region`);
  return change(cfg, 'remove', id, steps);
}

function isHealthy(m: MemberInfo, v: View): boolean {
  if (m.storeId === v.leader.storeId) return true;
  const p = v.probes.find((x) => x.storeId === m.storeId);
  return p !== undefined && p.ok && p.status.hasPeer && v.leader.lastIndex - m.match <= CATCH_UP_LAG * 16;
}

function whyUnhealthy(m: MemberInfo, v: View): string {
  const p = v.probes.find((x) => x.storeId === m.storeId);
  if (!p) return 'is not in the cluster file';
  if (!p.ok) return 'does not answer';
  if (!p.status.hasPeer) return 'has no peer';
  return `is ${v.leader.lastIndex - m.match} entries behind`;
}

/** Asks whoever leads for the change until the membership shows it (or the deadline passes). */
async function change(cfg: ClusterConfig, kind: MembershipChange, id: number, steps: Steps): Promise<View> {
  const done = (members: readonly MemberInfo[]): boolean => {
    const m = members.find((x) => x.storeId === id);
    return kind === 'remove' ? m === undefined : kind === 'addLearner' ? m !== undefined : m !== undefined && !m.learner;
  };
  let lastError = '';
  for (;;) {
    const v = await view(cfg, steps);
    if (done(v.leader.members)) return v;
    if (kind === 'remove' && v.leader.storeId === id && !steps.expired()) {
      // Leadership came back to the leaving store (or never left): a leader does not remove itself.
      const to = v.leader.members.filter((m) => !m.learner && m.storeId !== id).sort((a, b) => b.match - a.match)[0];
      if (!to) throw new MembershipRefusedError(`store ${id} is the only voter; a region cannot lose its last voter`);
      await transferLeader(cfg, to.storeId, { timeoutMs: steps.left(30_000) }).catch((e: Error) => { lastError = e.message; });
      continue;
    }
    if (steps.expired()) {
      throw new MembershipNotDoneError(`store ${id}: the change (${kind}) was not applied within ${steps.timeoutMs} ms` +
        `${lastError ? ` (last error: ${lastError})` : ''}; run the command again to continue`);
    }
    const admin = new AdminClient(addrOf(cfg, v.leader.storeId));
    try {
      await admin.changePeer(kind, id, { timeoutMs: steps.left(10_000) });
      continue; // applied on the leader: the next view shows it
    } catch (e) {
      lastError = (e as Error).message;
      // A refusal for now only (an earlier change not applied yet), NotLeader, a timeout: ask again.
      if ((e as { code?: string }).code === 'INVALID_ARGUMENT' || (e instanceof ChangePeerRefusedError && !e.retryable)) {
        const now = await view(cfg, steps);
        if (done(now.leader.members)) return now;
        throw new MembershipRefusedError(`store ${id}: ${lastError}`);
      }
    } finally {
      admin.close();
    }
    await sleep(POLL_MS);
  }
}

/** Waits until the leader's match index for the store's peer is within CATCH_UP_LAG of its log. */
async function waitCaughtUp(cfg: ClusterConfig, id: number, steps: Steps): Promise<void> {
  let last = '';
  for (;;) {
    const v = await view(cfg, steps);
    const m = v.leader.members.find((x) => x.storeId === id);
    if (!m) throw new MembershipNotDoneError(`store ${id} is no longer a member (another command removed it?)`);
    const behind = v.leader.lastIndex - m.match;
    if (m.match > 0 && behind <= CATCH_UP_LAG) return;
    const sending = v.leader.snapshotsSending > 0 ? ', snapshot being sent' : '';
    const line = `store ${id}: catching up: at ${m.match} of ${v.leader.lastIndex}${sending}`;
    if (line !== last) steps.say(line);
    last = line;
    if (steps.expired()) {
      throw new MembershipNotDoneError(`store ${id} did not catch up within ${steps.timeoutMs} ms (at ${m.match} of ${v.leader.lastIndex}); ` +
        'it stays a learner (it does not vote or count toward commit); run the command again to continue, or see its store.log');
    }
    await sleep(POLL_MS * 2);
  }
}

/** The stores' status and the leader's, polling until a store leads (NoLeaderError at the deadline). */
async function view(cfg: ClusterConfig, steps: Steps): Promise<View> {
  for (;;) {
    const probes = await probeAll(cfg, steps.left(1000));
    let leader: StoreStatusInfo | undefined;
    for (const p of probes) {
      if (p.ok && p.status.role === 'leader' && p.status.hasPeer && (!leader || p.status.term > leader.term)) leader = p.status;
    }
    if (leader) return { leader, probes };
    if (steps.expired()) {
      const answering = probes.filter((p) => p.ok).length;
      throw new NoLeaderError(`no store leads right now (${answering}/${probes.length} stores answering); no membership change is possible`);
    }
    await sleep(POLL_MS);
  }
}

function addrOf(cfg: ClusterConfig, id: number): string {
  return (cfg.stores.find((s) => s.id === id) ?? cfg.removedStores.find((s) => s.id === id))!.addr;
}

function result(id: number, peerId: number, leader: StoreStatusInfo, steps: Steps): MembershipResult {
  steps.end();
  return {
    storeId: id, peerId, confVer: leader.confVer,
    voters: leader.members.filter((m) => !m.learner).map((m) => m.storeId).sort((a, b) => a - b),
    learners: leader.members.filter((m) => m.learner).map((m) => m.storeId).sort((a, b) => a - b),
    ms: steps.elapsed, phases: steps.phases,
  };
}
