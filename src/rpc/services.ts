// gRPC service definitions of a store (tinykvpb.proto), built by hand over the
// protobufjs static code: grpc-js needs method descriptors with serializers, which the
// generated classes do not provide. Shared by the store's server (src/node/grpc-server.ts),
// its raft transport, and the clients (src/client, over node:http2: grpc-unary.ts takes
// the same descriptors). The handler types say what a store's service is given per call.

import { kvrpcpb, raft_serverpb, tinykvpb } from '../gen/proto.js';

/** One gRPC method: its path, whether each side streams, and its messages' codecs. */
export interface MethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  requestSerialize(m: Req): Buffer;
  requestDeserialize(b: Buffer): Req;
  responseSerialize(m: Res): Buffer;
  responseDeserialize(b: Buffer): Res;
}

/** A failed call, as a handler reports it: a gRPC status code and its message. */
export interface CallFailure {
  readonly code?: number;
  readonly details?: string;
}
/** How a handler answers a unary or client-streaming call: a failure, or the answer. */
export type Reply<Res> = (err: CallFailure | null, res?: Res) => void;

/** A unary call: its one request. */
export interface UnaryCall<Req> {
  readonly request: Req;
}

/**
 * A call whose requests stream in: 'data' for each, then 'end'; 'cancelled' if the
 * client went away first. pause()/resume() hold back 'data'. A bidirectional call
 * answers with write() (false: the stream's buffer is full) and end() (status OK).
 */
export interface StreamCall<Req, Res> {
  on(event: 'data', listener: (m: Req) => void): this;
  on(event: 'end' | 'cancelled', listener: () => void): this;
  pause(): void;
  resume(): void;
  write(m: Res): boolean;
  end(): void;
}

type UnaryHandler<Req, Res> = (call: UnaryCall<Req>, reply: Reply<Res>) => void;
type ClientStreamHandler<Req, Res> = (call: StreamCall<Req, never>, reply: Reply<Res>) => void;
type BidiHandler<Req, Res> = (call: StreamCall<Req, Res>) => void;

interface Codec<T> {
  encode(m: T): { finish(): Uint8Array };
  decode(b: Uint8Array): T;
}

function method<Req, Res>(
  path: string, req: Codec<Req>, res: Codec<Res>, requestStream = false, responseStream = false,
): MethodDefinition<Req, Res> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: (m: Req) => Buffer.from(req.encode(m).finish()),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: Res) => Buffer.from(res.encode(m).finish()),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

type C<T> = Codec<T>;
const c = <T>(x: unknown): C<T> => x as C<T>;

export const TinyKvService = {
  rawGet: method<kvrpcpb.IRawGetRequest, kvrpcpb.IRawGetResponse>('/tinykvpb.TinyKv/RawGet', c(kvrpcpb.RawGetRequest), c(kvrpcpb.RawGetResponse)),
  rawPut: method<kvrpcpb.IRawPutRequest, kvrpcpb.IRawPutResponse>('/tinykvpb.TinyKv/RawPut', c(kvrpcpb.RawPutRequest), c(kvrpcpb.RawPutResponse)),
  rawDelete: method<kvrpcpb.IRawDeleteRequest, kvrpcpb.IRawDeleteResponse>('/tinykvpb.TinyKv/RawDelete', c(kvrpcpb.RawDeleteRequest), c(kvrpcpb.RawDeleteResponse)),
  rawDeleteRange: method<kvrpcpb.IRawDeleteRangeRequest, kvrpcpb.IRawDeleteRangeResponse>(
    '/tinykvpb.TinyKv/RawDeleteRange', c(kvrpcpb.RawDeleteRangeRequest), c(kvrpcpb.RawDeleteRangeResponse)),
  rawScan: method<kvrpcpb.IRawScanRequest, kvrpcpb.IRawScanResponse>('/tinykvpb.TinyKv/RawScan', c(kvrpcpb.RawScanRequest), c(kvrpcpb.RawScanResponse)),
  batchCommands: method<kvrpcpb.IBatchCommandsRequest, kvrpcpb.IBatchCommandsResponse>(
    '/tinykvpb.TinyKv/BatchCommands', c(kvrpcpb.BatchCommandsRequest), c(kvrpcpb.BatchCommandsResponse), true, true),
} as const;

export const RaftService = {
  raftStream: method<raft_serverpb.IRaftMessageBatch, tinykvpb.IDone>('/tinykvpb.Raft/RaftStream', c(raft_serverpb.RaftMessageBatch), c(tinykvpb.Done), true),
  snapshot: method<raft_serverpb.ISnapshotChunk, tinykvpb.IDone>('/tinykvpb.Raft/Snapshot', c(raft_serverpb.SnapshotChunk), c(tinykvpb.Done), true),
} as const;

export const AdminService = {
  status: method<kvrpcpb.IStatusRequest, kvrpcpb.IStatusResponse>('/tinykvpb.Admin/Status', c(kvrpcpb.StatusRequest), c(kvrpcpb.StatusResponse)),
  fault: method<kvrpcpb.IFaultRequest, kvrpcpb.IFaultResponse>('/tinykvpb.Admin/Fault', c(kvrpcpb.FaultRequest), c(kvrpcpb.FaultResponse)),
  identity: method<kvrpcpb.IIdentityRequest, kvrpcpb.IIdentityResponse>('/tinykvpb.Admin/Identity', c(kvrpcpb.IdentityRequest), c(kvrpcpb.IdentityResponse)),
  transferLeader: method<kvrpcpb.ITransferLeaderRequest, kvrpcpb.ITransferLeaderResponse>(
    '/tinykvpb.Admin/TransferLeader', c(kvrpcpb.TransferLeaderRequest), c(kvrpcpb.TransferLeaderResponse)),
  changePeer: method<kvrpcpb.IChangePeerRequest, kvrpcpb.IChangePeerResponse>(
    '/tinykvpb.Admin/ChangePeer', c(kvrpcpb.ChangePeerRequest), c(kvrpcpb.ChangePeerResponse)),
} as const;

export type TinyKvHandlers = {
  rawGet: UnaryHandler<kvrpcpb.IRawGetRequest, kvrpcpb.IRawGetResponse>;
  rawPut: UnaryHandler<kvrpcpb.IRawPutRequest, kvrpcpb.IRawPutResponse>;
  rawDelete: UnaryHandler<kvrpcpb.IRawDeleteRequest, kvrpcpb.IRawDeleteResponse>;
  rawDeleteRange: UnaryHandler<kvrpcpb.IRawDeleteRangeRequest, kvrpcpb.IRawDeleteRangeResponse>;
  rawScan: UnaryHandler<kvrpcpb.IRawScanRequest, kvrpcpb.IRawScanResponse>;
  batchCommands: BidiHandler<kvrpcpb.IBatchCommandsRequest, kvrpcpb.IBatchCommandsResponse>;
};

export type RaftHandlers = {
  raftStream: ClientStreamHandler<raft_serverpb.IRaftMessageBatch, tinykvpb.IDone>;
  snapshot: ClientStreamHandler<raft_serverpb.ISnapshotChunk, tinykvpb.IDone>;
};

export type AdminHandlers = {
  status: UnaryHandler<kvrpcpb.IStatusRequest, kvrpcpb.IStatusResponse>;
  fault: UnaryHandler<kvrpcpb.IFaultRequest, kvrpcpb.IFaultResponse>;
  identity: UnaryHandler<kvrpcpb.IIdentityRequest, kvrpcpb.IIdentityResponse>;
  transferLeader: UnaryHandler<kvrpcpb.ITransferLeaderRequest, kvrpcpb.ITransferLeaderResponse>;
  changePeer: UnaryHandler<kvrpcpb.IChangePeerRequest, kvrpcpb.IChangePeerResponse>;
};
