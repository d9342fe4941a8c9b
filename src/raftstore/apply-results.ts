// What applied entries mean for the peer, in one place: membership changes go to Raft in
// log order and become the region (a removed peer learns it here), the lease ends when the
// configuration changes, and every proposal this peer made is answered with its result.
// A region split's result will be handled here too.

import type { ApplyOutcome } from './apply.js';
import type { PeerCore } from './peer-core.js';
import type { PeerReads } from './peer-reads.js';
import type { ProposalQueue } from './proposal-queue.js';
import type { RegionMeta } from './region.js';
import type { WriteResult } from './command.js';

/**
 * Takes in what `out` applied. Returns the region without this peer when the peer applied
 * its own removal (it is destroyed once the Ready is done), otherwise undefined.
 */
export function onApplied(peer: PeerCore, out: ApplyOutcome, proposals: ProposalQueue<WriteResult>, reads: PeerReads): RegionMeta | undefined {
  const removed = out.confChanges.length > 0 ? onMembershipChanged(peer, out, reads) : undefined;
  if (out.sessionsExpired > 0) {
    peer.o.logger.info('expired idle client sessions', { dropped: out.sessionsExpired, left: peer.o.sessions.rows.size });
  }
  for (const r of out.results) {
    const p = proposals.take(r.index, r.term);
    if (!p) continue;
    if (r.error) p.reject(r.error);
    else p.resolve(r.result ?? {});
  }
  return removed;
}

/** Raft's configuration changes with each applied change, in log order; the region with the last. */
function onMembershipChanged(peer: PeerCore, out: ApplyOutcome, reads: PeerReads): RegionMeta | undefined {
  for (const c of out.confChanges) peer.node.applyConfChange(c.change);
  // The quorum that confirmed the lease may not be one of the new configuration.
  reads.revokeLease();
  peer.o.storage.region = out.region;
  const self = out.region.peers.find((p) => p.id === peer.meta.id);
  peer.o.logger.info('region membership changed', {
    confVer: out.region.epoch.confVer, peers: out.region.peers.map((p) => `${p.id}@${p.storeId}${p.learner ? ' (learner)' : ''}`),
  });
  if (!self) return out.region;
  if (self.learner !== peer.meta.learner) peer.meta = self;
  return undefined;
}
