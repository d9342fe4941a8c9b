// GrpcTransport: raft messages between store processes. One client stream per peer
// store, opened lazily once the channel is connected; messages queued in one event-loop
// pass go out as one RaftMessageBatch. While a peer is unreachable its messages are
// dropped (Raft retransmits), and the channel reconnects with gRPC's own backoff.
// Fault filters (chaos) apply here on send and on receive, so isolating one store
// needs only that store's filter.
// A snapshot travels on its own call (Raft.Snapshot): the MsgSnapshot, then its file in
// chunks of SNAPSHOT_CHUNK bytes, each written only when the stream has room (so neither
// side holds more than a few chunks in memory). The receiver stages and verifies the file
// and hands the message to its store before it answers; a partition that forms mid-way
// cancels the call, and Raft sends a snapshot again once the link is back.

import * as grpc from '@grpc/grpc-js';
import type { raft_serverpb } from '../gen/proto.js';
import type { Logger } from '../raft/index.js';
import type { RaftEnvelope } from '../raftstore/index.js';
import { envelopeFromProto, envelopeToProto } from '../raftstore/index.js';
import type { StoreId } from '../api/ids.js';
import type { FaultState, Transport } from '../raftstore/index.js';
import type { SnapshotFiles } from '../engine/index.js';
import type { SnapshotReceiver } from '../raftstore/index.js';
import { linkCut, NO_FAULTS } from '../raftstore/index.js';
import type { RaftHandlers, Reply, StreamCall } from '../rpc/services.js';
import { GrpcStatus } from '../api/wire-errors.js';
import { RaftService } from '../rpc/services.js';

interface PeerLink {
  readonly client: grpc.Client;
  stream: grpc.ClientWritableStream<raft_serverpb.IRaftMessageBatch> | undefined;
  queue: raft_serverpb.IRaftMessage[];
  /** The stream's buffer is full: drop until it drains. */
  congested: boolean;
}

/** Bytes of snapshot file per stream message. */
export const SNAPSHOT_CHUNK = 1024 * 1024;
/** A snapshot call that makes no progress for this long is cancelled. */
const SNAPSHOT_STALL_MS = 30_000;

export class GrpcTransport implements Transport {
  /** The sending store's snapshot files; set once the store has opened them. */
  snapshotFiles: SnapshotFiles | undefined;
  /** Snapshot calls in flight (sent or received), cancelled on close. */
  private readonly snapshotCalls = new Set<{ cancel(): void }>();
  private readonly links = new Map<StoreId, PeerLink>();
  private faults: FaultState = NO_FAULTS;
  private flushScheduled = false;
  private closed = false;
  /** Inbound streams from other stores, answered (ended) on close. */
  private readonly inbound = new Set<() => void>();
  /** Raft messages handed to a stream, received, and dropped by why (the store's metrics). */
  readonly counts = { sent: 0, received: 0, dropped: { fault: 0, unreachable: 0, congested: 0, unknown_store: 0, undecodable: 0 } };

  constructor(
    private readonly self: StoreId,
    /** A store's address; undefined for a store this one does not know (the message is dropped). */
    private readonly addrOf: (id: StoreId) => string | undefined,
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
      this.counts.dropped.fault++;
      return;
    }
    const link = this.link(to);
    if (!link) {
      this.counts.dropped.unknown_store++;
      return;
    }
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
    const addr = this.addrOf(to);
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
        this.counts.dropped[stream ? 'congested' : 'unreachable'] += msgs.length;
        continue;
      }
      this.counts.sent += msgs.length;
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

  async sendSnapshot(msg: RaftEnvelope, fileName: string): Promise<void> {
    const to = msg.toPeer.storeId;
    if (this.closed) throw new Error('transport closed');
    if (!this.snapshotFiles) throw new Error('no snapshot files to send from');
    if (linkCut(this.faults, this.self, to)) throw new Error(`snapshot to store ${to}: link cut`);
    const link = this.link(to);
    if (!link) throw new Error(`snapshot to store ${to}: unknown store`);
    const reader = await this.snapshotFiles.open(fileName);
    const m = RaftService.snapshot;
    let settle!: (err: Error | null) => void;
    const answered = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    const call = link.client.makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, (err) => settle(err));
    call.on('error', () => undefined); // reported through the callback
    this.snapshotCalls.add(call);
    let stall: NodeJS.Timeout | undefined;
    const armStall = () => {
      clearTimeout(stall);
      stall = setTimeout(() => call.cancel(), SNAPSHOT_STALL_MS);
    };
    try {
      armStall();
      await this.writeChunk(call, { message: envelopeToProto(msg) });
      for (let data = await reader.read(SNAPSHOT_CHUNK); data; data = await reader.read(SNAPSHOT_CHUNK)) {
        if (this.closed || linkCut(this.faults, this.self, to)) {
          call.cancel();
          throw new Error(`snapshot to store ${to}: link cut mid-transfer`);
        }
        await this.writeChunk(call, { data });
        armStall();
      }
      call.end();
      await answered;
    } catch (e) {
      call.cancel();
      await answered.catch(() => undefined);
      throw e;
    } finally {
      clearTimeout(stall);
      this.snapshotCalls.delete(call);
      await reader.close();
    }
  }

  /** Writes one stream message, waiting for room if the stream's buffer is full. */
  private writeChunk(call: grpc.ClientWritableStream<raft_serverpb.ISnapshotChunk>, chunk: raft_serverpb.ISnapshotChunk): Promise<void> {
    return new Promise((resolve, reject) => {
      if (call.write(chunk)) return resolve();
      const onDrain = () => { call.off('error', onError); resolve(); };
      const onError = (e: Error) => { call.off('drain', onDrain); reject(e); };
      call.once('drain', onDrain);
      call.once('error', onError);
    });
  }

  /**
   * The server side: feeds each received message to `deliver`, after the receive filter;
   * stages incoming snapshots through `receiveSnapshot` before delivering their message.
   */
  handlers(deliver: (env: RaftEnvelope) => void, receiveSnapshot: (env: RaftEnvelope) => Promise<SnapshotReceiver>): RaftHandlers {
    return {
      snapshot: (call, cb) => this.onSnapshotCall(call, cb, deliver, receiveSnapshot),
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
              this.counts.dropped.undecodable++;
              this.logger.warn('dropping undecodable raft message', { error: (e as Error).message });
              continue;
            }
            if (linkCut(this.faults, env.fromPeer.storeId, this.self)) {
              this.counts.dropped.fault++;
              continue;
            }
            this.counts.received++;
            deliver(env);
          }
        });
        call.on('end', finish);
        call.on('cancelled', finish);
      },
    };
  }

  private onSnapshotCall(
    call: StreamCall<raft_serverpb.ISnapshotChunk, never>,
    cb: Reply<object>,
    deliver: (env: RaftEnvelope) => void,
    receiveSnapshot: (env: RaftEnvelope) => Promise<SnapshotReceiver>,
  ): void {
    let env: RaftEnvelope | undefined;
    let receiver: Promise<SnapshotReceiver> | undefined;
    let failed = false;
    const handle = { cancel: () => fail(new Error('store stopping')) };
    this.snapshotCalls.add(handle);
    const fail = (e: Error, code: number = GrpcStatus.ABORTED): void => {
      if (failed) return;
      failed = true;
      this.snapshotCalls.delete(handle);
      void receiver?.then((r) => r.abort(), () => undefined);
      this.logger.warn('snapshot receive failed', { from: env?.fromPeer.storeId, error: e.message });
      cb({ code, details: e.message });
    };
    // One chunk at a time: pause the stream while a chunk is written to disk.
    let chain = Promise.resolve();
    call.on('data', (chunk: raft_serverpb.ISnapshotChunk) => {
      call.pause();
      chain = chain.then(async () => {
        if (failed) return;
        if (!env) {
          if (!chunk.message) throw new Error('the first snapshot chunk carries no message');
          env = envelopeFromProto(chunk.message);
          receiver = receiveSnapshot(env);
        }
        if (linkCut(this.faults, env.fromPeer.storeId, this.self)) throw new Error('link cut');
        if (chunk.data && chunk.data.length > 0) await (await receiver!).write(chunk.data);
      }).then(() => { call.resume(); }, (e: Error) => fail(e));
    });
    call.on('end', () => {
      chain = chain.then(async () => {
        if (failed) return;
        if (!receiver || !env) throw new Error('snapshot call ended before its message');
        const delivered = await (await receiver).finish();
        if (linkCut(this.faults, delivered.fromPeer.storeId, this.self)) throw new Error('link cut');
        deliver(delivered);
        this.snapshotCalls.delete(handle);
        cb(null, {});
      }).catch((e: Error) => fail(e));
    });
    call.on('cancelled', () => fail(new Error('cancelled by the sender')));
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.snapshotCalls]) c.cancel();
    for (const finish of [...this.inbound]) finish();
    for (const link of this.links.values()) {
      link.stream?.end();
      link.client.close();
    }
    this.links.clear();
  }
}
