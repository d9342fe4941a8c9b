// Public surface of the client: KvClient (retries, leader hints, sessions) over one
// StoreConnection per store, an AdminClient for one store's admin service, and the gRPC
// channels they speak through (also used by src/node for store-to-store traffic).
// Everything outside src/client imports from here.

export type { KvClientOptions } from './kv-client.js';
export { KvClient } from './kv-client.js';
export { RegionCache } from './region-cache.js';
export type { ConnectOptions } from './connect.js';
export { connectKvClient, connectKvClients } from './connect.js';
export { configFromEndpoints } from './endpoints.js';
export type { CallOptions, StoreConnection } from './connection.js';
export * from './errors.js';
export type { FaultSpec, IdentityInfo, MemberInfo, MembershipChange, StoreStatusInfo } from './admin-client.js';
export { AdminClient, AdminUnreachableError, adminFailureReason } from './admin-client.js';
export type { GrpcStoreConnectionOptions } from './grpc-connection.js';
export { GrpcStoreConnection } from './grpc-connection.js';
export type { BatchChannelOptions, BatchKind } from './grpc-batch.js';
export { BatchChannel } from './grpc-batch.js';
export type { TransportFailure, UnaryChannelOptions, UnaryMethod } from './grpc-unary.js';
export { StatusError, TransportError, UnaryChannel } from './grpc-unary.js';
