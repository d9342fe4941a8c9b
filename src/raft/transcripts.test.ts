// Golden transcripts of the Raft core: every src/raft/testdata/*.txt is a script of
// commands over a MemNetwork with the output each must print (the commands and the file
// format: src/raft/testing/transcript.ts). This test runs each file and compares the
// output with the file byte for byte; on a mismatch it fails with a line diff (`-` the
// file, `+` what the core printed now).
//
//   npx tap src/raft/transcripts.test.ts                          check every transcript
//   TRANSCRIPT=figure-8 npx tap src/raft/transcripts.test.ts      only files whose name contains figure-8
//   REWRITE=1 npx tap src/raft/transcripts.test.ts                write the actual output into the files
//
// After REWRITE=1, read `git diff src/raft/testdata` before committing: every changed
// line is a change in what Raft does. A new transcript can start as commands alone (each
// followed by `----` and a blank line) and be filled in by REWRITE=1.
//
// The second half shows the transcripts can fail: with one of the core's deliberate bugs
// switched on (FaultInjection), the named transcript must come out different.

import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { FaultInjection } from './config.js';
import { lineDiff } from './testing/line-diff.js';
import { runTranscript } from './testing/transcript.js';
import { blockAt } from './testing/transcript-format.js';

const dir = new URL('./testdata/', import.meta.url);
const only = process.env.TRANSCRIPT;
const rewrite = process.env.REWRITE === '1';
const files = readdirSync(dir).filter((f) => f.endsWith('.txt') && (only === undefined || f.includes(only))).sort();
const read = (f: string) => readFileSync(new URL(f, dir), 'utf8');

t.test('there are transcripts to run', async (t) => {
  t.ok(files.length > 0, only === undefined ? 'src/raft/testdata holds *.txt files' : `some file name contains ${only}`);
});

for (const file of files) {
  t.test(file, async (t) => {
    const expected = read(file);
    const actual = runTranscript(expected, file);
    if (actual === expected) {
      t.pass('the output is the one checked in');
    } else if (rewrite) {
      writeFileSync(new URL(file, dir), actual);
      t.pass('rewritten with the actual output: review it with git diff');
    } else {
      t.fail(`${file}: the output differs from the file (REWRITE=1 to accept it)`, { diff: lineDiff(expected, actual, (n) => blockAt(expected, n)) });
    }
  });
}

/** Deliberate bugs, each with a transcript it must change. */
const BITES: ReadonlyArray<{ file: string; faults: FaultInjection }> = [
  { file: 'figure-8.txt', faults: { commitPreviousTermByCount: true } },
  { file: 'append-merge.txt', faults: { mergeAppendsBlindly: true } },
  { file: 'leader-transfer.txt', faults: { transferHeldOffByLease: true } },
];

for (const { file, faults } of BITES) {
  if (!files.includes(file)) continue;
  t.test(`${file} notices ${Object.keys(faults).join(', ')} (a deliberate bug)`, async (t) => {
    const expected = read(file);
    let actual: string;
    try {
      actual = runTranscript(expected, file, { faults });
    } catch (e) {
      actual = `threw: ${String(e)}`; // e.g. the network never quiesces: also a difference
    }
    t.not(actual, expected, 'the transcript comes out different');
  });
}
