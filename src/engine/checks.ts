// Argument checks shared by the engine implementations and WriteBatch (src/engine). They
// turn caller bugs into TypeError/RangeError at the call site, before any I/O, so both
// engines reject exactly the same inputs.

import type { ScanOptions } from './kv-engine.js';

/** A key is a non-empty Buffer (RocksDB cannot store the empty key). */
export function checkKey(key: unknown, what = 'key'): asserts key is Buffer {
  if (!Buffer.isBuffer(key)) throw new TypeError(`${what} must be a Buffer`);
  if (key.length === 0) throw new TypeError(`${what} must not be empty`);
}

/**
 * Accepts any Uint8Array (protobuf decodes bytes as Uint8Array) and returns a Buffer over the
 * same memory, without copying; the binding needs real Buffers.
 */
export function asBuffer(bytes: unknown, what: string): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError(`${what} must be a Buffer or Uint8Array`);
}

/** ScanOptions with the defaults filled in; `end` undefined means no upper bound. */
export interface ScanRange {
  readonly start: Buffer;
  readonly end: Buffer | undefined;
  readonly limit: number;
  readonly reverse: boolean;
}

/** Validates scan options and fills in the defaults (limit Infinity, forward). */
export function checkScanOptions(opts: ScanOptions): ScanRange {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('scan options must be an object');
  if (!Buffer.isBuffer(opts.start)) throw new TypeError('scan start must be a Buffer (empty for the first key)');
  if (opts.end !== undefined) checkKey(opts.end, 'scan end (undefined for no upper bound)');
  const limit = opts.limit ?? Infinity;
  if (limit !== Infinity && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RangeError(`scan limit must be a non-negative integer, got ${String(opts.limit)}`);
  }
  if (opts.reverse !== undefined && typeof opts.reverse !== 'boolean') {
    throw new TypeError('scan reverse must be a boolean');
  }
  return { start: opts.start, end: opts.end, limit, reverse: opts.reverse ?? false };
}

/** True when the range holds no key at all (limit 0, or end at or below start). */
export function isEmptyRange(r: ScanRange): boolean {
  return r.limit === 0 || (r.end !== undefined && Buffer.compare(r.start, r.end) >= 0);
}

/** True when `key` lies in [start, end). */
export function inRange(key: Buffer, start: Buffer, end: Buffer | undefined): boolean {
  return Buffer.compare(key, start) >= 0 && (end === undefined || Buffer.compare(key, end) < 0);
}
