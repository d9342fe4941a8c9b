import t from 'tap';
import { CHUNK_BYTES, SnapshotDecoder, SnapshotEncoder } from './snapshot-format.js';

function encode(pairs: Array<[string, string]>): Buffer {
  const enc = new SnapshotEncoder();
  const chunks: Buffer[] = [];
  for (const [k, v] of pairs) {
    const c = enc.add(Buffer.from(k), Buffer.from(v));
    if (c) chunks.push(c);
  }
  chunks.push(enc.finish());
  return Buffer.concat(chunks);
}

t.test('pairs round-trip through any chunking', async (t) => {
  const pairs: Array<[string, string]> = [['a', ''], ['bb', 'x'.repeat(300)], ['c'.repeat(70), 'yz']];
  const file = encode(pairs);
  for (const size of [1, 3, 7, 64, file.length]) {
    const dec = new SnapshotDecoder();
    const got: Array<[string, string]> = [];
    for (let off = 0; off < file.length; off += size) {
      for (const [k, v] of dec.push(file.subarray(off, off + size))) got.push([k.toString(), v.toString()]);
    }
    dec.end();
    t.same(got, pairs, `chunks of ${size} bytes`);
  }
});

t.test('the encoder hands out chunks of about CHUNK_BYTES', async (t) => {
  const enc = new SnapshotEncoder();
  const sizes: number[] = [];
  const value = Buffer.alloc(1000, 1);
  for (let i = 0; i < 3000; i++) {
    const c = enc.add(Buffer.from(`key${i}`), value);
    if (c) sizes.push(c.length);
  }
  sizes.push(enc.finish().length);
  t.ok(sizes.length >= 2, `${sizes.length} chunks`);
  t.ok(sizes.slice(0, -1).every((s) => s >= CHUNK_BYTES && s < CHUNK_BYTES + 2000), 'each full chunk just over the bound');
});

t.test('damaged files are refused', async (t) => {
  const file = encode([['k1', 'v1'], ['k2', 'v2']]);
  const run = (b: Buffer) => { const d = new SnapshotDecoder(); d.push(b); d.end(); };
  t.throws(() => run(Buffer.concat([Buffer.from('NOTASNAP'), file.subarray(8)])), { code: 'SNAPSHOT_FORMAT', message: /bad magic/ }, 'bad magic');
  t.throws(() => run(file.subarray(0, file.length - 3)), /truncated/, 'truncated');
  t.throws(() => run(Buffer.concat([file, Buffer.of(0)])), /after its end/, 'trailing bytes');
  const wrongCount = Buffer.from(file);
  wrongCount[wrongCount.length - 1] = 9;
  t.throws(() => run(wrongCount), /says 9 pairs but holds 2/, 'wrong count');
  t.throws(() => new SnapshotEncoder().add(Buffer.alloc(0), Buffer.alloc(1)), TypeError, 'empty key');
});
