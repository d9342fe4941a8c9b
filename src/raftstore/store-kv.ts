// The store's key-value face: put, delete, delete-range, get and scan, each checked for
// what no region could accept (an empty or oversized key, an oversized value, a range that
// ends before it starts, a bad limit) and then handed to the peer of the region the
// request names. The peer checks the rest (epoch, key in region, leadership).

import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from '../api/limits.js';
import type { ClientSession, ReadResult, RequestHeader, WriteOp, WriteResult } from './command.js';
import { InvalidRequestError } from './errors.js';
import type { RegionId } from './ids.js';
import type { Peer } from './peer.js';
import { compareBytes } from './region.js';

export interface StoreKvLimits {
  readonly maxKeyBytes?: number;
  readonly maxValueBytes?: number;
}

export class StoreKv {
  constructor(private readonly limits: StoreKvLimits, private readonly peerFor: (regionId: RegionId) => Peer) {}

  private checkKey(key: Uint8Array): void {
    if (key.length === 0) throw new InvalidRequestError('key must not be empty');
    const max = this.limits.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
    if (key.length > max) throw new InvalidRequestError(`key is ${key.length} bytes; the maximum is ${max}`);
  }

  async put(h: RequestHeader, key: Uint8Array, value: Uint8Array, session?: ClientSession): Promise<void> {
    this.checkKey(key);
    const max = this.limits.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    if (value.length > max) throw new InvalidRequestError(`value is ${value.length} bytes; the maximum is ${max}`);
    await this.write(h, [{ kind: 'put', key, value }], session);
  }

  async delete(h: RequestHeader, key: Uint8Array, session?: ClientSession): Promise<void> {
    this.checkKey(key);
    await this.write(h, [{ kind: 'delete', key }], session);
  }

  /**
   * Deletes every key in [start, end) (end empty: to the last key) in one replicated
   * command; resolves with how many it removed (unknown for a duplicate of a write that
   * had already applied).
   */
  async deleteRange(h: RequestHeader, start: Uint8Array, end: Uint8Array, session?: ClientSession): Promise<WriteResult> {
    if (end.length > 0 && compareBytes(start, end) >= 0) throw new InvalidRequestError('delete range: start must sort before end');
    return this.write(h, [{ kind: 'deleteRange', start, end }], session);
  }

  private async write(h: RequestHeader, ops: WriteOp[], session?: ClientSession): Promise<WriteResult> {
    return this.peerFor(h.regionId).proposeWrite({ header: h, ops, ...(session ? { session } : {}) });
  }

  async get(h: RequestHeader, key: Uint8Array): Promise<Uint8Array | undefined> {
    this.checkKey(key);
    const r: ReadResult = await this.peerFor(h.regionId).read(h, { kind: 'get', key });
    if (r.kind !== 'get') throw new Error('internal: get answered with a scan result');
    return r.value;
  }

  /** Pairs with start <= key < end (end empty = unbounded), in key order, at most `limit`. */
  async scan(h: RequestHeader, start: Uint8Array, end: Uint8Array, limit: number): Promise<ReadonlyArray<readonly [Uint8Array, Uint8Array]>> {
    if (end.length > 0 && compareBytes(start, end) > 0) {
      throw new InvalidRequestError('scan start is after its end');
    }
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidRequestError(`invalid scan limit ${limit}`);
    const r = await this.peerFor(h.regionId).read(h, { kind: 'scan', start, end, limit });
    if (r.kind !== 'scan') throw new Error('internal: scan answered with a get result');
    return r.pairs;
  }
}
