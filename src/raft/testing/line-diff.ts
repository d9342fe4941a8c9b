// A line diff for transcript mismatches: the expected file against the actual output,
// as hunks of `-` (expected only), `+` (actual only) and ` ` (context) lines, each hunk
// headed by its line numbers in both. Transcripts are a few hundred lines, so the plain
// longest-common-subsequence table (lines × lines) is small enough.

/**
 * `where(n)`, if given, names the place of expected line n (1-based) in the hunk header,
 * e.g. the transcript command whose output holds it.
 */
export function lineDiff(expected: string, actual: string, where?: (line: number) => string, context = 3): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  // The edit script: each line with its kind and its line numbers (1-based) in a and b.
  const ops: Array<{ kind: ' ' | '-' | '+'; text: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i]!, ai: ++i, bi: ++j });
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ kind: '-', text: a[i]!, ai: ++i, bi: j });
    } else {
      ops.push({ kind: '+', text: b[j]!, ai: i, bi: ++j });
    }
  }
  // Hunks: runs of changes with up to `context` unchanged lines around them.
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.kind === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // Extend over changes separated by at most 2·context unchanged lines.
    for (let gap = 0; end < ops.length && gap <= 2 * context; end++) gap = ops[end]!.kind === ' ' ? gap + 1 : 0;
    while (end > k && ops[end - 1]!.kind === ' ') end--;
    const stop = Math.min(ops.length, end + context);
    const first = ops[start]!;
    const at = first.kind === '+' ? first.ai + 1 : first.ai;
    const changed = ops[k]!.kind === '-' ? ops[k]!.ai : ops[k]!.ai + 1; // the first changed line, in expected
    out.push(`@@ expected line ${at}, actual line ${first.kind === '-' ? first.bi + 1 : first.bi}${where ? ` ${where(changed)}` : ''} @@`);
    for (let x = start; x < stop; x++) out.push(`${ops[x]!.kind}${ops[x]!.text}`);
    k = stop;
  }
  return out.join('\n');
}
