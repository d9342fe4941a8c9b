// Text for the HTML report (report-html.ts): escaping, number and duration formats, and the
// one-line description of an operation. Everything the run recorded (keys, values, fault
// descriptions, the checker's explanation, paths) passes through escapeHtml before it is
// put in the page, so a value like `<script>` shows as text and never runs.

import type { OpOutcome, OpRecord } from './run-record.js';

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe inside HTML or SVG element content and inside quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/** 12345 -> "12,345" (fixed locale: the report reads the same on every machine). */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds as seconds with `digits` decimals: 12345 -> "12.35". */
export function formatSeconds(ms: number, digits = 2): string {
  return (ms / 1000).toFixed(digits);
}

/** A duration for people: "850 ms", "12.3 s", "4 min 05 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** Shortens long text for a chart label; the full text stays in the tables and tooltips. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/**
 * A key as people should see it: as it is, unless it is empty or holds spaces or control
 * characters, which would be invisible or ambiguous; then in JSON quotes.
 */
export function showKey(key: string | undefined): string {
  if (key === undefined) return '?';
  return key === '' || /[\x00-\x20\x7f-\x9f]/.test(key) ? JSON.stringify(key) : key;
}

/** A value always in quotes (JSON escapes make control characters visible). */
export function showValue(value: string): string {
  return JSON.stringify(value);
}

/** What the operation asked for: `put x = "3-17"`, `get x`, `delete x`, `scan [a, z)`. */
export function describeRequest(op: OpRecord): string {
  switch (op.kind) {
    case 'put':
      return `put ${showKey(op.key)} = ${op.value === undefined ? '?' : showValue(op.value)}`;
    case 'get':
      return `get ${showKey(op.key)}`;
    case 'delete':
      return `delete ${showKey(op.key)}`;
    case 'scan':
      return `scan [${showKey(op.start ?? '')}, ${op.end === undefined ? '∞' : showKey(op.end)})`;
    default:
      return String((op as { kind: unknown }).kind);
  }
}

/** What a read saw, when it got an answer: `"2-5"`, `not found`, `4 pairs`; else ''. */
export function describeResult(op: OpRecord): string {
  if (op.outcome !== 'ok') return '';
  if (op.kind === 'get') return op.read === undefined ? '' : op.read === null ? 'not found' : showValue(op.read);
  if (op.kind === 'scan') {
    const n = op.pairs?.length ?? 0;
    return n === 1 ? '1 pair' : `${n} pairs`;
  }
  return '';
}

/** The chart label of an operation: request, result, and the outcome when it is not ok. */
export function describeOp(op: OpRecord): string {
  const result = describeResult(op);
  const base = result === '' ? describeRequest(op) : `${describeRequest(op)} → ${result}`;
  return op.outcome === 'ok' ? base : `${base} (${op.outcome})`;
}

/** The pairs of a scan for the violation table, capped so one scan cannot flood the page. */
export function describePairs(pairs: ReadonlyArray<readonly [string, string]>, max = 20): string {
  const shown = pairs.slice(0, max).map(([k, v]) => `${showKey(k)}=${showValue(v)}`);
  if (pairs.length > max) shown.push(`… ${pairs.length - max} more`);
  return shown.length === 0 ? '(none)' : shown.join(', ');
}

/** Known outcomes map to themselves; anything else (a hand-edited file) draws as unknown. */
export function outcomeClass(outcome: OpOutcome): OpOutcome {
  return outcome === 'ok' || outcome === 'fail' ? outcome : 'unknown';
}

/** A tooltip line for an operation: id, client, what it did, when, how long. */
export function opTooltip(op: OpRecord): string {
  const end = op.completeMs === null ? 'no answer by the end of the run' : `${formatSeconds(op.completeMs, 3)} s (${formatDuration(op.completeMs - op.invokeMs)})`;
  const err = op.error ? ` ${op.error}` : '';
  return `#${op.id} client ${op.client}: ${describeOp(op)}${err}; ${formatSeconds(op.invokeMs, 3)} s → ${end}`;
}
