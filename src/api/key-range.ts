// Key ranges of the client API: [start, end) with an empty end meaning "to the end of the
// key space", as RawScan and RawDeleteRange take them.

/** The first key after every key starting with `prefix` (empty: to the end of the key space). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i]!++;
      return out;
    }
  }
  return Buffer.alloc(0);
}
