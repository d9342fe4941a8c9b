// Keys and values of the benchmark: key i of a key space is "bench:" and i in decimal,
// padded with zeros to the key size (the prefix keeps them apart from a user's keys) (so keys sort by i and a scan of n keys is a range of n
// consecutive i); values are bytes of a fixed pattern, different per write.

/** Key number `i` as exactly `size` bytes (size must fit "k" and the largest index). */
export function benchKey(i: number, size: number): Buffer {
  const digits = String(i);
  if (digits.length + PREFIX.length > size) throw new RangeError(`--key-size ${size} is too small for key ${i} (needs ${digits.length + PREFIX.length})`);
  return Buffer.from(`${PREFIX}${digits.padStart(size - PREFIX.length, '0')}`);
}

export const PREFIX = 'bench:';

/** The smallest key size that can hold every key of a key space of `keys`. */
export function minKeySize(keys: number): number {
  return String(Math.max(0, keys - 1)).length + PREFIX.length;
}

/** A value of `size` bytes, its first bytes naming the write (`seq`) so values differ. */
export function benchValue(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, 0x61 + (seq % 26));
  const tag = Buffer.from(`${seq}:`);
  tag.copy(b, 0, 0, Math.min(size, tag.length));
  return b;
}
