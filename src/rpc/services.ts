// gRPC service definitions of a store (tinykvpb.proto), built by hand over the
// protobufjs static code: grpc-js needs method descriptors with serializers, which the
// generated classes do not provide. Shared by the server (src/node, with grpc-js) and
// the clients (src/client, over node:http2: grpc-unary.ts takes the same descriptors).

import type * as grpc from '@grpc/grpc-js';
import { kvrpcpb, raft_serverpb, tinykvpb } from '../gen/proto.js';

interface Codec<T> {
  encode(m: T): { finish(): Uint8Array };
  decode(b: Uint8Array): T;
}

function method<Req, Res>(
  path: string, req: Codec<Req>, res: Codec<Res>, requestStream = false, responseStream = false,
): grpc.MethodDefinition<Req, Res> {
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
  rawGet: grpc.handleUnaryCall<kvrpcpb.IRawGetRequest, kvrpcpb.IRawGetResponse>;
  rawPut: grpc.handleUnaryCall<kvrpcpb.IRawPutRequest, kvrpcpb.IRawPutResponse>;
  rawDelete: grpc.handleUnaryCall<kvrpcpb.IRawDeleteRequest, kvrpcpb.IRawDeleteResponse>;
  rawDeleteRange: grpc.handleUnaryCall<kvrpcpb.IRawDeleteRangeRequest, kvrpcpb.IRawDeleteRangeResponse>;
  rawScan: grpc.handleUnaryCall<kvrpcpb.IRawScanRequest, kvrpcpb.IRawScanResponse>;
  batchCommands: grpc.handleBidiStreamingCall<kvrpcpb.IBatchCommandsRequest, kvrpcpb.IBatchCommandsResponse>;
};

export type RaftHandlers = {
  raftStream: grpc.handleClientStreamingCall<raft_serverpb.IRaftMessageBatch, tinykvpb.IDone>;
  snapshot: grpc.handleClientStreamingCall<raft_serverpb.ISnapshotChunk, tinykvpb.IDone>;
};

export type AdminHandlers = {
  status: grpc.handleUnaryCall<kvrpcpb.IStatusRequest, kvrpcpb.IStatusResponse>;
  fault: grpc.handleUnaryCall<kvrpcpb.IFaultRequest, kvrpcpb.IFaultResponse>;
  identity: grpc.handleUnaryCall<kvrpcpb.IIdentityRequest, kvrpcpb.IIdentityResponse>;
  transferLeader: grpc.handleUnaryCall<kvrpcpb.ITransferLeaderRequest, kvrpcpb.ITransferLeaderResponse>;
  changePeer: grpc.handleUnaryCall<kvrpcpb.IChangePeerRequest, kvrpcpb.IChangePeerResponse>;
};
