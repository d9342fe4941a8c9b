// GrpcTransport: raft messages between store processes. One client stream per peer
// store, opened lazily once the channel is connected; messages queued in one event-loop
// pass go out as one RaftMessageBatch. While a peer is unreachable its messages are
// dropped (Raft retransmits), and the channel reconnects with gRPC's own backoff.
// Fault filters (chaos) apply here on send and on receive, so isolating one store
// needs only that store's filter.

import * as grpc from '@grpc/grpc-js';
import type { raft_serverpb } from '../gen/proto.js';
import type { Logger } from '../raft/index.js';
import type { RaftEnvelope } from '../raftstore/envelope.js';
import { envelopeFromProto, envelopeToProto } from '../raftstore/envelope-codec.js';
import type { StoreId } from '../raftstore/ids.js';
import type { FaultState, Transport } from '../raftstore/transport.js';
import { linkCut, NO_FAULTS } from '../raftstore/transport.js';
import type { RaftHandlers } from '../rpc/services.js';
import { RaftService } from '../rpc/services.js';

interface PeerLink {
  readonly client: grpc.Client;
  stream: grpc.ClientWritableStream<raft_serverpb.IRaftMessageBatch> | undefined;
  queue: raft_serverpb.IRaftMessage[];
  /** The stream's buffer is full: drop until it drains. */
  congested: boolean;
}

export class GrpcTransport implements Transport {
  private readonly links = new Map<StoreId, PeerLink>();
  private faults: FaultState = NO_FAULTS;
  private flushScheduled = false;
  private closed = false;
  /** Inbound streams from other stores, answered (ended) on close. */
  private readonly inbound = new Set<() => void>();
  sent = 0;
  dropped = 0;

  constructor(
    private readonly self: StoreId,
    private readonly addrs: ReadonlyMap<StoreId, string>,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  setFaults(f: FaultState): void {
    this.faults = f;
  }

  getFaults(): FaultState {
    return this.faults;
  }

  /** Whether a message between these stores should be dropped by the chaos filters. */
  private cut(from: StoreId, to: StoreId): boolean {
    const f = this.faults;
    return linkCut(f, from, to) || (f.dropRate > 0 && this.random() < f.dropRate);
  }

  send(msg: RaftEnvelope): void {
    if (this.closed) return;
    const to = msg.toPeer.storeId;
    if (this.cut(this.self, to)) {
      this.dropped++;
      return;
    }
    const link = this.link(to);
    if (!link) return;
    const proto = envelopeToProto(msg);
    const delay = this.faults.delayMs;
    if (delay > 0) {
      setTimeout(() => this.enqueue(link, proto), Math.floor(this.random() * delay));
    } else {
      this.enqueue(link, proto);
    }
  }

  private enqueue(link: PeerLink, m: raft_serverpb.IRaftMessage): void {
    if (this.closed) return;
    link.queue.push(m);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private link(to: StoreId): PeerLink | undefined {
    let link = this.links.get(to);
    if (link) return link;
    const addr = this.addrs.get(to);
    if (!addr) return undefined;
    const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500, // a restarted store is back in the group within half a second
      'grpc.keepalive_time_ms': 10_000,
    });
    link = { client, stream: undefined, queue: [], congested: false };
    this.links.set(to, link);
    return link;
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [to, link] of this.links) {
      if (link.queue.length === 0) continue;
      const msgs = link.queue;
      link.queue = [];
      const stream = this.streamFor(to, link);
      if (!stream || link.congested) {
        this.dropped += msgs.length;
        continue;
      }
      this.sent += msgs.length;
      if (!stream.write({ msgs })) {
        link.congested = true;
        stream.once('drain', () => { link.congested = false; });
      }
    }
  }

  /** The open stream to `to`, or undefined (and a connection attempt) if not connected. */
  private streamFor(to: StoreId, link: PeerLink): grpc.ClientWritableStream<raft_serverpb.IRaftMessageBatch> | undefined {
    if (link.stream) return link.stream;
    const channel = link.client.getChannel();
    const state = channel.getConnectivityState(true);
    if (state !== grpc.connectivityState.READY) return undefined;
    const m = RaftService.raftStream;
    const stream = link.client.makeClientStreamRequest(
      m.path, m.requestSerialize, m.responseDeserialize,
      (err) => {
        if (link.stream === stream) link.stream = undefined;
        if (err && !this.closed) this.logger.debug('raft stream closed', { to, error: err.message });
      },
    );
    stream.on('error', () => { if (link.stream === stream) link.stream = undefined; });
    link.stream = stream;
    link.congested = false;
    return stream;
  }

  /** The server side: feeds each received message to `deliver`, after the receive filter. */
  handlers(deliver: (env: RaftEnvelope) => void): RaftHandlers {
    return {
      raftStream: (call, cb) => {
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          this.inbound.delete(finish);
          cb(null, {});
        };
        this.inbound.add(finish);
        call.on('data', (batch: raft_serverpb.IRaftMessageBatch) => {
          for (const p of batch.msgs ?? []) {
            let env: RaftEnvelope;
            try {
              env = envelopeFromProto(p);
            } catch (e) {
              this.logger.warn('dropping undecodable raft message', { error: (e as Error).message });
              continue;
            }
            if (linkCut(this.faults, env.fromPeer.storeId, this.self)) continue;
            deliver(env);
          }
        });
        call.on('end', finish);
        call.on('error', finish);
      },
    };
  }

  close(): void {
    this.closed = true;
    for (const finish of [...this.inbound]) finish();
    for (const link of this.links.values()) {
      link.stream?.end();
      link.client.close();
    }
    this.links.clear();
  }
}
