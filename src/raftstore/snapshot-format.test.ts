import t from 'tap';
import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { StoreId } from './ids.js';
import { initialRegion, regionToProto } from './region.js';
import type { SnapshotDescriptor } from './snapshot-data.js';
import { decodeDescriptor, encodeDescriptor, inRegionState, regionStateRanges } from './snapshot-data.js';
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

// ---- the descriptor a raft Snapshot carries, and the ranges a snapshot file covers ---------

const REGION = { ...initialRegion([1, 2, 3] as StoreId[]), startKey: Buffer.from('b'), endKey: Buffer.from('d') };
const SUM = 'a1'.repeat(32);
const asSnapshot = (data: Uint8Array) => ({ metadata: { index: 9, term: 2, confState: { voters: [1], learners: [] } }, data });

t.test('a descriptor round-trips through a raft Snapshot\'s data', async (t) => {
  const d: SnapshotDescriptor = { region: REGION, fileSize: 123456, checksum: SUM, pairCount: 789 };
  const got = decodeDescriptor(asSnapshot(encodeDescriptor(d)));
  t.same([got.fileSize, got.checksum, got.pairCount, got.region.id], [123456, SUM, 789, REGION.id]);
  t.same([Buffer.from(got.region.startKey).toString(), Buffer.from(got.region.endKey).toString()], ['b', 'd']);
});

t.test('snapshot data that is not one of our descriptors is refused with a TypeError', async (t) => {
  const raw = (p: raft_serverpb.ISnapshotDescriptor) => asSnapshot(raft_serverpb.SnapshotDescriptor.encode(p).finish());
  t.throws(() => decodeDescriptor(asSnapshot(Buffer.of(0xff, 0xff, 0xff))), { name: 'TypeError', message: /not a snapshot descriptor/ });
  t.throws(() => decodeDescriptor(raw({ checksum: SUM, file_size: 1, pair_count: 1 })), { name: 'TypeError', message: /without a region/ });
  const bad = ['', 'A1'.repeat(32), SUM.slice(1), `${SUM}0`, `x${SUM.slice(1)}`, `${SUM.slice(1)}x`, `${SUM.slice(0, 32)} ${SUM.slice(33)}`];
  for (const checksum of bad) {
    t.throws(() => decodeDescriptor(raw({ region: regionToProto(REGION), checksum, file_size: 1, pair_count: 1 })),
      { name: 'TypeError', message: `snapshot descriptor with a malformed checksum ${JSON.stringify(checksum)}` }, `checksum ${JSON.stringify(checksum)}`);
  }
  t.throws(() => decodeDescriptor(raw({ region: regionToProto(REGION), file_size: 1, pair_count: 1 })), /malformed checksum ""/, 'no checksum');
  const bare = decodeDescriptor(raw({ region: regionToProto(REGION), checksum: SUM }));
  t.same([bare.fileSize, bare.pairCount], [0, 0], 'absent numbers are 0');
});

t.test('a region\'s state-machine ranges: its sessions and its keys of every column family, start included, end excluded', async (t) => {
  const ranges = regionStateRanges(REGION);
  const inside = (k: Uint8Array) => inRegionState(ranges, k);
  for (const cf of keys.CFS) {
    t.ok(inside(keys.dataKey(cf, Buffer.from('b'))), `${cf}: the start key`);
    t.ok(inside(keys.dataKey(cf, Buffer.from('cz'))), `${cf}: a key inside`);
    t.notOk(inside(keys.dataKey(cf, Buffer.from('d'))), `${cf}: the end key`);
    t.notOk(inside(keys.dataKey(cf, Buffer.from('a'))), `${cf}: a key before`);
  }
  t.ok(inside(keys.clientSessionKey(REGION.id, 7)), 'a client session of the region');
  t.notOk(inside(keys.clientSessionKey(REGION.id + 1, 7)), 'a client session of another region');
  t.notOk(inside(keys.applyStateKey(REGION.id)), 'the apply state');
  t.notOk(inside(keys.regionStateKey(REGION.id)), 'the region state');
});
