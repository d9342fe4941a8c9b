// The KvEngine compliance suite (src/engine): one set of behaviour tests that every engine
// implementation runs (engine.test.ts runs it on RocksEngine and MemoryEngine). It checks the
// contract documented in kv-engine.ts, nothing implementation-specific.
// `open` must return a fresh, empty engine on every call; the suite closes what it opens.

import type { Test } from 'tap';
import { EngineClosedError, SnapshotReleasedError } from './errors.js';
import { iterateRange, WriteBatch, type KvEngine, type KvPair, type ScanOptions } from './kv-engine.js';

const b = (s: string) => Buffer.from(s);
const hex = (h: string) => Buffer.from(h, 'hex');
/** Pairs as "keyhex=value" strings, for readable diffs. */
const show = (pairs: KvPair[]) => pairs.map(([k, v]) => `${k.toString('hex')}=${v.toString()}`);

/** Keys chosen to trip signed-byte, string and length-first comparisons. */
const BINARY_KEYS = ['00', '0000', '00ff', '01', '7f', '80', '8000', 'fe', 'ff', 'ff00', 'ffff'];

/** A small seeded RNG (mulberry32), so a failing case replays from the printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a scan must return, computed from a plain model (sorted [hex, value] list). */
function expectedScan(model: Map<string, string>, o: ScanOptions): string[] {
  const keys = [...model.keys()].map(hex).sort(Buffer.compare);
  let inRange = keys.filter((k) => Buffer.compare(k, o.start) >= 0 && (o.end === undefined || Buffer.compare(k, o.end) < 0));
  if (o.reverse) inRange = inRange.reverse();
  return inRange.slice(0, o.limit ?? Infinity).map((k) => `${k.toString('hex')}=${model.get(k.toString('hex'))}`);
}

async function putAll(e: KvEngine, pairs: Array<[Buffer, string]>): Promise<void> {
  const wb = new WriteBatch();
  for (const [k, v] of pairs) wb.put(k, b(v));
  await e.write(wb, { sync: false });
}

/** A test on a fresh engine that is closed afterwards. */
type EngineTest = (title: string, fn: (t: Test, e: KvEngine) => Promise<void>) => void;

/**
 * Registers the whole suite on `t`, test names prefixed with `name`. `open` must return a
 * fresh, empty engine on every call.
 */
export function runEngineSuite(t: Test, name: string, open: () => Promise<KvEngine>): void {
  const withEngine: EngineTest = (title, fn) =>
    void t.test(`${name}: ${title}`, async (t) => {
      const e = await open();
      t.teardown(() => e.close());
      await fn(t, e);
    });
  writeTests(withEngine);
  scanTests(withEngine);
  concurrencyTests(withEngine);
  snapshotTests(withEngine);
  closeTests(t, name, open);
}

function writeTests(withEngine: EngineTest): void {
  withEngine('get of a missing key is undefined; put, overwrite, delete', async (t, e) => {
    t.equal(await e.get(b('nope')), undefined);
    await e.write(new WriteBatch().put(b('k'), b('v1')).put(b('empty'), Buffer.alloc(0)), { sync: false });
    t.same(await e.get(b('k')), b('v1'));
    t.same(await e.get(b('empty')), Buffer.alloc(0), 'an empty value is a value, not a missing key');
    await e.write(new WriteBatch().put(b('k'), b('v2')), { sync: true });
    t.same(await e.get(b('k')), b('v2'));
    await e.write(new WriteBatch().delete(b('k')).delete(b('never-there')), { sync: false });
    t.equal(await e.get(b('k')), undefined);
    const got = (await e.get(b('empty')))!;
    t.ok(Buffer.isBuffer(got), 'values come back as Buffers');
  });

  withEngine('returned buffers are the caller\'s; written buffers are not kept live', async (t, e) => {
    const value = b('abc');
    await e.write(new WriteBatch().put(b('k'), value), { sync: false });
    value.fill(0x78);
    const got = (await e.get(b('k')))!;
    t.same(got, b('abc'), 'changing the written buffer after the write changes nothing');
    got.fill(0x79);
    t.same(await e.get(b('k')), b('abc'));
    const [[k, v]] = (await e.scan({ start: Buffer.alloc(0) })) as [KvPair];
    k.fill(0);
    v.fill(0);
    t.same(show(await e.scan({ start: Buffer.alloc(0) })), ['6b=abc']);
  });

  withEngine('a batch applies in order: later ops win, deleteRange covers earlier puts', async (t, e) => {
    await putAll(e, [[b('a'), '1'], [b('c'), '1'], [b('d'), '1'], [b('dd'), '1'], [b('e'), '1']]);
    const wb = new WriteBatch()
      .put(b('b'), b('2'))
      .put(b('a'), b('2'))
      .delete(b('a'))
      .put(b('d2'), b('2')) // put, then removed by the deleteRange below
      .deleteRange(b('c'), b('e')) // end exclusive: 'e' survives
      .put(b('d3'), b('3')) // after the deleteRange: survives
      .deleteRange(b('x'), b('x')); // empty range
    t.equal(wb.count, 7);
    await e.write(wb, { sync: true });
    t.same(show(await e.scan({ start: Buffer.alloc(0) })), ['62=2', '6433=3', '65=1']);
  });

  withEngine('batch validation rejects bad input before any write', async (t, e) => {
    const wb = new WriteBatch();
    t.throws(() => wb.put(Buffer.alloc(0), b('v')), TypeError);
    t.throws(() => wb.put('k' as unknown as Buffer, b('v')), TypeError);
    t.throws(() => wb.put(b('k'), undefined as unknown as Buffer), TypeError);
    t.throws(() => wb.deleteRange(b('b'), b('a')), RangeError);
    t.equal(wb.count, 0);
    wb.put(new Uint8Array([0x6b]), new Uint8Array([0x76]));
    await e.write(wb, { sync: false });
    t.same(await e.get(b('k')), b('v'), 'Uint8Array input is accepted');
    await t.rejects(e.write(wb, undefined as never), TypeError);
    await t.rejects(e.get(Buffer.alloc(0)), TypeError);
    await t.rejects(e.scan({ start: b('a'), end: Buffer.alloc(0) }), TypeError);
    await t.rejects(e.scan({ start: b('a'), limit: -1 }), RangeError);
  });
}

function scanTests(withEngine: EngineTest): void {
  withEngine('scan orders binary keys bytewise; start inclusive, end exclusive, limit, reverse', async (t, e) => {
    const model = new Map(BINARY_KEYS.map((k, i) => [k, `v${i}`]));
    const rand = rng(7);
    const shuffled = [...model].map((p) => [rand(), p] as const).sort((x, y) => x[0] - y[0]).map(([, p]) => p);
    await putAll(e, shuffled.map(([k, v]) => [hex(k), v])); // insertion order must not matter
    const all = await e.scan({ start: Buffer.alloc(0) });
    t.same(all.map(([k]) => k.toString('hex')), BINARY_KEYS, 'full scan is in byte order');
    t.same(show(await e.scan({ start: hex('00ff'), end: hex('8000') })), ['00ff=v2', '01=v3', '7f=v4', '80=v5']);
    t.same(show(await e.scan({ start: hex('00ff'), end: hex('8000'), limit: 2 })), ['00ff=v2', '01=v3']);
    t.same(show(await e.scan({ start: hex('00ff'), end: hex('8000'), reverse: true, limit: 3 })), ['80=v5', '7f=v4', '01=v3']);
    t.same(show(await e.scan({ start: hex('ff'), reverse: true })), ['ffff=v10', 'ff00=v9', 'ff=v8']);
    t.same(await e.scan({ start: hex('80'), end: hex('80') }), [], 'start == end is empty');
    t.same(await e.scan({ start: hex('ff'), end: hex('01') }), [], 'start > end is empty');
    t.same(await e.scan({ start: Buffer.alloc(0), limit: 0 }), [], 'limit 0 is empty');
    t.same(show(await e.scan({ start: hex('0001'), end: hex('00ff01') })), ['00ff=v2']);
  });

  withEngine('scan agrees with a model over random ranges', async (t, e) => {
    const seed = 20240611;
    const rand = rng(seed);
    const pick = () => BINARY_KEYS[Math.floor(rand() * BINARY_KEYS.length)]!;
    const model = new Map<string, string>();
    for (let i = 0; i < 40; i++) model.set(pick() + pick(), `v${i}`);
    for (const k of BINARY_KEYS) model.set(k, 'single');
    await putAll(e, [...model].map(([k, v]) => [hex(k), v]));
    for (let i = 0; i < 60; i++) {
      const o: ScanOptions = {
        start: rand() < 0.2 ? Buffer.alloc(0) : hex(pick() + (rand() < 0.5 ? pick() : '')),
        end: rand() < 0.3 ? undefined : hex(pick() + (rand() < 0.5 ? pick() : '')),
        limit: rand() < 0.5 ? undefined : Math.floor(rand() * 8),
        reverse: rand() < 0.5,
      };
      const got = show(await e.scan(o));
      const want = expectedScan(model, o);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.same(got, want, `seed ${seed} case ${i}: ${JSON.stringify({ ...o, start: o.start.toString('hex'), end: o.end?.toString('hex') })}`);
        return;
      }
    }
    t.pass(`60 random scans matched the model (seed ${seed})`);
  });
}

function concurrencyTests(withEngine: EngineTest): void {
  withEngine('a scan sees each concurrent batch entirely or not at all', async (t, e) => {
    const keys = Array.from({ length: 300 }, (_, i) => b(`k${String(i).padStart(3, '0')}`));
    await putAll(e, keys.map((k) => [k, 'g0']));
    let mixed = 0;
    let scans = 0;
    for (let g = 1; g <= 8; g++) {
      const wb = new WriteBatch();
      for (const k of keys) wb.put(k, b(`g${g}`));
      let done = false;
      const write = e.write(wb, { sync: g % 2 === 0 }).then(() => void (done = true));
      // Scan over and over while the write is in flight (at least once).
      do {
        const reverse = scans % 2 === 1;
        const s = await e.scan({ start: b('k'), end: b('l'), reverse, limit: reverse ? 250 : undefined });
        scans++;
        if (new Set(s.map(([, v]) => v.toString())).size !== 1) mixed++;
      } while (!done);
      await write;
    }
    t.equal(mixed, 0, `none of ${scans} scans mixed two generations`);
  });

  withEngine('writes apply in call order, a deleteRange included', async (t, e) => {
    const keys = Array.from({ length: 50 }, (_, i) => b(`k${String(i).padStart(2, '0')}`));
    await putAll(e, keys.map((k) => [k, 'old']));
    // Not awaited in between: the put is called after the deleteRange, so it must survive it.
    const w1 = e.write(new WriteBatch().deleteRange(b('k'), b('l')), { sync: true });
    const w2 = e.write(new WriteBatch().put(b('k25'), b('new')), { sync: false });
    const w3 = e.write(new WriteBatch().put(b('k26'), b('1')), { sync: false });
    const w4 = e.write(new WriteBatch().put(b('k26'), b('2')), { sync: true });
    await Promise.all([w1, w2, w3, w4]);
    t.same(show(await e.scan({ start: b('k') })), ['6b3235=new', '6b3236=2']);
  });
}

function snapshotTests(withEngine: EngineTest): void {
  withEngine('a snapshot keeps its view while the engine changes', async (t, e) => {
    await putAll(e, [[b('a'), '1'], [b('b'), '1'], [b('c'), '1']]);
    const snap = await e.snapshot();
    t.teardown(() => snap.release());
    await e.write(new WriteBatch().put(b('a'), b('2')).delete(b('b')).put(b('bb'), b('2')).deleteRange(b('c'), b('d')), { sync: false });
    t.same(await snap.get(b('a')), b('1'));
    t.same(await snap.get(b('b')), b('1'));
    t.equal(await snap.get(b('bb')), undefined);
    t.equal(await snap.get(b('zz')), undefined, 'a key past the last one is missing');
    t.same(show(await snap.scan({ start: Buffer.alloc(0) })), ['61=1', '62=1', '63=1']);
    t.same(show(await snap.scan({ start: b('a'), end: b('c'), reverse: true, limit: 1 })), ['62=1']);
    t.same(show(await snap.scan({ start: b('b') })), ['62=1', '63=1']);
    t.same(show(await e.scan({ start: Buffer.alloc(0) })), ['61=2', '6262=2'], 'the engine moved on');
    // Concurrent reads on one snapshot, mixed with more writes.
    const reads = [snap.get(b('c')), snap.scan({ start: b('a'), limit: 2 }), snap.get(b('a'))] as const;
    await e.write(new WriteBatch().put(b('c'), b('3')), { sync: false });
    const [c, first2, a] = await Promise.all(reads);
    t.same([c, show(first2), a], [b('1'), ['61=1', '62=1'], b('1')]);
  });

  withEngine('iterateRange pages through a snapshot consistently, both ways', async (t, e) => {
    const keys = Array.from({ length: 50 }, (_, i) => b(`k${String(i).padStart(2, '0')}`));
    await putAll(e, keys.map((k) => [k, 'old']));
    const snap = await e.snapshot();
    t.teardown(() => snap.release());
    const seen: string[] = [];
    for await (const [k, v] of iterateRange(snap, { start: b('k'), end: b('l') }, 7)) {
      seen.push(`${k.toString()}=${v.toString()}`);
      if (seen.length === 10) await putAll(e, [...keys, b('k10x')].map((k) => [k, 'new']));
    }
    t.same(seen, keys.map((k) => `${k.toString()}=old`));
    const back: string[] = [];
    for await (const [k] of iterateRange(snap, { start: b('k'), reverse: true, limit: 12 }, 5)) back.push(k.toString());
    t.same(back, keys.slice(-12).reverse().map((k) => k.toString()));
  });

  withEngine('a released snapshot rejects reads with SNAPSHOT_RELEASED', async (t, e) => {
    const snap = await e.snapshot();
    await snap.release();
    await snap.release();
    await t.rejects(snap.get(b('a')), { code: 'SNAPSHOT_RELEASED' });
    await t.rejects(snap.scan({ start: b('a') }), SnapshotReleasedError);
  });
}

function closeTests(t: Test, name: string, open: () => Promise<KvEngine>): void {
  t.test(`${name}: after close every operation rejects with ENGINE_CLOSED`, async (t) => {
    const e = await open();
    await e.write(new WriteBatch().put(b('a'), b('1')), { sync: true });
    const snap = await e.snapshot();
    const pending = e.get(b('a')); // started before close: must still complete
    const closing = e.close();
    t.equal(e.close(), closing, 'close() returns the same promise every time');
    t.same(await pending, b('1'));
    await closing;
    await e.close();
    const code = { code: 'ENGINE_CLOSED' };
    await t.rejects(e.get(b('a')), code);
    await t.rejects(e.scan({ start: b('a') }), code);
    await t.rejects(e.write(new WriteBatch().put(b('a'), b('2')), { sync: false }), code);
    await t.rejects(e.snapshot(), EngineClosedError);
    await t.rejects(snap.get(b('a')), code, 'snapshots die with the engine');
    await snap.release();
  });
}
