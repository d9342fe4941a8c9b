// SVG building blocks shared by the report's charts (report-timeline.ts, report-html.ts): a
// linear time scale, axes with tick labels, the shaded fault bands, and a line chart.
//
// The charts are inline <svg> in the HTML page, so they are styled by the page's CSS
// classes (report-style.ts) rather than by attributes on every element: with tens of
// thousands of operations that keeps the file small. Coordinates are rounded to 0.1 px
// for the same reason. No xmlns attribute is needed: the HTML parser puts <svg> in the
// SVG namespace by itself.

import { escapeHtml, formatInt } from './report-format.js';
import type { FaultKind, FaultRecord } from './run-record.js';

/** A coordinate as short text: rounded to 0.1 px. */
export function px(n: number): string {
  const r = Math.round(n * 10) / 10;
  return String(r === 0 ? 0 : r); // no "-0"
}

/** Maps [fromMs, toMs] onto [left, left + width] pixels. */
export interface TimeScale {
  readonly left: number;
  readonly width: number;
  readonly fromMs: number;
  readonly toMs: number;
}

export function xOf(s: TimeScale, ms: number): number {
  const span = s.toMs - s.fromMs || 1;
  return s.left + ((ms - s.fromMs) / span) * s.width;
}

/** The smallest of 1, 2, 5 x 10^k that is at least `rough` (for tick steps). */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const pow = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * pow >= rough) return m * pow;
  return 10 * pow;
}

/** Whole-second steps people count in (a 5-minute run gets ticks every 15 or 30 s). */
const SECOND_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);

/** A tick mark: where (ms on a time axis, the value on a value axis) and its label. */
export interface Tick {
  readonly value: number;
  readonly label: string;
}

/**
 * Ticks at least `minGapPx` apart. unit 's': labels in seconds (the full-run charts);
 * unit 'ms': labels in milliseconds since the start (the zoomed violation window).
 */
export function timeTicks(s: TimeScale, minGapPx: number, unit: 's' | 'ms'): Tick[] {
  const roughMs = (minGapPx / s.width) * (s.toMs - s.fromMs || 1);
  const step = unit === 's' && roughMs > 500 ? (SECOND_STEPS_MS.find((m) => m >= roughMs) ?? niceStep(roughMs)) : niceStep(roughMs);
  const decimals = unit === 's' ? Math.max(0, -Math.floor(Math.log10(step / 1000) + 1e-9)) : Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: Tick[] = [];
  // Multiples of the step by index, not by repeated addition: no 0.30000000000000004.
  for (let k = Math.ceil(s.fromMs / step); k * step <= s.toMs + 1e-9; k++) {
    const ms = k * step;
    const label = unit === 's' ? `${(ms / 1000).toFixed(decimals)} s` : ms % 1 === 0 ? formatInt(ms) : ms.toFixed(decimals);
    ticks.push({ value: ms, label });
  }
  return ticks;
}

/** A horizontal time axis at y, with grid lines up to gridTop and a title under it. */
export function timeAxis(s: TimeScale, y: number, gridTop: number, ticks: readonly Tick[], title: string): string {
  const parts = [`<path class="axis" d="M${px(s.left)} ${px(y)}h${px(s.width)}"/>`];
  for (const t of ticks) {
    const x = px(xOf(s, t.value));
    parts.push(`<path class="grid" d="M${x} ${px(gridTop)}V${px(y)}"/>`);
    parts.push(`<path class="axis" d="M${x} ${px(y)}v4"/>`);
    parts.push(`<text class="tick" x="${x}" y="${px(y + 15)}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  }
  parts.push(`<text class="axis-title" x="${px(s.left + s.width / 2)}" y="${px(y + 30)}" text-anchor="middle">${escapeHtml(title)}</text>`);
  return parts.join('');
}

/** Maps values onto a chart's height: `at(v)` is 0 at the bottom, 1 at the top. */
export interface ValueScale {
  readonly at: (v: number) => number;
  readonly ticks: readonly Tick[];
}

/** 0 to a rounded-up max, with 3 to 6 grid lines. */
export function linearValueScale(max: number): ValueScale {
  const step = niceStep(max > 0 ? max / 5 : 0.2);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: Tick[] = [];
  for (let k = 0; k * step <= top + step / 1e6; k++) ticks.push({ value: k * step, label: formatTickValue(k * step, decimals) });
  return { at: (v) => v / top, ticks };
}

/**
 * Whole decades around [min, max] of the positive values; ticks at 1, 10, 100... (and 2, 5
 * between them when there are few decades). Latencies need this: a p99 of seconds during
 * a fault would otherwise flatten a p50 of milliseconds onto the axis.
 */
export function logValueScale(min: number, max: number): ValueScale {
  const lo = 10 ** Math.floor(Math.log10(min > 0 ? min : 1));
  const hi = Math.max(10 ** Math.ceil(Math.log10(max > 0 ? max : 1)), lo * 10);
  const decades = Math.round(Math.log10(hi / lo));
  const ticks: Tick[] = [];
  for (let d = 0; d <= decades; d++) {
    const base = lo * 10 ** d;
    for (const m of d < decades && decades <= 3 ? [1, 2, 5] : [1]) {
      const v = Number((base * m).toPrecision(6));
      ticks.push({ value: v, label: formatTickValue(v, Math.max(0, -Math.floor(Math.log10(v) + 1e-9))) });
    }
  }
  return { at: (v) => Math.log10(Math.max(v, lo) / lo) / decades, ticks };
}

/** A vertical value axis with a horizontal grid line at each tick. */
export function valueAxis(s: TimeScale, top: number, height: number, scale: ValueScale, title: string): string {
  const parts = [`<path class="axis" d="M${px(s.left)} ${px(top)}v${px(height)}"/>`];
  for (const t of scale.ticks) {
    const y = px(top + height - scale.at(t.value) * height);
    parts.push(`<path class="grid" d="M${px(s.left)} ${y}h${px(s.width)}"/>`);
    parts.push(`<text class="tick" x="${px(s.left - 6)}" y="${y}" dy="0.32em" text-anchor="end">${escapeHtml(t.label)}</text>`);
  }
  const cy = top + height / 2;
  parts.push(`<text class="axis-title" transform="translate(${px(s.left - 48)} ${px(cy)}) rotate(-90)" text-anchor="middle">${escapeHtml(title)}</text>`);
  return parts.join('');
}

function formatTickValue(v: number, decimals: number): string {
  return decimals === 0 ? formatInt(v) : v.toFixed(decimals);
}

/** CSS class of a fault kind; a kind this code does not know draws in a neutral colour. */
export function faultClass(kind: FaultKind): string {
  return FAULT_KINDS_DRAWN.includes(kind) ? `f-${kind}` : 'f-other';
}
const FAULT_KINDS_DRAWN: readonly string[] = ['kill', 'pause', 'partition', 'isolate', 'drop', 'transfer'];

/** Where a fault lies on the time axis, clipped to the scale; null when outside it. */
export function faultSpan(f: FaultRecord, s: TimeScale, endMs: number): { x0: number; x1: number } | null {
  const from = Math.max(f.startMs, s.fromMs);
  const to = Math.min(f.endMs ?? endMs, s.toMs);
  if (to < from) return null;
  const x0 = xOf(s, from);
  // At least 1.5 px: a leader transfer lasts milliseconds and must still show.
  return { x0, x1: Math.max(xOf(s, to), x0 + 1.5) };
}

/** One-line description of a fault for tooltips. */
export function faultTooltip(f: FaultRecord): string {
  const end = f.endMs === null ? 'still in place at the end of the run' : `${(f.endMs / 1000).toFixed(2)} s`;
  return `fault #${f.id} ${f.kind}: ${f.description}; ${(f.startMs / 1000).toFixed(2)} s → ${end}${f.note ? ` (${f.note})` : ''}`;
}

/** Shaded vertical bands, one per fault, from y = top to top + height. */
export function faultBands(faults: readonly FaultRecord[], s: TimeScale, endMs: number, top: number, height: number): string {
  const parts: string[] = [];
  for (const f of faults) {
    const span = faultSpan(f, s, endMs);
    if (span === null) continue;
    parts.push(
      `<rect class="band ${faultClass(f.kind)}" x="${px(span.x0)}" y="${px(top)}" width="${px(span.x1 - span.x0)}" height="${px(height)}">` +
        `<title>${escapeHtml(faultTooltip(f))}</title></rect>`,
    );
  }
  return parts.join('');
}

export interface LineSeries {
  /** CSS class of the line (its colour). */
  readonly cls: string;
  readonly name: string;
  /** One value per bucket; null leaves a gap. */
  readonly values: ReadonlyArray<number | null>;
}

export interface LineChartOptions {
  readonly scale: TimeScale;
  readonly endMs: number;
  readonly bucketMs: number;
  readonly series: readonly LineSeries[];
  readonly faults: readonly FaultRecord[];
  readonly yTitle: string;
  readonly label: string;
  /** 'log' for values spanning decades (latencies); default 'linear' from 0. */
  readonly yScale?: 'linear' | 'log';
}

const CHART_TOP = 12;
const CHART_HEIGHT = 170;

/** A line chart over the run's time axis, one point per bucket, with the fault bands behind. */
export function lineChart(o: LineChartOptions): string {
  const s = o.scale;
  let max = 0;
  let minPositive = Infinity;
  for (const ser of o.series) {
    for (const v of ser.values) {
      if (v !== null && v > max) max = v;
      if (v !== null && v > 0 && v < minPositive) minPositive = v;
    }
  }
  const values = o.yScale === 'log' ? logValueScale(minPositive, max) : linearValueScale(max);
  const axisY = CHART_TOP + CHART_HEIGHT;
  const width = s.left + s.width + 24;
  const height = axisY + 40;
  const parts = [
    `<svg class="chart" width="${px(width)}" height="${height}" viewBox="0 0 ${px(width)} ${height}" role="img" aria-label="${escapeHtml(o.label)}">`,
    faultBands(o.faults, s, o.endMs, CHART_TOP, CHART_HEIGHT),
    valueAxis(s, CHART_TOP, CHART_HEIGHT, values, o.yTitle),
    timeAxis(s, axisY, CHART_TOP, timeTicks(s, 70, 's'), 'time since start'),
  ];
  for (const ser of o.series) {
    const d = linePath(ser.values, (i) => xOf(s, Math.min(o.endMs, (i + 0.5) * o.bucketMs)), (v) => axisY - values.at(v) * CHART_HEIGHT);
    parts.push(`<path class="line ${ser.cls}" d="${d}"><title>${escapeHtml(ser.name)}</title></path>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Path data through the non-null values; a null breaks the line. A point alone between
 * gaps gets a zero-length segment, which the round line cap draws as a dot.
 */
function linePath(values: ReadonlyArray<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let run = 0;
  values.forEach((v, i) => {
    if (v === null) {
      if (run === 1) d += 'h0';
      run = 0;
      return;
    }
    d += `${run === 0 ? 'M' : 'L'}${px(x(i))} ${px(y(v))}`;
    run++;
  });
  if (run === 1) d += 'h0';
  return d;
}
