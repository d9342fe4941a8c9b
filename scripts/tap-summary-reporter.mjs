// tap reporter: passes raw TAP through unchanged, then prints one plain line
// "N passed, N failed" from tap's own closing counts (`# { total, pass, fail }`).
import { Transform } from 'node:stream';

let tail = '';
let counts = null;
export default class SummaryReporter extends Transform {
  _transform(chunk, _enc, cb) {
    const text = tail + chunk.toString('utf8');
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) scan(line);
    cb(null, chunk);
  }
  _flush(cb) {
    if (tail) scan(tail);
    const pass = counts?.pass ?? 0;
    const fail = counts?.fail ?? (counts ? 0 : 1);
    cb(null, `${pass} passed, ${fail} failed\n`);
  }
}
function scan(line) {
  const m = /^# (\{ total: .*\})\s*$/.exec(line);
  if (!m) return;
  const obj = {};
  for (const part of m[1].slice(1, -1).split(',')) {
    const [k, v] = part.split(':').map((s) => s.trim());
    if (k && v !== undefined) obj[k] = Number(v);
  }
  counts = obj;
}
