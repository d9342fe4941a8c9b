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
// - A store the cluster file marks `join` (added by `tinykv store add`, or wiped and
//   re-added by `store replace`) never bootstraps. On an empty data directory it also asks
//   every other store, but being heard of is no reason to refuse: it takes no part until
//   the region's leader adds it as a new peer. What it must never do is come back as one
//   of the peers it had before it lost its data. Peer ids are never reused in a region and
//   grow with conf_ver (src/raftstore/ids.ts), so it records, as min_peer_id, the highest
//   id that could have been given out by the newest conf_ver any store reports, and refuses
//   to create any peer at or below it. A late message for its old peer is dropped.
//
// The first start writes (cluster id, store id, min_peer_id) into kvdb; every later start
// checks it, so a store never runs on another store's or another cluster's data either.

import type { ErrorCode } from '../api/codes.js';
import { raft_serverpb } from '../gen/proto.js';
import { WriteBatch } from '../engine/index.js';
import type { KvEngine } from '../engine/index.js';
import { keys } from '../engine/index.js';
import type { Logger } from '../raft/index.js';
import { highestPeerIdAt } from '../raftstore/index.js';

export class ForeignDataDirError extends Error {
  readonly code: ErrorCode = 'FOREIGN_DATA_DIR';
}

/** The store lost (or rolled back) state its cluster relies on; starting would be unsafe. */
export class LostStateError extends Error {
  readonly code: ErrorCode = 'LOST_STATE';
}

/** What another store answers about itself and about us. */
export interface PeerIdentity {
  /** False while that store has not opened its engines yet. */
  readonly ready: boolean;
  /** '' when that store was never bootstrapped. */
  readonly clusterId: string;
  /** The highest term it has recorded hearing from heardPeer; 0 = never heard from the asking store. */
  readonly heardTerm: number;
  /** The newest peer of the asking store it has heard from (0: none, or not recorded). */
  readonly heardPeer: number;
  /** The conf_ver of its region state (also a removed one); 0 = it has none. */
  readonly confVer: number;
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
  /** The store joins a running cluster (cluster file `join: true`) instead of bootstrapping. */
  readonly join?: boolean;
}

/** What the check found out that the store needs to run. */
export interface IdentityResult {
  /** Peers with ids at or below this are never created on this store (0: no limit). */
  readonly minPeerId: number;
}

const RETRY_MS = 250;

const recovery = (storeId: number): string =>
  `It cannot rejoin as the member it was. To recover without losing data: restore store ${storeId}'s own latest data ` +
  `directory if you have it; otherwise run tinykv store replace --store ${storeId}, which removes its old peer while the ` +
  'other stores keep serving, and adds it back empty to catch up from them.';

/** Checks (or on a first start, writes) the data directory's identity; throws if the store must not start. */
export async function checkOrWriteIdentity(o: IdentityCheck): Promise<IdentityResult> {
  const raw = await o.kv.get(keys.storeIdentKey());
  if (raw === undefined) {
    const minPeerId = await checkFreshStart(o);
    const wb = new WriteBatch();
    wb.put(keys.storeIdentKey(), raft_serverpb.StoreIdent.encode({ cluster_id: o.clusterId, store_id: o.storeId, min_peer_id: minPeerId }).finish());
    await o.kv.write(wb, { sync: true });
    return { minPeerId };
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
  const minPeerId = Number(ident.min_peer_id ?? 0);
  await checkNotRolledBack(o, minPeerId);
  return { minPeerId };
}

/**
 * An empty data directory: a first start, or a member that lost its disk? Resolves with
 * the min_peer_id to record (0 when bootstrapping).
 */
async function checkFreshStart(o: IdentityCheck): Promise<number> {
  const [start, end] = [Buffer.of(keys.LOCAL_PREFIX), Buffer.of(keys.LOCAL_PREFIX + 1)];
  if ((await o.raft.scan({ start, end, limit: 1 })).length > 0) {
    throw new LostStateError(`store ${o.storeId}: ${o.dir}/kvdb has no store identity but raftdb holds raft state: ` +
      `part of the data directory was lost. ${recovery(o.storeId)}`);
  }
  const pending = new Set(o.peers);
  let newestConfVer = 0;
  let newestPeer = 0;
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
      newestConfVer = Math.max(newestConfVer, a.confVer);
      newestPeer = Math.max(newestPeer, a.heardPeer);
      if (a.heardTerm > 0 && !o.join) {
        throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} is empty, but store ${peer} has heard from it ` +
          `(up to raft term ${a.heardTerm}): this store lost its raft state (votes and acknowledged entries). ${recovery(o.storeId)}`);
      }
      pending.delete(peer);
    }));
    if (pending.size === 0) {
      if (!o.join) {
        // Stryker disable next-line StringLiteral,ObjectLiteral: log text and fields only
        o.logger.info('every other store confirmed this store never took part; bootstrapping', { peers: o.peers });
        return 0;
      }
      // Every peer id given out so far, and (should a store's conf_ver lag after a power
      // cut) every peer of this store anyone has heard from.
      const minPeerId = Math.max(newestConfVer > 0 ? highestPeerIdAt(newestConfVer) : 0, newestPeer);
      // Stryker disable next-line StringLiteral,ObjectLiteral: log text and fields only
      o.logger.info('joining with an empty data directory; peers this store may have had before are never recreated', { peers: o.peers, confVer: newestConfVer, minPeerId });
      return minPeerId;
    }
    if (lastError.size === 0) {
      o.logger.info(`data directory is empty: waiting for every other store to answer before ${o.join ? 'joining' : 'bootstrapping'}`, {
        waiting: [...pending], waitMs: o.waitMs,
      });
    }
    lastError = errors;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  // Stryker disable next-line StringLiteral: 'no answer' is unreachable (every store still pending failed the last round, so lastError has its reason); the ', ' separator is killed by the test naming both silent stores
  const missing = [...pending].map((p) => `store ${p} (${lastError.get(p) ?? 'no answer'})`).join(', ');
  if (o.join) {
    throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} is empty and ${missing} did not answer within ` +
      `${Math.round(o.waitMs / 1000)} s, so it cannot tell which peers it may have had before; it joins only once every ` +
      'other store in the cluster file answers (start them, or mark a store that is gone for good with tinykv store remove).');
  }
  throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} is empty and ${missing} did not answer within ` +
    `${Math.round(o.waitMs / 1000)} s, so it cannot tell a first start from a lost disk. Start every store of the cluster ` +
    'together (tinykv cluster up); if this store did lose its disk, see the recovery in the README.');
}

/**
 * A store with data: has any other store heard more from it than its data holds? Either a
 * higher term from the peer it has (an older copy of that peer's state), or anything from
 * a newer peer of this store than any it knows of (an older copy of the whole directory:
 * taken before the store joined as that peer, or before a removed store was added back).
 */
async function checkNotRolledBack(o: IdentityCheck, minPeerId: number): Promise<void> {
  let durable = 0;
  let mine = 0;
  let floor = minPeerId;
  let live = false;
  for (const r of o.regionIds ?? [1]) {
    const raw = await o.raft.get(keys.raftStateKey(r));
    if (raw) durable = Math.max(durable, Number(raft_serverpb.RaftLocalState.decode(raw).hard_state?.term ?? 0));
    const rawRegion = await o.kv.get(keys.regionStateKey(r));
    if (!rawRegion) {
      live ||= raw !== undefined;
      continue;
    }
    const state = raft_serverpb.RegionLocalState.decode(rawRegion);
    const region = state.region;
    if (state.state === raft_serverpb.PeerState.Tombstone) {
      // Removed: no peer here. Any peer this store had was given out by that conf_ver.
      floor = Math.max(floor, highestPeerIdAt(Number(region?.region_epoch?.conf_ver ?? 0)));
      continue;
    }
    live = true;
    // Stryker disable next-line ArrayDeclaration: a non-peer element has no store_id, so find matches nothing in it either
    const self = (region?.peers ?? []).find((p) => Number(p.store_id) === o.storeId);
    if (self) mine = Math.max(mine, Number(self.id));
  }
  floor = Math.max(floor, mine);
  const answers = await Promise.all(o.peers.map((p) => o.ask(p).then((a) => [p, a] as const, () => undefined)));
  for (const a of answers) {
    if (!a || !a[1].ready) continue;
    const [peer, id] = a;
    if (id.heardPeer > floor) {
      throw new LostStateError(`store ${o.storeId}: store ${peer} has heard from peer ${id.heardPeer} of this store (up to raft term ` +
        `${id.heardTerm}), but its data directory ${o.dir} knows no such peer: the data is older than what this store has said ` +
        `(restored from a backup, or a disk that lost writes). ${recovery(o.storeId)}`);
    }
    // The same peer (or a record from before peer ids were kept): compare terms.
    const samePeer = id.heardPeer === 0 || id.heardPeer === mine;
    if (live && samePeer && id.heardTerm > durable) {
      throw new LostStateError(`store ${o.storeId}: its data directory ${o.dir} holds raft term ${durable}, but store ${peer} has ` +
        `heard term ${id.heardTerm} from it: the data is older than what this store has said (restored from a backup, or a ` +
        `disk that lost writes), and it could vote twice in one term. ${recovery(o.storeId)}`);
    }
  }
  const silent = answers.filter((a) => !a || !a[1].ready).length;
  if (silent > 0) o.logger.warn('some stores did not answer the identity check', { unanswered: silent, durableTerm: durable });
}
