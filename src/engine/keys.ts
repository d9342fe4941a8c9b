// Every key encoding of the store, in one place (src/engine). The raftstore builds all engine
// keys here; nothing else concatenates key bytes. Numbers (region ids, log indexes, client
// ids) are 8-byte unsigned big-endian, so byte order (the engines' order) is numeric order.
//
// Layout (bytes; u64 = 8-byte big-endian; `|` separates fields):
//
//   0x01 | 0x01                                  store ident                        kvdb
//   0x01 | 0x02 | region u64 | 0x01 | index u64  raft log entry                     raftdb
//   0x01 | 0x02 | region u64 | 0x02              RaftLocalState                     raftdb
//   0x01 | 0x02 | region u64 | 0x03              RaftApplyState                     kvdb
//   0x01 | 0x02 | region u64 | 0x04 | client u64 client session (last sequence)     kvdb
//   0x01 | 0x03 | region u64 | 0x01              RegionLocalState                   kvdb
//   0x01 | 0x04 | store u64                      newest peer and term heard from a store  kvdb
//   'z'  | cf   | user key                       user data; cf 'd' default,         kvdb
//                                                'l' lock, 'w' write
//
// Local (metadata) keys all start with 0x01 and data keys with 'z' (0x7a), so the two never
// mix and all data sorts after all metadata. Within a prefix the fixed-width fields keep
// regions apart: every key of region r lies between those of regions r-1 and r+1.

import { asBuffer } from './checks.js';
import { EncodingError } from './errors.js';

/**
 * First byte of every local key (store and region metadata, raft log, sessions); sorts
 * before all data keys.
 */
export const LOCAL_PREFIX = 0x01;
/** First byte of every data key (user data, 'z'), so the data space sorts after all local keys. */
export const DATA_PREFIX = 0x7a; // 'z'

const STORE_IDENT = 0x01;
const REGION_RAFT = 0x02;
const REGION_META = 0x03;
const PEER_TERM = 0x04;

const RAFT_LOG_SUFFIX = 0x01;
const RAFT_STATE_SUFFIX = 0x02;
const APPLY_STATE_SUFFIX = 0x03;
const CLIENT_SESSION_SUFFIX = 0x04;
const REGION_STATE_SUFFIX = 0x01;

/** Length of [LOCAL_PREFIX, region prefix, region id]. */
const REGION_HEAD = 2 + 8;

/** A half-open key range [start, end). */
export type KeyRange = [start: Buffer, end: Buffer];

/** The column families of the data space; they are key prefixes, not RocksDB column families. */
export type Cf = 'default' | 'lock' | 'write';
/** Every column family, in the order their key prefixes sort. */
export const CFS: readonly Cf[] = ['default', 'lock', 'write'];
const CF_BYTE: Record<Cf, number> = { default: 0x64, lock: 0x6c, write: 0x77 }; // 'd' 'l' 'w'

function checkU64(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

/** `n` as 8 bytes big-endian. `n` must be a non-negative safe integer. */
export function u64be(n: number, what = 'number'): Buffer {
  checkU64(n, what);
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Reads the 8-byte big-endian number at `offset`; EncodingError if short or above 2^53 - 1. */
export function readU64be(buf: Buffer, offset = 0): number {
  if (buf.length < offset + 8) throw new EncodingError(`expected 8 bytes at offset ${offset}, have ${buf.length - offset}`);
  const n = buf.readBigUInt64BE(offset);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new EncodingError(`u64 ${n} at offset ${offset} is not a safe integer`);
  return Number(n);
}

function regionKey(prefix: number, regionId: number, suffix: number, tail?: Buffer): Buffer {
  checkU64(regionId, 'region id');
  const b = Buffer.alloc(REGION_HEAD + 1 + (tail?.length ?? 0));
  b[0] = LOCAL_PREFIX;
  b[1] = prefix;
  b.writeBigUInt64BE(BigInt(regionId), 2);
  b[REGION_HEAD] = suffix;
  tail?.copy(b, REGION_HEAD + 1);
  return b;
}

/** Checks the fixed head of a region key with an 8-byte tail and returns [region id, tail number]. */
function decodeRegionKey(key: Buffer, prefix: number, suffix: number, what: string): [number, number] {
  if (key.length !== REGION_HEAD + 1 + 8 || key[0] !== LOCAL_PREFIX || key[1] !== prefix || key[REGION_HEAD] !== suffix) {
    throw new EncodingError(`not a ${what} key: ${key.toString('hex')}`);
  }
  return [readU64be(key, 2), readU64be(key, REGION_HEAD + 1)];
}

/** The key that marks a bootstrapped store (kvdb). */
export function storeIdentKey(): Buffer {
  return Buffer.of(LOCAL_PREFIX, STORE_IDENT);
}

/**
 * The highest raft term this store has heard from store `storeId` (kvdb): lets a store
 * that starts with lost or rolled-back state be recognised (src/node/identity.ts).
 */
export function peerTermKey(storeId: number): Buffer {
  const b = Buffer.alloc(2 + 8);
  b[0] = LOCAL_PREFIX;
  b[1] = PEER_TERM;
  u64be(storeId, 'store id').copy(b, 2);
  return b;
}

/** Every peerTermKey. */
export function peerTermRange(): KeyRange {
  return [Buffer.of(LOCAL_PREFIX, PEER_TERM), Buffer.of(LOCAL_PREFIX, PEER_TERM + 1)];
}

/**
 * The value under peerTermKey: the newest peer of that store heard from, and the highest
 * term heard from that peer. An 8-byte value (written before peer ids were recorded) is
 * a term alone, peer id 0.
 */
export interface HeardRecord {
  readonly peerId: number;
  readonly term: number;
}

/** The 16-byte value of a HeardRecord: term, then peer id, both big-endian. */
export function encodeHeardRecord(r: HeardRecord): Buffer {
  return Buffer.concat([u64be(r.term, 'term'), u64be(r.peerId, 'peer id')]);
}

/**
 * Reads a HeardRecord (an old 8-byte value is a term with peer id 0); throws EncodingError
 * on any other length.
 */
export function decodeHeardRecord(v: Buffer): HeardRecord {
  if (v.length === 8) return { peerId: 0, term: readU64be(v) };
  if (v.length !== 16) throw new EncodingError(`not a heard record: ${v.toString('hex')}`);
  return { term: readU64be(v, 0), peerId: readU64be(v, 8) };
}

/** The store id in a peerTermKey; throws EncodingError for any other key. */
export function decodePeerTermKey(key: Buffer): number {
  if (key.length !== 10 || key[0] !== LOCAL_PREFIX || key[1] !== PEER_TERM) throw new EncodingError(`not a peer term key: ${key.toString('hex')}`);
  return readU64be(key, 2);
}

/** Raft log entry `index` of region `regionId` (raftdb). */
export function raftLogKey(regionId: number, index: number): Buffer {
  return regionKey(REGION_RAFT, regionId, RAFT_LOG_SUFFIX, u64be(index, 'log index'));
}

/** The region and index of a raftLogKey; throws EncodingError for any other key. */
export function decodeRaftLogKey(key: Buffer): { regionId: number; index: number } {
  const [regionId, index] = decodeRegionKey(key, REGION_RAFT, RAFT_LOG_SUFFIX, 'raft log');
  return { regionId, index };
}

/**
 * The raft log keys of a region with from <= index < to (to omitted: every index from `from`
 * on). Delete a conflicting tail with raftLogRange(r, firstConflict), truncate with
 * raftLogRange(r, 0, truncatedIndex + 1).
 */
export function raftLogRange(regionId: number, from = 0, to?: number): KeyRange {
  const start = raftLogKey(regionId, from);
  const end = to === undefined ? regionKey(REGION_RAFT, regionId, RAFT_LOG_SUFFIX + 1) : raftLogKey(regionId, to);
  return [start, end];
}

/** RaftLocalState of a region: hard state and last log index (raftdb). */
export function raftStateKey(regionId: number): Buffer {
  return regionKey(REGION_RAFT, regionId, RAFT_STATE_SUFFIX);
}

/** RaftApplyState of a region: applied index and truncated state (kvdb). */
export function applyStateKey(regionId: number): Buffer {
  return regionKey(REGION_RAFT, regionId, APPLY_STATE_SUFFIX);
}

/** RegionLocalState of a region: its metadata and peer state (kvdb). */
export function regionStateKey(regionId: number): Buffer {
  return regionKey(REGION_META, regionId, REGION_STATE_SUFFIX);
}

/** The last applied sequence number of client `clientId` in a region, for de-duplicating retries (kvdb). */
export function clientSessionKey(regionId: number, clientId: number): Buffer {
  return regionKey(REGION_RAFT, regionId, CLIENT_SESSION_SUFFIX, u64be(clientId, 'client id'));
}

/** The region and client of a clientSessionKey; throws EncodingError for any other key. */
export function decodeClientSessionKey(key: Buffer): { regionId: number; clientId: number } {
  const [regionId, clientId] = decodeRegionKey(key, REGION_RAFT, CLIENT_SESSION_SUFFIX, 'client session');
  return { regionId, clientId };
}

/** Every client session key of a region. */
export function clientSessionRange(regionId: number): KeyRange {
  return [regionKey(REGION_RAFT, regionId, CLIENT_SESSION_SUFFIX), regionKey(REGION_RAFT, regionId, CLIENT_SESSION_SUFFIX + 1)];
}

function cfByte(cf: Cf): number {
  if (!Object.hasOwn(CF_BYTE, cf)) throw new TypeError(`unknown column family ${String(cf)}`);
  return CF_BYTE[cf];
}

/** The engine key of user key `userKey` in column family `cf` (kvdb). The user key may be empty. */
export function dataKey(cf: Cf, userKey: Uint8Array): Buffer {
  const user = asBuffer(userKey, 'user key');
  const b = Buffer.allocUnsafe(2 + user.length);
  b[0] = DATA_PREFIX;
  b[1] = cfByte(cf);
  user.copy(b, 2);
  return b;
}

/** The exclusive upper bound of every data key of `cf`. */
export function dataKeyEnd(cf: Cf): Buffer {
  return Buffer.of(DATA_PREFIX, cfByte(cf) + 1);
}

/** Splits a data key into its column family and user key (a copy). */
export function decodeDataKey(key: Buffer): { cf: Cf; key: Buffer } {
  const cf = key.length >= 2 && key[0] === DATA_PREFIX ? CFS.find((c) => CF_BYTE[c] === key[1]) : undefined;
  if (cf === undefined) throw new EncodingError(`not a data key: ${key.toString('hex')}`);
  return { cf, key: Buffer.from(key.subarray(2)) };
}

/** True when `key` is in the data space (any column family). */
export function isDataKey(key: Buffer): boolean {
  return key.length >= 2 && key[0] === DATA_PREFIX;
}

/**
 * The engine keys of the user keys in [start, end) of `cf`; an empty `end` means no upper
 * bound (to the end of the column family).
 */
export function dataRange(cf: Cf, start: Uint8Array, end: Uint8Array): KeyRange {
  return [dataKey(cf, start), end.length === 0 ? dataKeyEnd(cf) : dataKey(cf, end)];
}
