// Runs scripts/check-layers.mjs: once on this project (the real check), and on fixture
// trees that break every rule (folder direction, surfaces and testing entries, packages, a
// folder without a rule, a cycle between folders), to show each rule catches what it
// should and lets through what it should. Then scripts/check-docs.mjs the same way: every
// symbol the public surfaces export has a doc comment, and a gap is reported where it is.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(script: string, dir: string) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', script), dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const checkLayers = (dir: string) => run('check-layers.mjs', dir);
const checkDocs = (dir: string) => run('check-docs.mjs', dir);

t.test('src/ keeps its layers', async (t) => {
  const r = checkLayers(root);
  t.equal(r.stderr, '', 'no violations');
  t.equal(r.status, 0);
  t.match(r.stdout, /no violations/);
});

t.test('every rule reports its violations, one line each', async (t) => {
  const dir = t.testdir({
    src: {
      raft: {
        'raft.ts': [
          "import type { Entry } from './types.js';",
          "import { Inflights } from './tracker/inflights.js';",
          "import { seededRng } from '../util/rng.js';",
          "import { readFileSync } from 'node:fs';",
          "import { EventEmitter } from 'events';",
          "import Long from 'long';",
          "export { keys } from '../engine/keys.js';",
          "// import { comment } from 'commented-out';",
          'const text = "import x from \'in-a-string\'";',
        ].join('\n'),
        'raft.test.ts': "import t from 'tap';\nimport { join } from 'node:path';\n",
        testing: { 'index.ts': "export type { FaultInjection } from '../config.js';\n" },
      },
      util: { 'rng.ts': "import { randomInt } from 'node:crypto';\nimport type { Entry } from '../raft/index.js';\n" },
      engine: {
        'rocksdb.ts': "import rocksdbCjs from 'rocksdb';\n",
        'rocksdb-iterator.ts': "import type rocksdbCjs from 'rocksdb';\n",
        'memory.ts': "import rocksdbCjs from 'rocksdb';\n",
        'snapshot-dir.ts': "import { open } from 'node:fs/promises';\nimport { TEMP_SUFFIX } from './snapshot-files.js';\nimport type { SnapshotFiles } from '../raftstore/snapshot-files.js';\n",
        'keys.test.ts': "import { REGION } from '../raftstore/region.js';\n",
      },
      raftstore: {
        'peer.ts': [
          "import { RawNode } from '../raft/index.js';",
          "import { MemoryStorage } from '../raft/storage.js';",
          "import type { KvEngine } from '../engine/index.js';",
          "import type { StoreConfig } from '../node/config.js';",
          "import { MAX_STORE_ID } from '../config/types.js';",
          "import * as grpc from '@grpc/grpc-js';",
          "export * from '../cli/program.js';",
          "const orchestrator = await import('../orchestrator/spawn.js');",
          "import { Counter } from 'prom-client';",
          "import { createStore } from './index.js';",
        ].join('\n'),
      },
      node: {
        'metrics.ts': "import { Registry } from 'prom-client';\nimport { createStore } from '../raftstore/index.js';\n",
        'main.ts': "import type { FaultInjection } from '../raft/testing/index.js';\n",
        'main.test.ts': "import type { FaultInjection } from '../raft/testing/index.js';\n",
      },
      harness: { 'cluster.ts': "import type { FaultInjection } from '../raft/testing/index.js';\nimport { Store } from '../raftstore/index.js';\n" },
      cli: {
        'get.ts': [
          "import { KvClient } from '../client/index.js';",
          "import { Command } from 'commander';",
          "import { Peer } from '../raftstore/peer.js';",
          "import type { Entry } from '../raft/index.js';",
          "const node = await import('../node/main.js');",
        ].join('\n'),
      },
      client: {
        'kv-client.ts': [
          "import type { RequestHeader } from '../api/request.js';",
          "import { NotLeaderError } from '../raftstore/errors.js';",
        ].join('\n'),
      },
      api: {
        'errors.ts': [
          "import type { ErrorCode } from './codes.js';",
          "import { errorpb } from '../gen/proto.js';",
          "import { readFileSync } from 'node:fs';",
          "import type { PeerMeta } from '../raftstore/envelope.js';",
          "import Long from 'long';",
        ].join('\n'),
      },
      gen: { 'proto.d.ts': "import rocksdbCjs from 'rocksdb';\n" },
      newthing: { 'x.ts': "import { keys } from '../engine/index.js';\n" },
      'stray.ts': '',
    },
    test: {
      raftstore: { 'peer.test.ts': "import { Peer } from '../../src/raftstore/peer.js';\nimport { MemoryStorage } from '../../src/raft/storage.js';\n" },
      'raft-sim': { 'cluster.ts': "import { Raft } from '../../src/raft/raft.js';\nimport type { FaultInjection } from '../../src/raft/testing/index.js';\n" },
      e2e: { 'helpers.ts': "import { KvClient } from '../../src/client/kv-client.js';\nimport { checkHistory } from '../../src/checker/index.js';\n" },
    },
  });
  const r = checkLayers(dir);
  t.equal(r.status, 1);
  const lines = r.stderr.trimEnd().split('\n');
  t.match(lines.pop(), /^check-layers: 35 violation\(s\); 22 files checked$/);
  t.same(lines.sort(), EXPECTED);
});

// What the tree above breaks, one line per import and rule (an import can break two: the
// direction of its folders and the surface of the one it reaches into), plus the folder
// without a rule, the file outside any folder and the cycle the wrong-way imports close.
const EXPECTED = [
  'cycle between folders: src/api -> src/raftstore -> src/cli -> src/client -> src/api (src/api/errors.ts imports ../raftstore/envelope.js; src/raftstore/peer.ts imports ../cli/program.js; src/cli/get.ts imports ../client/index.js; src/client/kv-client.ts imports ../api/request.js)',
  'src/api/errors.ts: imports ../raftstore/envelope.js (outside src/raftstore, import only src/raftstore/index.ts)',
  'src/api/errors.ts: imports ../raftstore/envelope.js (src/api may import only src/gen, src/util)',
  'src/api/errors.ts: imports long (src/api imports only Node builtins among packages)',
  'src/cli/get.ts: imports ../node/main.js (src/cli may import only src/chaos-run, src/loadgen, src/orchestrator, src/client, src/config, src/api, src/util)',
  'src/cli/get.ts: imports ../raft/index.js (src/cli may import only src/chaos-run, src/loadgen, src/orchestrator, src/client, src/config, src/api, src/util)',
  'src/cli/get.ts: imports ../raftstore/peer.js (outside src/raftstore, import only src/raftstore/index.ts)',
  'src/cli/get.ts: imports ../raftstore/peer.js (src/cli may import only src/chaos-run, src/loadgen, src/orchestrator, src/client, src/config, src/api, src/util)',
  'src/client/kv-client.ts: imports ../raftstore/errors.js (outside src/raftstore, import only src/raftstore/index.ts)',
  'src/client/kv-client.ts: imports ../raftstore/errors.js (src/client may import only src/api, src/rpc, src/gen, src/config, src/util)',
  'src/engine/keys.test.ts: imports ../raftstore/region.js (outside src/raftstore, import only src/raftstore/index.ts)',
  'src/engine/keys.test.ts: imports ../raftstore/region.js (src/engine may import only src/util)',
  'src/engine/memory.ts: imports rocksdb (only src/engine/rocksdb*.ts imports rocksdb)',
  'src/engine/snapshot-dir.ts: imports ../raftstore/snapshot-files.js (outside src/raftstore, import only src/raftstore/index.ts)',
  'src/engine/snapshot-dir.ts: imports ../raftstore/snapshot-files.js (src/engine may import only src/util)',
  'src/newthing: no layer rule (add the folder to LAYERS in scripts/check-layers.mjs)',
  'src/node/main.ts: imports ../raft/testing/index.js (only test code and src/harness import src/raft/testing/index.ts)',
  'src/raft/raft.ts: imports ../engine/keys.js (outside src/engine, import only src/engine/index.ts)',
  'src/raft/raft.ts: imports ../engine/keys.js (src/raft may import only src/util)',
  'src/raft/raft.ts: imports events (src/raft and src/util import no package)',
  'src/raft/raft.ts: imports long (src/raft and src/util import no package)',
  'src/raft/raft.ts: imports node:fs (src/raft and src/util import no package)',
  'src/raftstore/peer.ts: imports ../cli/program.js (src/raftstore may import only src/raft, src/engine, src/api, src/gen, src/util)',
  'src/raftstore/peer.ts: imports ../config/types.js (src/raftstore may import only src/raft, src/engine, src/api, src/gen, src/util)',
  'src/raftstore/peer.ts: imports ../node/config.js (src/raftstore may import only src/raft, src/engine, src/api, src/gen, src/util)',
  'src/raftstore/peer.ts: imports ../orchestrator/spawn.js (src/raftstore may import only src/raft, src/engine, src/api, src/gen, src/util)',
  'src/raftstore/peer.ts: imports ../raft/storage.js (outside src/raft, import only src/raft/index.ts)',
  'src/raftstore/peer.ts: imports ./index.js (inside src/raftstore, import its modules, not src/raftstore/index.ts)',
  'src/raftstore/peer.ts: imports @grpc/grpc-js (src/raftstore does not import gRPC (src/node carries its messages))',
  'src/raftstore/peer.ts: imports prom-client (only src/node imports prom-client (the raftstore reports through StoreObserver))',
  'src/stray.ts: not in a folder (every file under src/ belongs to a layer\'s folder)',
  'src/util/rng.ts: imports ../raft/index.js (src/util imports no other folder of src)',
  'src/util/rng.ts: imports node:crypto (src/raft and src/util import no package)',
  'test/e2e/helpers.ts: imports ../../src/client/kv-client.js (outside src/client, import only src/client/index.ts)',
  'test/raftstore/peer.test.ts: imports ../../src/raft/storage.js (outside src/raft, import only src/raft/index.ts)',
];

// The tree above shows the direction rules of some folders fail; this one shows every
// folder's: each imports a folder it may not (the top layer, cli; cli itself imports bench,
// which closes one cycle).
t.test("every folder's direction rule can fail", async (t) => {
  const folders = ['util', 'engine', 'checker', 'raft', 'api', 'rpc', 'config', 'raftstore', 'client', 'node', 'harness',
    'orchestrator', 'loadgen', 'chaos-run', 'bench', 'cli'];
  const up = (f: string) => (f === 'cli' ? 'bench' : 'cli');
  const dir = t.testdir({ src: Object.fromEntries(folders.map((f) => [f, { 'up.ts': `import { x } from '../${up(f)}/index.js';\n` }])) });
  const r = checkLayers(dir);
  t.equal(r.status, 1);
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.pop(), `check-layers: ${folders.length + 1} violation(s); ${folders.length} files checked`);
  t.equal(lines.filter((l) => l.startsWith('cycle between folders: ')).length, 1);
  t.same(
    lines.filter((l) => !l.startsWith('cycle')).map((l) => l.replace(/ \(.*/, '')).sort(),
    folders.map((f) => `src/${f}/up.ts: imports ../${up(f)}/index.js`).sort(),
    'one violation per folder',
  );
  t.same(new Set(lines.filter((l) => !l.startsWith('cycle')).map((l) => l.replace(/^[^(]*\(/, ''))).size, folders.length, 'each under its own folder\'s rule');
});

t.test('every symbol of a public surface has a doc comment', async (t) => {
  const r = checkDocs(root);
  t.equal(r.stderr, '', 'nothing undocumented');
  t.equal(r.status, 0);
  t.match(r.stdout, /^check-docs: \d+ surface symbols, all documented$/m);
});

t.test('check-docs reports each undocumented surface symbol where it is declared', async (t) => {
  const dir = t.testdir({
    src: {
      engine: {
        'index.ts': [
          "/** Key layout. */",
          "export * as keys from './keys.js';",
          "export * as codec from './codec.js';",
          "export { openEngine, Engine, type EngineOptions } from './engine.js';",
          "export type { Pair } from './engine.js';",
          "export { DEFAULT_SYNC, DEFAULT_PAGE } from './engine.js';",
        ].join('\n'),
        'keys.ts': "/** Documented. */\nexport const A = 1;\n// A line comment is not a doc comment.\nexport function b(): void {}\n",
        'codec.ts': '/** Documented. */\nexport const C = 1;\n',
        'engine.ts': [
          '/** Opens one. */',
          'export function openEngine(): Engine { return new Engine(); }',
          'export class Engine {}',
          '/** */',
          'export interface EngineOptions { readonly sync: boolean }',
          '/** Two bytes. */',
          'export type Pair = [Uint8Array, Uint8Array];',
          '/** Documented on the statement, which is where a variable\'s doc goes. */',
          'export const DEFAULT_SYNC = true;',
          'export const DEFAULT_PAGE = 256;',
          'export function notOnTheSurface(): void {}',
        ].join('\n'),
        'internal.ts': 'export function alsoNot(): void {}\n',
      },
      raft: {
        'index.ts': "export { Rng } from '../util/rng.js';\n",
      },
      util: { 'rng.ts': 'export interface Rng { next(): number }\n' },
    },
  });
  const r = checkDocs(dir);
  t.equal(r.status, 1);
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.pop(), 'check-docs: 6 of 12 surface symbols have no doc comment');
  t.same(lines.sort(), [
    'src/engine/engine.ts:10: DEFAULT_PAGE (exported by src/engine/index.ts) has no doc comment',
    'src/engine/engine.ts:3: Engine (exported by src/engine/index.ts) has no doc comment',
    'src/engine/engine.ts:5: EngineOptions (exported by src/engine/index.ts) has no doc comment',
    'src/engine/index.ts:3: codec (exported by src/engine/index.ts) has no doc comment',
    'src/engine/keys.ts:4: keys.b (exported by src/engine/index.ts) has no doc comment',
    'src/util/rng.ts:1: Rng (exported by src/raft/index.ts) has no doc comment',
  ]);
});
