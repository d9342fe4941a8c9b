// Runs scripts/check-sizes.mjs: once on this project (every raftstore module within the
// file and function limits), and once on a fixture that breaks each limit by one line and
// keeps to it in other places, to show the check counts what it should.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = join(root, 'scripts', 'check-sizes.mjs');

function checkSizes(dir: string) {
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A function of `n` lines, from its opening line to its closing brace. */
const fn = (name: string, n: number) => [`export function ${name}(): number {`, ...Array.from({ length: n - 3 }, (_, i) => `  void ${i};`), '  return 0;'].join('\n') + '\n}';

t.test('the raftstore keeps to its sizes', async (t) => {
  const r = checkSizes(root);
  t.equal(r.stderr, '');
  t.equal(r.status, 0);
  t.match(r.stdout, /within 350 lines and 50-line functions/);
});

t.test('a file or a function one line over its limit is reported; at the limit it is not', async (t) => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `// ${i}`).join('\n') + '\n';
  const dir = t.testdir({
    src: {
      raftstore: {
        'at-limit.ts': filler(350),
        'over.ts': filler(351),
        'functions.ts': `${fn('fifty', 50)}\n${fn('fiftyOne', 51)}\nexport class C {\n  method(): void {\n${Array.from({ length: 49 }, () => '    void 0;').join('\n')}\n  }\n}\nexport const arrow = (): void => {\n${Array.from({ length: 48 }, () => '  void 0;').join('\n')}\n};\n`,
        'big.test.ts': filler(900),
      },
    },
  });
  const r = checkSizes(dir);
  t.equal(r.status, 1);
  t.same(r.stdout.trim().split('\n'), [
    'src/raftstore/functions.ts:51 fiftyOne: 51 lines (the most is 50)',
    'src/raftstore/functions.ts:103 method: 51 lines (the most is 50)',
    'src/raftstore/over.ts: 351 lines (the most is 350)',
  ]);
  t.match(r.stderr, /3 excess\(es\) in 3 files/);
});
