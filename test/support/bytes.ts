// Bytes from and to text for tests: keys and values are written as strings and compared as
// strings. enc gives a Buffer (a Uint8Array, so it goes wherever bytes do, Raft entries
// included); dec passes undefined through, for reads that found nothing.

export const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

export function dec(b: Uint8Array): string;
export function dec(b: Uint8Array | undefined): string | undefined;
export function dec(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}
