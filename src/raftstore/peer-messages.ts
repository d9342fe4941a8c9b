// A peer's raft messages on the way in and out: who each goes to (the region's members,
// or for a peer not yet initialized, the peers that wrote to it), which snapshots it
// accepts, and how an outgoing MsgSnapshot travels (with its file, through the snapshot
// manager, its fate reported back to the raft core).

import type { Message, MsgSnapshot } from '../raft/index.js';
import type { LogPolicy } from './log-policy.js';
import type { PeerCore } from './peer-core.js';
import type { PeerMeta, RaftEnvelope } from './envelope.js';
import { decodeDescriptor } from './snapshot-data.js';

export class PeerMessages {
  /** Peers that sent this peer a message (the region may not name them yet: see send). */
  private readonly heardFrom = new Map<number, PeerMeta>();

  constructor(private readonly peer: PeerCore, private readonly policy: LogPolicy) {}

  /**
   * An inbound message: remembers its sender and says whether to step it (a snapshot of
   * another region or an older epoch is dropped).
   */
  accept(env: RaftEnvelope): boolean {
    if (!this.heardFrom.has(env.fromPeer.id)) this.heardFrom.set(env.fromPeer.id, env.fromPeer);
    return env.message.type !== 'MsgSnapshot' || this.acceptableSnapshot(env.message);
  }

  /**
   * A snapshot must be of this region and not from an older epoch of it (a stale leader's
   * view); anything else is dropped with a warning. Staleness by index is Raft's call.
   */
  private acceptableSnapshot(m: MsgSnapshot): boolean {
    const { o, region: here } = this.peer;
    let region;
    try {
      region = decodeDescriptor(m.snapshot).region;
    } catch (e) {
      o.logger.warn('dropping a snapshot with an unreadable descriptor', { error: (e as Error).message, from: m.from });
      return false;
    }
    const ours = here.epoch;
    if (region.id !== here.id || region.epoch.confVer < ours.confVer || region.epoch.version < ours.version) {
      o.logger.warn('dropping a snapshot of another region or an older epoch', {
        from: m.from, region: region.id, epoch: region.epoch, ours,
      });
      return false;
    }
    return true;
  }

  /** Only once the Ready's entries and hard state are durable: a message is a promise. */
  send(messages: readonly Message[]): void {
    const { o, region, meta } = this.peer;
    for (const m of messages) {
      // A peer not yet initialized knows no other peer from its region: it answers the
      // peers that wrote to it.
      const to = region.peers.find((p) => p.id === m.to) ?? this.heardFrom.get(m.to);
      if (!to) continue;
      const env: RaftEnvelope = { regionId: region.id, fromPeer: meta, toPeer: to, regionEpoch: region.epoch, message: m };
      if (m.type === 'MsgSnapshot') this.sendSnapshot(env, m);
      else o.transport.send(env);
    }
  }

  private sendSnapshot(env: RaftEnvelope, m: MsgSnapshot): void {
    const peer = this.peer;
    const report = (status: 'finish' | 'failure'): void => {
      if (peer.stopped) return;
      peer.node.reportSnapshot(m.to, status);
      peer.schedule();
    };
    const { index, term } = m.snapshot.metadata;
    const file = peer.o.storage.generatedFile(index, term);
    if (!file) {
      peer.o.logger.warn('snapshot file already replaced; reporting the send failed', { index, term, to: m.to });
      queueMicrotask(() => report('failure'));
      return;
    }
    peer.o.logger.info('sending snapshot', { to: env.toPeer.storeId, index, term });
    this.policy.snapshotSent(m.to, index);
    peer.o.snapshots.send(env, file, (status) => {
      if (status === 'failure') this.policy.snapshotFailed(m.to, index);
      report(status);
    });
  }
}
