// The two operation charts of the report: the whole run (one lane per client, every
// operation a bar, faults as bands) and the violation window zoomed in (only the
// operations the checker named, each bar labelled with what it did).
//
// The whole-run chart must stay small with 40,000 operations: above TOOLTIP_LIMIT the bars
// of one outcome are a single <path> of short horizontal strokes (about 15 bytes each)
// instead of a <rect> with a <title> each (about 150 bytes). The few operations that
// matter most (the violation window, those still open at the end) are always drawn as
// their own elements with a tooltip.

import { describeOp, escapeHtml, opTooltip, outcomeClass, truncate } from './report-format.js';
import { faultBands, faultSpan, faultTooltip, px, timeAxis, timeTicks, xOf, type TimeScale } from './report-svg.js';
import type { FaultRecord, OpOutcome, OpRecord, RunRecord } from './run-record.js';

/** Above this many operations the whole-run chart leaves out per-operation tooltips. */
export const TOOLTIP_LIMIT = 5000;

/** Left margin of every time chart (lane labels, value axis), so their time axes line up. */
export const CHART_LEFT = 96;

const LANE_HEIGHT = 14;
const BAR_HEIGHT = 9;
const LABEL_ROW = 13;
const MAX_LABEL_ROWS = 5;
/** Rough width of one character of the 10-11 px chart fonts, to keep labels apart. */
const CHAR_PX = 6.2;

/** Clients in lane order: 1..n as the run configured them, then the final reads (client 0). */
export function laneOrder(clientIds: Iterable<number>): number[] {
  const ids = [...new Set(clientIds)];
  return ids.sort((a, b) => (a === 0 ? 1 : b === 0 ? -1 : a - b));
}

export function laneName(client: number): string {
  return client === 0 ? 'final reads' : `client ${client}`;
}

interface LabelItem {
  readonly x: number;
  readonly text: string;
}

/** A label as placed: its row, and its text, cut if it had to be. */
type Placed<T extends LabelItem> = T & { readonly row: number; readonly shown: string };

/**
 * Puts labels into rows so that they do not overlap: each goes into the first row where
 * the previous label has ended; when all rows are taken it is cut to the room left before
 * the next label and goes in the row that frees up first (the full text stays in the
 * tooltip). Items must come sorted by x.
 */
function placeLabels<T extends LabelItem>(items: readonly T[], maxRows: number, minChars: number): Array<Placed<T>> {
  const rowEnds: number[] = [];
  return items.map((item, i) => {
    let row = rowEnds.findIndex((end) => end + 6 <= item.x);
    if (row === -1 && rowEnds.length < maxRows) row = rowEnds.length;
    let shown = item.text;
    if (row === -1) {
      row = rowEnds.indexOf(Math.min(...rowEnds));
      const room = (items[i + 1]?.x ?? Infinity) - item.x - 6;
      shown = truncate(item.text, Math.max(minChars, Math.floor(room / CHAR_PX)));
    }
    rowEnds[row] = Math.max(rowEnds[row] ?? -Infinity, item.x + shown.length * CHAR_PX);
    return { ...item, row, shown };
  });
}

/** How many rows the placed labels use (at least `min`). */
function rowsUsed(labels: ReadonlyArray<{ row: number }>, min: number): number {
  return labels.reduce((m, l) => Math.max(m, l.row + 1), min);
}

/** Whole-run timeline: one lane per client, fault bands behind, time axis in seconds. */
export function timelineSvg(record: RunRecord, scale: TimeScale, endMs: number): string {
  const lanes = laneOrder([...Array.from({ length: record.params.clients }, (_, i) => i + 1), ...record.ops.map((o) => o.client)]);
  const laneIndex = new Map(lanes.map((c, i) => [c, i]));
  const faults = [...record.faults].sort((a, b) => a.startMs - b.startMs);
  const labels = placeLabels(
    faults.flatMap((fault) => {
      const span = faultSpan(fault, scale, endMs);
      return span === null ? [] : [{ x: span.x0 + 2, text: `#${fault.id} ${fault.description}`, fault }];
    }),
    MAX_LABEL_ROWS,
    4,
  );
  const labelRows = rowsUsed(labels, 0);
  const bandTop = 4;
  const lanesTop = bandTop + labelRows * LABEL_ROW + 4;
  const lanesBottom = lanesTop + Math.max(1, lanes.length) * LANE_HEIGHT;
  const width = scale.left + scale.width + 24;
  const height = lanesBottom + 40;
  const window = record.verdict.status === 'violation' ? new Set(record.verdict.windowOpIds ?? []) : new Set<number>();

  const parts = [
    `<svg class="timeline" width="${px(width)}" height="${height}" viewBox="0 0 ${px(width)} ${height}" role="img" aria-label="operations per client over time">`,
    laneBackgrounds(lanes, scale, lanesTop),
    faultBands(faults, scale, endMs, bandTop, lanesBottom - bandTop),
    faultLabelsSvg(labels, bandTop),
    timeAxis(scale, lanesBottom, lanesTop, timeTicks(scale, 70, 's'), 'time since start'),
    recoveryMarker(record, scale, endMs, bandTop, lanesBottom),
    opBars(record.ops, laneIndex, scale, endMs, lanesTop, record.ops.length <= TOOLTIP_LIMIT),
    windowOutlines(record.ops, window, laneIndex, scale, endMs, lanesTop),
    '</svg>',
  ];
  return parts.join('');
}

function laneBackgrounds(lanes: readonly number[], s: TimeScale, top: number): string {
  return lanes
    .map((c, i) => {
      const y = top + i * LANE_HEIGHT;
      const bg = i % 2 === 1 ? `<rect class="lane-bg" x="${px(s.left)}" y="${px(y)}" width="${px(s.width)}" height="${LANE_HEIGHT}"/>` : '';
      return `${bg}<text class="lane-label" x="${px(s.left - 8)}" y="${px(y + LANE_HEIGHT / 2)}" dy="0.32em" text-anchor="end">${escapeHtml(laneName(c))}</text>`;
    })
    .join('');
}

function faultLabelsSvg(labels: ReadonlyArray<Placed<LabelItem & { fault: FaultRecord }>>, top: number): string {
  return labels
    .map((l) => {
      const y = top + l.row * LABEL_ROW + 10;
      return `<text class="fault-label" x="${px(l.x)}" y="${px(y)}">${escapeHtml(l.shown)}<title>${escapeHtml(faultTooltip(l.fault))}</title></text>`;
    })
    .join('');
}

/** A dashed line where the faults stop and the heal + recovery phase begins. */
function recoveryMarker(record: RunRecord, s: TimeScale, endMs: number, top: number, bottom: number): string {
  const at = record.params.durationMs;
  if (!(at > 0 && at < endMs)) return '';
  const x = px(xOf(s, at));
  return `<path class="recovery" d="M${x} ${px(top)}V${px(bottom)}"><title>faults stop, heal + recovery phase begins (${(at / 1000).toFixed(1)} s)</title></path>`;
}

interface Bar {
  readonly x: number;
  readonly y: number;
  readonly w: number;
}

/** Where an operation's bar goes; an open operation (no answer) runs to the end. */
function barOf(op: OpRecord, laneIndex: ReadonlyMap<number, number>, s: TimeScale, endMs: number, top: number, barHeight: number, laneHeight: number): Bar {
  const x0 = xOf(s, Math.max(s.fromMs, op.invokeMs));
  const x1 = xOf(s, Math.min(s.toMs, op.completeMs ?? endMs));
  const lane = laneIndex.get(op.client) ?? 0;
  // At least 0.4 px wide so that an instant answer still shows.
  return { x: x0, y: top + lane * laneHeight + (laneHeight - barHeight) / 2, w: Math.max(0.4, x1 - x0) };
}

function rectOf(b: Bar, h: number, cls: string, tooltip?: string): string {
  const attrs = `class="${cls}" x="${px(b.x)}" y="${px(b.y)}" width="${px(b.w)}" height="${h}"`;
  return tooltip === undefined ? `<rect ${attrs}/>` : `<rect ${attrs}><title>${escapeHtml(tooltip)}</title></rect>`;
}

/** Every operation's bar, coloured by outcome; see the top of the file for the two forms. */
function opBars(ops: readonly OpRecord[], laneIndex: ReadonlyMap<number, number>, s: TimeScale, endMs: number, top: number, tooltips: boolean): string {
  const strokes: Record<OpOutcome, string[]> = { ok: [], fail: [], unknown: [] };
  const single: string[] = [];
  for (const op of ops) {
    const b = barOf(op, laneIndex, s, endMs, top, BAR_HEIGHT, LANE_HEIGHT);
    const cls = `o-${outcomeClass(op.outcome)}`;
    if (op.completeMs === null) single.push(rectOf(b, BAR_HEIGHT, `${cls} open`, opTooltip(op)));
    else if (tooltips) single.push(rectOf(b, BAR_HEIGHT, cls, opTooltip(op)));
    // A stroke of the bar's height along its middle line: "M<x> <y>h<w>".
    else strokes[outcomeClass(op.outcome)].push(`M${px(b.x)} ${px(b.y + BAR_HEIGHT / 2)}h${px(b.w)}`);
  }
  const paths = (Object.keys(strokes) as OpOutcome[])
    .filter((o) => strokes[o].length > 0)
    .map((o) => `<path class="p-${o}" stroke-width="${BAR_HEIGHT}" d="${strokes[o].join('')}"><title>${strokes[o].length} ${o} operations</title></path>`);
  return `<g class="bars">${paths.join('')}${single.join('')}</g>`;
}

/** The red outline of the operations in the checker's smallest failing window. */
function windowOutlines(ops: readonly OpRecord[], window: ReadonlySet<number>, laneIndex: ReadonlyMap<number, number>, s: TimeScale, endMs: number, top: number): string {
  if (window.size === 0) return '';
  return ops
    .filter((op) => window.has(op.id))
    .map((op) => {
      const b = barOf(op, laneIndex, s, endMs, top, BAR_HEIGHT + 3, LANE_HEIGHT);
      return rectOf(b, BAR_HEIGHT + 3, 'win', opTooltip(op));
    })
    .join('');
}

const WINDOW_WIDTH = 1000;
const WINDOW_BAR = 12;
const WINDOW_LABEL_ROWS = 4;
const WINDOW_LABEL_MAX = 64;

/**
 * The violation window, zoomed: only these operations, one lane per client, the x-axis
 * spanning just them (plus 5% margin), each bar labelled above it. An operation with no
 * answer runs dashed to the right edge.
 */
export function violationSvg(windowOps: readonly OpRecord[], faults: readonly FaultRecord[], endMs: number): string {
  const ops = [...windowOps].sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
  if (ops.length === 0) return '';
  const from = Math.min(...ops.map((o) => o.invokeMs));
  const to = Math.max(...ops.map((o) => o.completeMs ?? o.invokeMs));
  const margin = Math.max((to - from) * 0.05, 0.5);
  const scale: TimeScale = { left: CHART_LEFT, width: WINDOW_WIDTH, fromMs: from - margin, toMs: to + margin };
  const lanes = laneOrder(ops.map((o) => o.client));

  // Lay out each lane: its labels' rows decide its height.
  let y = 8;
  let rightmost = scale.left + scale.width;
  const backgrounds: string[] = [];
  const bars: string[] = [];
  lanes.forEach((client, i) => {
    const mine = ops.filter((o) => o.client === client);
    const labels = placeLabels(
      mine.map((op) => ({ x: xOf(scale, op.invokeMs), text: truncate(describeOp(op), WINDOW_LABEL_MAX), op })),
      WINDOW_LABEL_ROWS,
      8,
    );
    const rows = rowsUsed(labels, 1);
    const laneHeight = rows * LABEL_ROW + WINDOW_BAR + 10;
    if (i % 2 === 1) backgrounds.push(`<rect class="lane-bg" x="${px(scale.left)}" y="${px(y)}" width="${px(scale.width)}" height="${px(laneHeight)}"/>`);
    backgrounds.push(`<text class="lane-label" x="${px(scale.left - 8)}" y="${px(y + laneHeight / 2)}" dy="0.32em" text-anchor="end">${escapeHtml(laneName(client))}</text>`);
    const barY = y + rows * LABEL_ROW + 5;
    for (const { op, x, row, shown } of labels) {
      const x1 = op.completeMs === null ? scale.left + scale.width : xOf(scale, op.completeMs);
      const geometry = `x="${px(x)}" y="${px(barY)}" width="${px(Math.max(1, x1 - x))}" height="${WINDOW_BAR}"`;
      const tip = `<title>${escapeHtml(opTooltip(op))}</title>`;
      bars.push(`<rect class="o-${outcomeClass(op.outcome)}${op.completeMs === null ? ' open' : ''}" ${geometry}>${tip}</rect>`);
      bars.push(`<rect class="win" ${geometry}/>`);
      bars.push(`<text class="op-label" x="${px(x)}" y="${px(y + row * LABEL_ROW + 11)}">${escapeHtml(shown)}${tip}</text>`);
      rightmost = Math.max(rightmost, x + shown.length * CHAR_PX);
    }
    y += laneHeight;
  });

  const width = rightmost + 16;
  const height = y + 40;
  return [
    `<svg class="window" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" role="img" aria-label="the smallest failing window">`,
    backgrounds.join(''),
    faultBands(faults, scale, endMs, 8, y - 8),
    timeAxis(scale, y, 8, timeTicks(scale, 90, 'ms'), 'milliseconds since start'),
    bars.join(''),
    '</svg>',
  ].join('');
}

