// The HTML report of one `tinykv chaos run`: a single self-contained page (inline CSS and
// inline SVG, no script, nothing fetched) that can be opened from the run folder or mailed
// around. This file assembles the page from its sections, in a fixed order, each a
// <section> with a stable id (verdict, counts, timeline, throughput, latency, violation,
// faults); the charts are drawn by report-timeline.ts and report-svg.ts.

import {
  describePairs,
  describeRequest,
  describeResult,
  escapeHtml,
  formatDuration,
  formatInt,
  formatSeconds,
  outcomeClass,
} from './report-format.js';
import { BUCKET_MS, perSecond, runEndMs } from './report-series.js';
import { REPORT_CSS } from './report-style.js';
import { faultClass, lineChart, type TimeScale } from './report-svg.js';
import { CHART_LEFT, TOOLTIP_LIMIT, laneName, timelineSvg, violationSvg } from './report-timeline.js';
import type { FaultRecord, OpKind, OpOutcome, OpRecord, RunParameters, RunRecord, VerdictStatus } from './run-record.js';

const KINDS: readonly OpKind[] = ['put', 'get', 'delete', 'scan'];
const OUTCOMES: readonly OpOutcome[] = ['ok', 'fail', 'unknown'];

const STATUS_TEXT: Readonly<Record<VerdictStatus, string>> = {
  linearizable: 'LINEARIZABLE',
  violation: 'NOT LINEARIZABLE',
  inconclusive: 'INCONCLUSIVE',
};

/** The whole report as one HTML document. */
export function renderReport(record: RunRecord): string {
  const endMs = runEndMs(record);
  const scale = runScale(endMs);
  const sections = [
    verdictSection(record),
    countsSection(record),
    timelineSection(record, scale, endMs),
    ...seriesSections(record, scale, endMs),
    record.verdict.status === 'violation' ? violationSection(record, endMs) : '',
    faultsSection(record.faults, endMs),
  ];
  const title = `tinykv chaos run, seed ${record.params.seed}: ${statusOf(record.verdict.status).text}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...sections.filter((s) => s !== ''),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * The time scale shared by the timeline and the two line charts, so that their axes line up:
 * 24 px per second, at least 900 px and at most 7,200 px (a 5-minute run at full scale).
 */
function runScale(endMs: number): TimeScale {
  const width = Math.min(7200, Math.max(900, (endMs / 1000) * 24));
  return { left: CHART_LEFT, width, fromMs: 0, toMs: endMs };
}

/** Banner text and class; a status this code does not know shows as itself, in amber. */
function statusOf(status: VerdictStatus): { text: string; cls: string } {
  return Object.hasOwn(STATUS_TEXT, status)
    ? { text: STATUS_TEXT[status], cls: `v-${status}` }
    : { text: String(status).toUpperCase(), cls: 'v-inconclusive' };
}

function verdictSection(record: RunRecord): string {
  const v = record.verdict;
  const status = statusOf(v.status);
  return [
    '<section id="verdict">',
    `<div class="banner ${status.cls}"><span class="status">${escapeHtml(status.text)}</span><span class="summary">${escapeHtml(v.summary)}</span></div>`,
    v.explanation ? `<pre class="explanation">${escapeHtml(v.explanation)}</pre>` : '',
    '<h2>Parameters</h2>',
    paramsTable(record.params),
    `<p class="replay">Replay: <code>${escapeHtml(replayCommand(record.params))}</code></p>`,
    '<p class="note">A replay repeats the workload and the fault schedule drawn from the seed; process timing is not deterministic, so the interleaving of operations can differ.</p>',
    '</section>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function paramsTable(p: RunParameters): string {
  const rows: Array<[string, string]> = [
    ['seed', String(p.seed)],
    ['started at', p.startedAt],
    ['cluster file', p.clusterFile],
    ['stores', p.stores.join(', ')],
    ['clients', String(p.clients)],
    ['keys', `${p.keys}, under ${p.keyPrefix} in the cluster (removed after the run)`],
    ['read ratio', String(p.readRatio)],
    ['rate', p.rate === null ? 'unlimited (as fast as the clients go)' : `${p.rate} ops/s`],
    ['duration', formatDuration(p.durationMs)],
    ['faults', p.faults.length === 0 ? '(none)' : p.faults.join(', ')],
    ['interval', formatDuration(p.intervalMs)],
    ['recovery', formatDuration(p.recoveryMs)],
  ];
  const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<table class="params">${body}</table>`;
}

/** The command line that runs the same workload and fault schedule again. */
export function replayCommand(p: RunParameters): string {
  const args = [
    `--seed ${p.seed}`,
    `--clients ${p.clients}`,
    `--keys ${p.keys}`,
    `--read-ratio ${trimNumber(p.readRatio)}`,
    `--duration ${trimNumber(p.durationMs / 1000)}`,
    `--faults ${p.faults.length > 0 ? p.faults.join(',') : 'none'}`,
    `--interval ${trimNumber(p.intervalMs)}`,
    `--recovery ${trimNumber(p.recoveryMs / 1000)}`,
    ...(p.rate !== null ? [`--rate ${trimNumber(p.rate)}`] : []),
  ];
  return `tinykv chaos run ${args.join(' ')}`;
}

/** 60 -> "60", 1.5 -> "1.5", 0.1 + 0.2 -> "0.3" (no float noise in a command line). */
function trimNumber(n: number): string {
  return String(Number(n.toFixed(3)));
}

function countsSection(record: RunRecord): string {
  const v = record.verdict;
  const header = `<tr><th>operation</th>${OUTCOMES.map((o) => `<th class="num">${o}</th>`).join('')}<th class="num">total</th></tr>`;
  const cell = (k: OpKind, o: OpOutcome) => v.counts?.[k]?.[o] ?? 0;
  const rows = KINDS.map((k) => {
    const total = OUTCOMES.reduce((sum, o) => sum + cell(k, o), 0);
    return `<tr><th>${k}</th>${OUTCOMES.map((o) => `<td class="num">${formatInt(cell(k, o))}</td>`).join('')}<td class="num">${formatInt(total)}</td></tr>`;
  });
  const colTotals = OUTCOMES.map((o) => KINDS.reduce((sum, k) => sum + cell(k, o), 0));
  const grand = colTotals.reduce((a, b) => a + b, 0);
  rows.push(`<tr class="total"><th>total</th>${colTotals.map((n) => `<td class="num">${formatInt(n)}</td>`).join('')}<td class="num">${formatInt(grand)}</td></tr>`);
  const facts: Array<[string, string]> = [
    ['operations checked', formatInt(v.ops)],
    ['operations in the history', formatInt(record.ops.length)],
    ['faults injected', formatInt(record.faults.length)],
    ['checker time', formatDuration(v.checkerMs)],
    ['run time', formatDuration(v.runMs)],
  ];
  return [
    '<section id="counts">',
    '<h2>Operations</h2>',
    `<table class="counts">${header}${rows.join('')}</table>`,
    `<table class="facts">${facts.map(([k, val]) => `<tr><th>${k}</th><td class="num">${escapeHtml(val)}</td></tr>`).join('')}</table>`,
    '</section>',
  ].join('\n');
}

/** The swatches explaining outcome colours, outlines and fault kinds. */
function legend(record: RunRecord, withOps: boolean): string {
  const items: string[] = [];
  if (withOps) {
    for (const o of OUTCOMES) items.push(`<span><i class="sw o-${o}"></i>${o}</span>`);
    items.push('<span><i class="sw open"></i>no answer by the end</span>');
    if (record.verdict.status === 'violation') items.push('<span><i class="sw win"></i>in the violation window</span>');
  }
  const kinds = [...new Set(record.faults.map((f) => f.kind))];
  for (const k of kinds) items.push(`<span><i class="sw band ${faultClass(k)}"></i>${escapeHtml(k)}</span>`);
  if (record.params.durationMs > 0) items.push('<span><i class="sw recovery"></i>faults stop, recovery begins</span>');
  return `<div class="legend">${items.join('')}</div>`;
}

function timelineSection(record: RunRecord, scale: TimeScale, endMs: number): string {
  const n = record.ops.length;
  const note =
    n > TOOLTIP_LIMIT
      ? `<p class="note">${formatInt(n)} operations: per-operation hover details are left out above ${formatInt(TOOLTIP_LIMIT)} operations to keep the file small (fault bands, open operations and the violation window keep theirs).</p>`
      : '<p class="note">Hover over a bar or a fault band for details.</p>';
  return [
    '<section id="timeline">',
    '<h2>Timeline</h2>',
    legend(record, true),
    note,
    `<div class="scroll">${timelineSvg(record, scale, endMs)}</div>`,
    '</section>',
  ].join('\n');
}

function seriesSections(record: RunRecord, scale: TimeScale, endMs: number): string[] {
  const series = perSecond(record.ops, endMs);
  const chart = (label: string, yTitle: string, yScale: 'linear' | 'log', lines: Parameters<typeof lineChart>[0]['series']) =>
    lineChart({ scale, endMs, bucketMs: BUCKET_MS, series: lines, faults: record.faults, yTitle, label, yScale });
  const throughput = chart('completed ok operations per second', 'ok ops / s', 'linear', [
    { cls: 's-throughput', name: 'ok operations completed per second', values: series.throughput },
  ]);
  const latency = chart('latency of ok operations', 'latency (ms, log scale)', 'log', [
    { cls: 's-p50', name: 'p50 latency (ms)', values: series.p50 },
    { cls: 's-p99', name: 'p99 latency (ms)', values: series.p99 },
  ]);
  return [
    [
      '<section id="throughput">',
      '<h2>Throughput</h2>',
      `<div class="legend"><span><i class="sw line s-throughput"></i>ok operations completed per second (1 s buckets, by completion time)</span></div>`,
      `<div class="scroll">${throughput}</div>`,
      '</section>',
    ].join('\n'),
    [
      '<section id="latency">',
      '<h2>Latency</h2>',
      `<div class="legend"><span><i class="sw line s-p50"></i>p50</span><span><i class="sw line s-p99"></i>p99</span><span>of ok operations, per 1 s bucket by completion time; gaps: no ok operation completed</span></div>`,
      `<div class="scroll">${latency}</div>`,
      '</section>',
    ].join('\n'),
  ];
}

function violationSection(record: RunRecord, endMs: number): string {
  const v = record.verdict;
  const ids = v.windowOpIds ?? [];
  const byId = new Map(record.ops.map((op) => [op.id, op]));
  const ops = ids.flatMap((id) => byId.get(id) ?? []).sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
  const missing = ids.filter((id) => !byId.has(id));
  return [
    '<section id="violation">',
    '<h2>Violation: the smallest failing window</h2>',
    `<p>Key: <code>${escapeHtml(v.key ?? '(not given)')}</code>; ${formatInt(ops.length)} operations.</p>`,
    v.explanation ? `<pre class="explanation">${escapeHtml(v.explanation)}</pre>` : '',
    missing.length > 0 ? `<p class="note">Operations named by the checker but not in the history: ${escapeHtml(missing.join(', '))}</p>` : '',
    ops.length > 0 ? `<div class="scroll">${violationSvg(ops, record.faults, endMs)}</div>` : '<p class="note">The checker named no operations.</p>',
    ops.length > 0 ? windowTable(ops) : '',
    '</section>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function windowTable(ops: readonly OpRecord[]): string {
  const header = '<tr><th class="num">id</th><th>client</th><th>operation</th><th class="num">invoke ms</th><th class="num">complete ms</th><th>outcome</th><th>result</th></tr>';
  const rows = ops.map((op) => {
    const cells = [
      `<td class="num">${op.id}</td>`,
      `<td>${escapeHtml(laneName(op.client))}</td>`,
      `<td><code>${escapeHtml(describeRequest(op))}</code></td>`,
      `<td class="num">${formatMs(op.invokeMs)}</td>`,
      `<td class="num">${op.completeMs === null ? '—' : formatMs(op.completeMs)}</td>`,
      `<td><i class="sw o-${outcomeClass(op.outcome)}"></i> ${escapeHtml(op.outcome)}</td>`,
      `<td>${resultCell(op)}</td>`,
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="window-ops">${header}${rows.join('')}</table>`;
}

/** Milliseconds in a table: whole numbers grouped, fractions kept to 0.1 ms. */
function formatMs(ms: number): string {
  return Number.isInteger(ms) ? formatInt(ms) : ms.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

/** The result column: what a read saw, or the error of a failed or unknown operation. */
function resultCell(op: OpRecord): string {
  const text =
    op.outcome !== 'ok' ? (op.error ?? '') : op.kind === 'scan' ? `${describeResult(op)}: ${describePairs(op.pairs ?? [])}` : describeResult(op);
  return text === '' ? '—' : `<code>${escapeHtml(text)}</code>`;
}

function faultsSection(faults: readonly FaultRecord[], endMs: number): string {
  if (faults.length === 0) return '<section id="faults">\n<h2>Faults</h2>\n<p>No faults were injected.</p>\n</section>';
  const header =
    '<tr><th class="num">id</th><th>kind</th><th>description</th><th>stores</th><th class="num">start s</th><th class="num">end s</th><th class="num">duration</th><th>note</th></tr>';
  const rows = [...faults]
    .sort((a, b) => a.startMs - b.startMs || a.id - b.id)
    .map((f) => {
      const cells = [
        `<td class="num">${f.id}</td>`,
        `<td><i class="sw band ${faultClass(f.kind)}"></i> ${escapeHtml(f.kind)}</td>`,
        `<td>${escapeHtml(f.description)}</td>`,
        `<td>${escapeHtml(f.stores.join(', '))}</td>`,
        `<td class="num">${formatSeconds(f.startMs)}</td>`,
        `<td class="num">${f.endMs === null ? 'not undone by the end' : formatSeconds(f.endMs)}</td>`,
        `<td class="num">${f.endMs === null ? `≥ ${formatDuration(endMs - f.startMs)}` : formatDuration(f.endMs - f.startMs)}</td>`,
        `<td>${escapeHtml(f.note ?? '')}</td>`,
      ];
      return `<tr>${cells.join('')}</tr>`;
    });
  return ['<section id="faults">', `<h2>Faults (${formatInt(faults.length)})</h2>`, `<table class="faults">${header}${rows.join('')}</table>`, '</section>'].join('\n');
}
