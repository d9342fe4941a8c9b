// The snapshot file format: the key-value pairs of one region's kvdb state, as raw kvdb
// keys (user data of every column family, and the region's client sessions).
//
//   "TKVSNAP1"                                   8-byte magic
//   { key length u32 | value length u32 | key | value }*   one record per pair, key non-empty
//   0 u32 | 0 u32 | pair count u64               the end: an empty key, then the count
//
// Numbers are big-endian. The encoder hands out chunks of about CHUNK_BYTES so a writer's
// memory stays bounded; the decoder takes chunks of any size, split anywhere.

import { keys } from '../engine/index.js';

const { readU64be, u64be } = keys;

export const MAGIC = Buffer.from('TKVSNAP1', 'latin1');
/** About how much the encoder buffers before handing out a chunk. */
export const CHUNK_BYTES = 1024 * 1024;

export class SnapshotFormatError extends Error {
  readonly code = 'SNAPSHOT_FORMAT';
}

export class SnapshotEncoder {
  private parts: Buffer[] = [MAGIC];
  private buffered = MAGIC.length;
  count = 0;

  /** Adds a pair; returns a chunk to write once enough is buffered. */
  add(key: Uint8Array, value: Uint8Array): Buffer | undefined {
    if (key.length === 0) throw new TypeError('snapshot: empty key');
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32BE(key.length, 0);
    head.writeUInt32BE(value.length, 4);
    this.parts.push(head, Buffer.from(key.buffer, key.byteOffset, key.length), Buffer.from(value.buffer, value.byteOffset, value.length));
    this.buffered += 8 + key.length + value.length;
    this.count++;
    return this.buffered >= CHUNK_BYTES ? this.take() : undefined;
  }

  /** The last chunk, with the end record. */
  finish(): Buffer {
    this.parts.push(Buffer.alloc(8), u64be(this.count));
    this.buffered += 16;
    return this.take();
  }

  private take(): Buffer {
    const out = Buffer.concat(this.parts, this.buffered);
    this.parts = [];
    this.buffered = 0;
    return out;
  }
}

export class SnapshotDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private sawMagic = false;
  private ended = false;
  count = 0;

  /** Feeds the next chunk; returns the pairs it completes. */
  push(chunk: Uint8Array): Array<[Buffer, Buffer]> {
    if (this.ended && chunk.length > 0) throw new SnapshotFormatError('snapshot file has bytes after its end record');
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    let off = 0;
    const out: Array<[Buffer, Buffer]> = [];
    if (!this.sawMagic) {
      if (this.pending.length < MAGIC.length) return out;
      if (!this.pending.subarray(0, MAGIC.length).equals(MAGIC)) throw new SnapshotFormatError('not a tinykv snapshot file (bad magic)');
      this.sawMagic = true;
      off = MAGIC.length;
    }
    while (!this.ended && this.pending.length - off >= 8) {
      const klen = this.pending.readUInt32BE(off);
      const vlen = this.pending.readUInt32BE(off + 4);
      if (klen === 0) {
        if (vlen !== 0) throw new SnapshotFormatError('snapshot end record is malformed');
        if (this.pending.length - off < 16) break;
        const n = readU64be(this.pending, off + 8);
        if (n !== this.count) throw new SnapshotFormatError(`snapshot says ${n} pairs but holds ${this.count}`);
        this.ended = true;
        off += 16;
        break;
      }
      if (this.pending.length - off < 8 + klen + vlen) break;
      const k = Buffer.from(this.pending.subarray(off + 8, off + 8 + klen));
      const v = Buffer.from(this.pending.subarray(off + 8 + klen, off + 8 + klen + vlen));
      out.push([k, v]);
      this.count++;
      off += 8 + klen + vlen;
    }
    this.pending = this.pending.subarray(off);
    if (this.ended && this.pending.length > 0) throw new SnapshotFormatError('snapshot file has bytes after its end record');
    return out;
  }

  /** Throws unless the end record was read. */
  end(): void {
    if (!this.ended) throw new SnapshotFormatError(`snapshot file is truncated after ${this.count} pairs`);
  }
}
