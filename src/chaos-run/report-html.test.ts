// report-html.ts: the page is one self-contained document with its sections in order, says
// the verdict, draws the violation window only for a violation, escapes everything the run
// recorded, and stays under 5 MB for a 40,000-operation run.
// REPORT_SAMPLE=<file> also writes the large report there, to look at in a browser.

import { writeFileSync } from 'node:fs';
import t from 'tap';
import { escapeHtml } from './report-format.js';
import { renderReport, replayCommand } from './report-html.js';
import { perSecond } from './report-series.js';
import { linearValueScale, logValueScale } from './report-svg.js';
import type { FaultKind, FaultRecord, OpOutcome, OpRecord, RunRecord, Verdict, VerdictStatus } from './run-record.js';

const NASTY = '<script>&"';
const SECTION_IDS = ['verdict', 'counts', 'timeline', 'throughput', 'latency', 'violation', 'faults'];

const params = {
  seed: 42,
  startedAt: '2025-01-02T03:04:05.000Z',
  keyPrefix: 'chaos-run/20250102T030405Z-42/',
  clusterFile: '/tmp/run <a&b>/cluster.yaml',
  stores: [1, 2, 3],
  clients: 3,
  keys: 2,
  readRatio: 0.5,
  rate: 50,
  durationMs: 10_000,
  faults: ['kill', 'partition', 'drop'] as FaultKind[],
  intervalMs: 2000,
  recoveryMs: 3000,
};

const smallOps: OpRecord[] = [
  { id: 1, client: 1, kind: 'put', key: 'x', value: '1-1', invokeMs: 100, completeMs: 150, outcome: 'ok' },
  { id: 2, client: 2, kind: 'get', key: 'x', invokeMs: 120, completeMs: 200, outcome: 'ok', read: '1-1' },
  { id: 3, client: 3, kind: 'put', key: 'x', value: NASTY, invokeMs: 300, completeMs: null, outcome: 'unknown', error: 'UNKNOWN_OUTCOME' },
  { id: 4, client: 1, kind: 'get', key: 'x', invokeMs: 400, completeMs: 500, outcome: 'ok', read: null },
  { id: 5, client: 2, kind: 'delete', key: 'x', invokeMs: 600, completeMs: 700, outcome: 'fail', error: 'CLUSTER_UNAVAILABLE' },
  { id: 6, client: 1, kind: 'scan', start: 'k', end: 'l', invokeMs: 800, completeMs: 900, outcome: 'ok', pairs: [['x', '1-1']] },
  { id: 7, client: 2, kind: 'put', key: 'y', value: '2-2', invokeMs: 1000, completeMs: 5000, outcome: 'unknown', error: 'UNKNOWN_OUTCOME' },
  { id: 8, client: 0, kind: 'get', key: 'x', invokeMs: 12_000, completeMs: 12_010, outcome: 'ok', read: NASTY },
];

const smallFaults: FaultRecord[] = [
  { id: 1, kind: 'kill', description: 'kill store 2 (leader)', stores: [2], startMs: 200, endMs: 3000 },
  { id: 2, kind: 'partition', description: 'partition 1 | 2,3', stores: [1, 2, 3], startMs: 4000, endMs: 6000, note: 'store 3 <did not> answer' },
  { id: 3, kind: 'drop', description: 'drop 30%', stores: [1, 2, 3], startMs: 8000, endMs: null },
];

function countsOf(ops: readonly OpRecord[]): Verdict['counts'] {
  const c = { put: zero(), get: zero(), delete: zero(), scan: zero() };
  for (const op of ops) c[op.kind][op.outcome]++;
  return c;
}
function zero(): Record<OpOutcome, number> {
  return { ok: 0, fail: 0, unknown: 0 };
}

function small(status: VerdictStatus): RunRecord {
  const base = { checkerMs: 12, ops: smallOps.length, counts: countsOf(smallOps), runMs: 13_000 };
  const verdicts: Record<VerdictStatus, Verdict> = {
    linearizable: { ...base, status, summary: 'all 8 operations are linearizable' },
    violation: {
      ...base,
      status,
      summary: 'key x: not linearizable',
      key: 'x',
      windowOpIds: [1, 3, 4, 8],
      explanation: 'get x → not found, but put x = "1-1" <completed> before & nothing deleted it',
    },
    inconclusive: { ...base, status, summary: 'gave up after 60 s', explanation: 'search budget <exhausted>' },
  };
  return { params, ops: smallOps, faults: smallFaults, verdict: verdicts[status] };
}

/** The text of <section id="..."> up to its end; '' when there is none. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  return start === -1 ? '' : html.slice(start, html.indexOf('</section>', start));
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

t.test('one self-contained document with the sections in order', async (t) => {
  const html = renderReport(small('violation'));
  t.ok(html.startsWith('<!doctype html>'), 'starts with <!doctype html>');
  t.notMatch(html, /<script/i, 'no script at all');
  t.notMatch(html, /<link/i, 'no linked stylesheet');
  t.notMatch(html, /url\(/i, 'no url() in the CSS');
  t.notMatch(html, /\ssrc=/i, 'no src attribute');
  t.notMatch(html, /https?:\/\//i, 'no http(s) address anywhere');
  t.notMatch(html, /<img|<iframe|@import/i, 'no images, frames or imports');
  const positions = SECTION_IDS.map((id) => html.indexOf(`<section id="${id}"`));
  t.ok(positions.every((p) => p > 0), `every section is there: ${positions.join(', ')}`);
  t.same([...positions].sort((a, b) => a - b), positions, 'in the specified order');
});

t.test('the verdict banner for each status', async (t) => {
  const lin = renderReport(small('linearizable'));
  t.match(section(lin, 'verdict'), /class="banner v-linearizable"><span class="status">LINEARIZABLE</);
  t.notMatch(lin, /NOT LINEARIZABLE/);
  t.match(lin, /all 8 operations are linearizable/);
  t.equal(section(lin, 'violation'), '', 'no violation section when linearizable');
  t.notMatch(section(lin, 'timeline'), /class="win"/, 'no red outline when linearizable');

  const bad = renderReport(small('violation'));
  t.match(section(bad, 'verdict'), /class="banner v-violation"><span class="status">NOT LINEARIZABLE</);
  t.match(section(bad, 'verdict'), /<pre class="explanation">get x → not found, but put x = &quot;1-1&quot; &lt;completed&gt; before &amp; nothing deleted it<\/pre>/);

  const inc = renderReport(small('inconclusive'));
  t.match(section(inc, 'verdict'), /class="banner v-inconclusive"><span class="status">INCONCLUSIVE</);
  t.match(section(inc, 'verdict'), /search budget &lt;exhausted&gt;/);
  t.equal(section(inc, 'violation'), '', 'no violation section when inconclusive');
});

t.test('the violation window: labels, red outlines, the table', async (t) => {
  const html = renderReport(small('violation'));
  const v = section(html, 'violation');
  t.ok(v !== '', 'there is a violation section');
  t.match(v, /Key: <code>x<\/code>/);
  t.match(v, /put x = &quot;1-1&quot;/, 'a put label');
  t.match(v, /get x → not found/, 'a get that found nothing');
  t.match(v, /get x → &quot;&lt;script&gt;&amp;\\&quot;&quot;/, 'a get that read the nasty value, escaped');
  t.match(v, /put x = &quot;&lt;script&gt;&amp;\\&quot;&quot; \(unknown\)/, 'the outcome when not ok');
  t.notMatch(v, /delete x|scan \[/, 'only the window operations');
  t.equal(count(v, 'class="win"'), 4, 'each window op outlined in the zoomed chart');
  t.equal(count(section(html, 'timeline'), 'class="win"'), 4, 'and in the timeline');
  const table = v.slice(v.indexOf('<table class="window-ops">'));
  const ids = [...table.matchAll(/<tr><td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
  t.same(ids, [1, 3, 4, 8], 'the table lists the window ops by invoke time');
  t.match(table, /final reads/, 'client 0 is the final reads');
});

t.test('everything recorded is escaped', async (t) => {
  const html = renderReport(small('violation'));
  t.notOk(html.includes(NASTY), 'the raw value never appears');
  t.ok(html.includes(escapeHtml(JSON.stringify(NASTY))), 'the value appears escaped');
  t.match(html, /\/tmp\/run &lt;a&amp;b&gt;\/cluster\.yaml/, 'the cluster file is escaped');
  t.match(section(html, 'faults'), /store 3 &lt;did not&gt; answer/, 'a fault note is escaped');
  t.equal(escapeHtml(`<a href='x'>&"`), '&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
});

t.test('parameters, replay command, counts, faults', async (t) => {
  const html = renderReport(small('linearizable'));
  const verdict = section(html, 'verdict');
  t.ok(
    verdict.includes('<code>tinykv chaos run --seed 42 --clients 3 --keys 2 --read-ratio 0.5 --duration 10 --faults kill,partition,drop --interval 2000 --recovery 3 --rate 50</code>'),
    'the replay command with every parameter',
  );
  t.equal(replayCommand({ ...params, rate: null, durationMs: 1500 }).includes('--rate'), false, 'no --rate when unlimited');
  t.match(replayCommand({ ...params, durationMs: 1500 }), /--duration 1\.5 /, 'duration in seconds');
  for (const text of ['2025-01-02T03:04:05.000Z', '1, 2, 3', '3 s']) t.ok(verdict.includes(text), `parameters show ${text}`);

  const counts = section(html, 'counts');
  t.match(counts, /<tr><th>put<\/th><td class="num">1<\/td><td class="num">0<\/td><td class="num">2<\/td><td class="num">3<\/td><\/tr>/, 'put row');
  t.match(counts, /<tr class="total"><th>total<\/th><td class="num">5<\/td><td class="num">1<\/td><td class="num">2<\/td><td class="num">8<\/td><\/tr>/, 'totals');
  t.match(counts, /faults injected<\/th><td class="num">3</);
  t.match(counts, /checker time<\/th><td class="num">12 ms</);

  const timeline = section(html, 'timeline');
  t.match(timeline, /<rect class="o-unknown open"[^>]*><title>#3 client 3:/, 'an operation with no answer is drawn open, with a tooltip');
  t.equal(count(timeline, '<rect class="band f-'), 3, 'one band per fault');
  t.match(timeline, /kill store 2 \(leader\)/, 'bands are labelled');
  t.match(timeline, />final reads</, 'the final reads lane');
  for (const id of ['throughput', 'latency']) t.equal(count(section(html, id), '<rect class="band f-'), 3, `${id} has the fault bands`);
  t.match(section(html, 'latency'), /class="line s-p99"/);

  const faults = section(html, 'faults');
  t.equal(count(faults, '<tr><td class="num">'), 3, 'one row per fault');
  t.match(faults, /not undone by the end/);
});

/** A seeded 40,000-operation, 60-fault, 5-minute run shaped like a real one. */
function largeRecord(): RunRecord {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const clients = 10;
  const runMs = 300_000;
  const perClient = 4000;
  const ops: OpRecord[] = [];
  for (let c = 1; c <= clients; c++) {
    let now = rnd() * 20;
    for (let n = 0; n < perClient; n++) {
      const latency = rnd() < 0.01 ? 500 + rnd() * 2000 : 1 + rnd() * 40;
      const r = rnd();
      const outcome: OpOutcome = r < 0.95 ? 'ok' : r < 0.98 ? 'fail' : 'unknown';
      const key = `k${Math.floor(rnd() * 5)}`;
      const k = rnd();
      const common = { id: 0, client: c, invokeMs: Math.round(now * 10) / 10, completeMs: Math.round((now + latency) * 10) / 10, outcome };
      const op: OpRecord =
        k < 0.4
          ? { ...common, kind: 'put', key, value: `${c}-${n}` }
          : k < 0.5
            ? { ...common, kind: 'delete', key }
            : k < 0.95
              ? { ...common, kind: 'get', key, ...(outcome === 'ok' ? { read: rnd() < 0.2 ? null : `${c}-${n - 1}` } : {}) }
              : { ...common, kind: 'scan', start: 'k', end: 'l', ...(outcome === 'ok' ? { pairs: [['k0', `${c}-${n - 2}`] as const] } : {}) };
      ops.push(outcome === 'ok' ? op : { ...op, error: outcome === 'fail' ? 'CLUSTER_UNAVAILABLE' : 'UNKNOWN_OUTCOME' });
      now += latency + rnd() * 50;
    }
  }
  ops.sort((a, b) => a.invokeMs - b.invokeMs);
  const numbered = ops.map((op, i) => ({ ...op, id: i + 1 }));
  const kinds: FaultKind[] = ['kill', 'pause', 'partition', 'isolate', 'drop', 'transfer'];
  const faults: FaultRecord[] = Array.from({ length: 60 }, (_, i) => ({
    id: i + 1,
    kind: kinds[i % kinds.length]!,
    description: `${kinds[i % kinds.length]} store ${(i % 3) + 1}${i % 4 === 0 ? ' (leader)' : ''}`,
    stores: [(i % 3) + 1],
    startMs: i * 4500 + 500,
    endMs: i === 59 ? null : i * 4500 + 500 + 1000 + rnd() * 2500,
  }));
  const window = numbered.filter((op) => op.invokeMs > 150_000 && op.kind !== 'scan').slice(0, 6);
  return {
    params: { ...params, clients, keys: 5, rate: null, durationMs: 270_000, faults: kinds, intervalMs: 1500, recoveryMs: 30_000 },
    ops: numbered,
    faults,
    verdict: {
      status: 'violation',
      summary: 'key k1: not linearizable',
      key: 'k1',
      windowOpIds: window.map((op) => op.id),
      explanation: 'a synthetic window',
      checkerMs: 2345,
      ops: numbered.length,
      counts: countsOf(numbered),
      runMs,
    },
  };
}

t.test('a 40,000-operation run stays under 5 MB', async (t) => {
  const record = largeRecord();
  const started = performance.now();
  const html = renderReport(record);
  const ms = performance.now() - started;
  const bytes = Buffer.byteLength(html, 'utf8');
  t.comment(`40,000 ops, 60 faults: ${(bytes / 1e6).toFixed(2)} MB in ${ms.toFixed(0)} ms`);
  t.ok(bytes < 5_000_000, `${bytes} bytes < 5 MB`);
  t.ok(count(html, '<title>') < 1000, 'no per-operation tooltips above the limit');
  t.equal(count(section(html, 'timeline'), 'class="win"'), 6, 'the window ops are still outlined');
  t.equal(count(section(html, 'faults'), '<tr><td class="num">'), 60, 'every fault in the table');
  if (process.env.REPORT_SAMPLE) {
    writeFileSync(process.env.REPORT_SAMPLE, html);
    t.comment(`wrote ${process.env.REPORT_SAMPLE}`);
  }
});

t.test('per-second series and value scales', async (t) => {
  const s = perSecond(smallOps, 13_000);
  t.equal(s.throughput.length, 13, 'one bucket per second');
  t.same(s.throughput.slice(0, 2), [4, 0], 'ok ops counted by completion second; fail, unknown and open ones not');
  t.same([s.p50[0], s.p99[0], s.p50[1]], [80, 100, null], 'nearest-rank p50 / p99 of 50, 80, 100, 100; null when empty');
  t.same(logValueScale(2, 1800).ticks.map((k) => k.label), ['1', '10', '100', '1,000', '10,000'], 'log ticks per decade');
  t.same(logValueScale(0.3, 40).ticks.map((k) => k.label), ['0.1', '0.2', '0.5', '1', '2', '5', '10', '20', '50', '100']);
  t.same(linearValueScale(97).ticks.map((k) => k.value), [0, 20, 40, 60, 80, 100], 'linear ticks from 0');
});

t.test('an empty run still renders', async (t) => {
  const empty: RunRecord = {
    params: { ...params, faults: [] },
    ops: [],
    faults: [],
    verdict: { status: 'linearizable', summary: 'no operations', checkerMs: 0, ops: 0, counts: countsOf([]), runMs: 0 },
  };
  const html = renderReport(empty);
  for (const id of SECTION_IDS.filter((s) => s !== 'violation')) t.ok(section(html, id) !== '', `section ${id}`);
  t.match(section(html, 'faults'), /No faults were injected/);
  t.notMatch(html, /NaN|Infinity|undefined/, 'no NaN, Infinity or undefined in the page');
  t.match(replayCommand(empty.params), / --faults none /, 'a run without faults replays with --faults none');
});
