// The report's colours and its one inline stylesheet. The SVG charts use these classes
// instead of per-element attributes (a 40,000-operation timeline stays small), and the
// same class colours an HTML legend swatch (background) and an SVG shape (fill), so the
// legend always matches the drawing.

import type { FaultKind, OpOutcome } from './run-record.js';

export const OUTCOME_COLOURS: Readonly<Record<OpOutcome, string>> = {
  ok: '#2e9d4f',
  fail: '#9a9a9a',
  unknown: '#f08c00',
};

/** Chosen apart from the outcome colours, and from the red of the violation outline. */
export const FAULT_COLOURS: Readonly<Record<FaultKind | 'other', string>> = {
  kill: '#8e44ad',
  pause: '#2f6fb0',
  partition: '#c9a100',
  isolate: '#139c9c',
  drop: '#8b5a2b',
  transfer: '#d14fa0',
  other: '#607080',
};

const VIOLATION_RED = '#d7191c';

function classColours(): string {
  const rules: string[] = [];
  for (const [o, c] of Object.entries(OUTCOME_COLOURS)) {
    rules.push(`.o-${o}{fill:${c};background:${c}}`, `.open.o-${o}{stroke:${c}}`, `.p-${o}{stroke:${c}}`);
  }
  for (const [k, c] of Object.entries(FAULT_COLOURS)) rules.push(`.f-${k}{fill:${c};background:${c}}`);
  return rules.join('\n');
}

export const REPORT_CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;background:#f6f7f9}
body{margin:0;padding:16px 24px 48px}
h1{font-size:20px;margin:0 0 12px}
h2{font-size:16px;margin:0 0 10px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:14px 18px;margin:0 0 16px}
.banner{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 16px;padding:12px 16px;border-radius:5px;color:#fff;margin-bottom:10px}
.banner .status{font-size:22px;font-weight:700;letter-spacing:.04em}
.banner .summary{font-size:15px}
.v-linearizable{background:#22863a}
.v-violation{background:${VIOLATION_RED}}
.v-inconclusive{background:#e69500;color:#1d2330}
pre{background:#f3f4f6;border:1px solid #e1e4e8;border-radius:4px;padding:10px;white-space:pre-wrap;word-break:break-word;font-size:12.5px;margin:8px 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.replay code{display:inline-block;background:#f3f4f6;border:1px solid #e1e4e8;border-radius:4px;padding:4px 8px;user-select:all}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #dde1e7;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#fafbfc}
.params th{width:11em}
.note{color:#5a6372;font-size:12.5px}
.scroll{overflow-x:auto;border:1px solid #eef0f3;border-radius:4px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin:4px 0 8px}
.legend span{display:inline-flex;align-items:center;gap:5px}
.sw{display:inline-block;width:14px;height:10px;border-radius:2px}
.sw.band{opacity:.4}
.sw.win{background:#fff;border:2px solid ${VIOLATION_RED};box-sizing:border-box}
.sw.open{background:#fff;border:1.5px dashed #555;box-sizing:border-box}
.sw.line{height:3px}
.sw.recovery{width:0;height:12px;border-left:1.5px dashed #333;border-radius:0}
svg{display:block;font-size:10px}
svg text{fill:#1d2330}
.axis{stroke:#555;stroke-width:1;fill:none}
.grid{stroke:#e4e7eb;stroke-width:1;fill:none}
.tick{font-size:10px;fill:#444}
.axis-title{font-size:11px;fill:#444}
.lane-bg{fill:#f5f6f8}
.lane-label{font-size:11px}
.band{fill-opacity:.15}
.band-mark{fill-opacity:.9}
.fault-label{font-size:10px}
.open{fill-opacity:.35;stroke-width:1;stroke-dasharray:3 2}
.win{fill:none;stroke:${VIOLATION_RED};stroke-width:1.5}
.bars path{fill:none}
.line{fill:none;stroke-width:1.6;stroke-linejoin:round;stroke-linecap:round}
.s-throughput{stroke:#2f6fb0;background:#2f6fb0}
.s-p50{stroke:#2e9d4f;background:#2e9d4f}
.s-p99{stroke:#c0392b;background:#c0392b}
.recovery{stroke:#333;stroke-width:1.2;stroke-dasharray:5 3}
.op-label{font-size:11px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
${classColours()}
`;
