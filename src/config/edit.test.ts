// The cluster file edits of the membership commands: comments survive, the result is
// validated before it is written, and `--purge` resets the marks.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { addJoiningStore, markStoreJoining, markStoreRemoved, resetMembershipMarks } from './edit.js';
import { loadClusterConfig } from './load.js';
import { tempDir } from '../../test/support/temp-dir.js';

const TEXT = `# my cluster
data_dir: ../data
stores:
  - id: 1
    addr: 127.0.0.1:20161   # the first one
  - id: 2
    addr: 127.0.0.1:20162
`;

function file(t: Test): string {
  const dir = tempDir(t, 'tinykv-edit-');
  const f = join(dir, 'cluster.yaml');
  writeFileSync(f, TEXT);
  return f;
}

t.test('add, remove, re-add and purge keep the comments and load back', async (t) => {
  const f = file(t);
  const added = addJoiningStore(f, 3, '127.0.0.1:20163');
  t.same(added.stores.map((s) => [s.id, s.join]), [[1, false], [2, false], [3, true]]);
  t.match(readFileSync(f, 'utf8'), /# my cluster[\s\S]*# the first one/, 'comments kept');
  t.throws(() => addJoiningStore(f, 3, '127.0.0.1:20164'), { code: 'CONFIG', message: /store 3 is already in the cluster file/ });
  t.throws(() => addJoiningStore(f, 4, '127.0.0.1:20161'), { code: 'CONFIG', message: /stores\[3\]\.addr: 127\.0\.0\.1:20161 is already used by stores\[0\]/ },
    'an invalid result is refused');
  t.same(loadClusterConfig(f).stores.map((s) => s.id), [1, 2, 3], 'and nothing was written');

  const removed = markStoreRemoved(f, 2);
  t.same(removed.stores.map((s) => s.id), [1, 3]);
  t.same(removed.removedStores.map((s) => s.id), [2]);
  const back = addJoiningStore(f, 2, '127.0.0.1:20172');
  t.same(back.stores.map((s) => [s.id, s.addr, s.join]), [[1, '127.0.0.1:20161', false], [2, '127.0.0.1:20172', true], [3, '127.0.0.1:20163', true]]);

  t.same(markStoreJoining(f, 1).stores.find((s) => s.id === 1)?.join, true);
  markStoreRemoved(f, 3);
  t.same(resetMembershipMarks(f), [1, 2, 3]);
  const fresh = loadClusterConfig(f);
  t.same(fresh.stores.map((s) => [s.id, s.join]), [[1, false], [2, false]], 'a purged cluster bootstraps from the stores listed');
  t.same(resetMembershipMarks(f), [], 'nothing left to reset');
});

t.test('a lock left by a process that died is taken over', async (t) => {
  const f = file(t);
  writeFileSync(`${f}.lock`, '999999999');
  t.same(addJoiningStore(f, 3, '127.0.0.1:20163').stores.map((s) => s.id), [1, 2, 3]);
  t.throws(() => readFileSync(`${f}.lock`), { code: 'ENOENT' }, 'and released after the edit');
});
