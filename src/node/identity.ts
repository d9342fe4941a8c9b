// The data directory's identity, and the rule that keeps a store from rejoining its
// cluster with state it has lost.
//
// Raft's safety rests on every member remembering what it promised: its vote in each
// term and every entry it acknowledged. A store restarted on an empty data directory (a
// wiped or replaced disk) or on an older copy (a backup, a disk that lost writes) has
// forgotten some of that; taken back as the member it was, it can vote twice in a term
// (two leaders) or let a majority form without an entry it helped commit (a lost write).
// So, in DESIGN terms:
//
// - Every store records, durably and before acting on it, the highest term it has heard
//   from each other store (Store.heardTerms; raft messages other than pre-votes carry a
//   term their sender had already made durable). A vote or acknowledgement that counted
//   somewhere is therefore on record at the store it was sent to.
// - A store that finds its data directory empty asks every other store in the cluster file
//   (Admin.Identity) before it writes anything. If one of them has heard from it, it is a
//   member that lost its state: it refuses to start. It bootstraps only when every other
//   store answers and none has ever heard from it — a new cluster, or a store that never
//   took part (safe: nothing it could have forgotten was ever counted). If some store does
//   not answer within the wait, it cannot tell the two apart and refuses.
// - A store with data asks the other stores the same question. If one has heard a higher
//   term from it than its own durable hard state holds, its data is older than what it has
//   said: it refuses to start. Stores that do not answer are not waited for (a store must
//   be able to restart while another is down); the remaining gap — an older copy started
//   while every store that heard its newer terms is unreachable — is stated in the README.
//
// The first start writes (cluster id, store id) into kvdb; every later start checks it,
// so a store never runs on another store's or another cluster's data either.

import { raft_serverpb } from '../gen/proto.js';
import { WriteBatch } from '../engine/kv-engine.js';
import type { KvEngine } from '../engine/kv-engine.js';
import * as keys from '../engine/keys.js';
import type { Logger } from '../raft/index.js';

export class ForeignDataDirError extends Error {
  readonly code = 'FOREIGN_DATA_DIR';
}

/** The store lost (or rolled back) state its cluster relies on; starting would be unsafe. */
export class LostStateError extends Error {
  readonly code = 'LOST_STATE';
}

/** What another store answers about itself and about us. */
export interface PeerIdentity {
  /** False while that store has not opened its engines yet. */
  readonly ready: boolean;
  /** '' when that store was never bootstrapped. */
  readonly clusterId: string;
  /** The highest term it has recorded hearing from the asking store; 0 = never. */
  readonly heardTerm: number;
}

export interface IdentityCheck {
  readonly kv: KvEngine;
  readonly raft: KvEngine;
  readonly dir: string;
  readonly clusterId: string;
  readonly storeId: number;
  /** The other stores of the cluster file. */
  readonly peers: readonly number[];
  /** Asks one store; rejects if it does not answer. */
  readonly ask: (peer: number) => Promise<PeerIdentity>;
  /** How long an empty store waits for every other store to answer (ms). */
  readonly waitMs: number;
  readonly logger: Logger;
  /** Regions whose durable term to compare (one region for now). */
  readonly regionIds?: readonly number[];
}

const RETRY_MS = 250;

const recovery = (storeId: number): string =>
  `It cannot rejoin as the member it was. To recover without losing data: restore store ${storeId}'s own latest data ` +
  'directory if you have it; otherwise export the data (tinykv scan) while the other stores serve it, then rebuild the ' +
  'cluster (tinykv cluster down --purge, cluster up) and write it back. A membership change that replaces the store ' +
  'in place (tinykv store replace) is planned.';

/** Checks (or on a first start, writes) the data directory's identity; throws if the store must not start. */
export async function checkOrWriteIdentity(o: IdentityCheck): Promise<void> {
  const raw = await o.kv.get(keys.storeIdentKey());
  if (raw === undefined) {
    await checkFreshStart(o);
    const wb = new WriteBatch();
    wb.put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: o.clusterId, store_id: o.storeId }).finish());
    await o.kv.write(wb, { sync: true });
    return;
  }
  let ident: raft_serverpb.StoreIdent;
  try {
    ident = raft_serverpb.StoreIdent.decode(raw);
  } catch {
    throw new ForeignDataDirError(`${o.dir} has an unreadable store identity; refusing to start on it`);
  }
  if (Number(ident.store_id) !== o.storeId) {
    throw new ForeignDataDirError(`${o.dir} belongs to store ${Number(ident.store_id)}, not store ${o.storeId}; refusing to start`);
  }
  if (ident.cluster_id !== o.clusterId) {
    throw new ForeignDataDirError(`${o.dir} belongs to cluster "${ident.cluster_id}", not "${o.clusterId}"; refusing to start`);
  }
  await checkNotRolledBack(o);
}

/** An empty data directory: a first start, or a member that lost its disk? */
async function checkFreshStart(o: IdentityCheck): Promise<void> {
  const [start, end] = [Buffer.of(keys.LOCAL_PREFIX), Buffer.of(keys.LOCAL_PREFIX + 1)];
  if ((await o.raft.scan({ start, end, limit: 1 })).length > 0) {
    throw new LostStateError(`store ${o.storeId}: ${o.dir}/kvdb has no store identity but raftdb holds raft state: ` +
      `part of the data directory was lost. ${recovery(o.storeId)}`);
  }
  const pending = new Set(o.peers);
  const deadline = Date.now() + o.waitMs;
  let lastError = new Map<number, string>();
  for (;;) {
    const errors = new Map<number, string>();
    await Promise.all([...pending].map(async (peer) => {
      let a: PeerIdentity;
      try {
        a = await o.ask(peer);
      } catch (e) {
        errors.set(peer, (e as Error).message);
        return;
      }
      if (!a.ready) {
        errors.set(peer, 'starting');
        return;
      }
      if (a.clusterId !== '' && a.clusterId !== o.clusterId) {
        throw new ForeignDataDirError(`store ${o.storeId}: store ${peer} belongs to cluster "${a.clusterId}", not "${o.clusterId}"; ` +
          'check the cluster file');
      }
      if (a.heardTerm > 0) {
        throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} is empty, but store ${peer} has heard from it ` +
          `(up to raft term ${a.heardTerm}): this store lost its raft state (votes and acknowledged entries). ${recovery(o.storeId)}`);
      }
      pending.delete(peer);
    }));
    if (pending.size === 0) {
      o.logger.info('every other store confirmed this store never took part; bootstrapping', { peers: o.peers });
      return;
    }
    if (lastError.size === 0) {
      o.logger.info('data directory is empty: waiting for every other store to answer before bootstrapping', {
        waiting: [...pending], waitMs: o.waitMs,
      });
    }
    lastError = errors;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  const missing = [...pending].map((p) => `store ${p} (${lastError.get(p) ?? 'no answer'})`).join(', ');
  throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} is empty and ${missing} did not answer within ` +
    `${Math.round(o.waitMs / 1000)} s, so it cannot tell a first start from a lost disk. Start every store of the cluster ` +
    'together (tinykv cluster up); if this store did lose its disk, see the recovery in the README.');
}

/** A store with data: has any other store heard a higher term from it than it now has? */
async function checkNotRolledBack(o: IdentityCheck): Promise<void> {
  let durable = 0;
  for (const r of o.regionIds ?? [1]) {
    const raw = await o.raft.get(keys.raftStateKey(r));
    if (raw) durable = Math.max(durable, Number(raft_serverpb.RaftLocalState.decode(raw).hard_state?.term ?? 0));
  }
  const answers = await Promise.all(o.peers.map((p) => o.ask(p).then((a) => [p, a] as const, () => undefined)));
  for (const a of answers) {
    if (!a || !a[1].ready) continue;
    const [peer, id] = a;
    if (id.heardTerm > durable) {
      throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} holds raft term ${durable}, but store ${peer} has ` +
        `heard term ${id.heardTerm} from it: the data is older than what this store has said (restored from a backup, or a ` +
        `disk that lost writes), and it could vote twice in one term. ${recovery(o.storeId)}`);
    }
  }
  const silent = answers.filter((a) => !a || !a[1].ready).length;
  if (silent > 0) o.logger.warn('some stores did not answer the identity check', { unanswered: silent, durableTerm: durable });
}
