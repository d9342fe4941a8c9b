// Runs scripts/check-layers.mjs: once on this project (the real check), and once on a
// fixture tree that breaks every rule, to show each rule catches what it should and
// lets through what it should.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = join(root, 'scripts', 'check-layers.mjs');

function checkLayers(dir: string) {
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

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
          "import { readFileSync } from 'node:fs';",
          "import { EventEmitter } from 'events';",
          "import Long from 'long';",
          "export { keys } from '../engine/keys.js';",
          "// import { comment } from 'commented-out';",
          'const text = "import x from \'in-a-string\'";',
        ].join('\n'),
        'raft.test.ts': "import t from 'tap';\nimport { join } from 'node:path';\n",
      },
      engine: {
        'rocksdb.ts': "import rocksdbCjs from 'rocksdb';\n",
        'rocksdb-iterator.ts': "import type rocksdbCjs from 'rocksdb';\n",
        'memory.ts': "import rocksdbCjs from 'rocksdb';\n",
        'snapshot-dir.ts': "import { open } from 'node:fs/promises';\nimport { TEMP_SUFFIX } from './snapshot-files.js';\nimport type { SnapshotFiles } from '../raftstore/snapshot-files.js';\n",
        'keys.test.ts': "import { REGION } from '../raftstore/region.js';\n",
      },
      raftstore: {
        'peer.ts': [
          "import { RawNode } from '../raft/raw-node.js';",
          "import type { KvEngine } from '../engine/kv-engine.js';",
          "import type { StoreConfig } from '../node/config.js';",
          "import { MAX_STORE_ID } from '../config/types.js';",
          "import * as grpc from '@grpc/grpc-js';",
          "export * from '../cli/program.js';",
          "const orchestrator = await import('../orchestrator/spawn.js');",
          "import { Counter } from 'prom-client';",
        ].join('\n'),
      },
      node: { 'metrics.ts': "import { Registry } from 'prom-client';\n" },
      cli: {
        'get.ts': [
          "import { Client } from '../client/client.js';",
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
    },
  });
  const r = checkLayers(dir);
  t.equal(r.status, 1);
  const lines = r.stderr.trimEnd().split('\n');
  t.match(lines.pop(), /^check-layers: 18 violation\(s\); 12 files checked$/);
  t.same(lines.sort(), [
    'src/api/errors.ts: imports ../raftstore/envelope.js (src/api imports only src/api and the generated protobuf code)',
    'src/api/errors.ts: imports long (src/api imports only src/api and the generated protobuf code)',
    'src/cli/get.ts: imports ../node/main.js (src/cli reaches stores only through client and orchestrator)',
    'src/cli/get.ts: imports ../raft/index.js (src/cli reaches stores only through client and orchestrator)',
    'src/cli/get.ts: imports ../raftstore/peer.js (src/cli reaches stores only through client and orchestrator)',
    'src/client/kv-client.ts: imports ../raftstore/errors.js (src/client speaks the wire vocabulary (src/api), not the store internals)',
    'src/engine/memory.ts: imports rocksdb (only src/engine/rocksdb*.ts imports rocksdb)',
    'src/engine/snapshot-dir.ts: imports ../raftstore/snapshot-files.js (src/engine imports only src/engine)',
    'src/raft/raft.ts: imports ../engine/keys.js (src/raft imports only src/raft and src/util)',
    'src/raft/raft.ts: imports events (src/raft imports only src/raft and src/util)',
    'src/raft/raft.ts: imports long (src/raft imports only src/raft and src/util)',
    'src/raft/raft.ts: imports node:fs (src/raft imports only src/raft and src/util)',
    'src/raftstore/peer.ts: imports ../cli/program.js (src/raftstore does not import node, cli, orchestrator, config or gRPC)',
    'src/raftstore/peer.ts: imports ../config/types.js (src/raftstore does not import node, cli, orchestrator, config or gRPC)',
    'src/raftstore/peer.ts: imports ../node/config.js (src/raftstore does not import node, cli, orchestrator, config or gRPC)',
    'src/raftstore/peer.ts: imports ../orchestrator/spawn.js (src/raftstore does not import node, cli, orchestrator, config or gRPC)',
    'src/raftstore/peer.ts: imports @grpc/grpc-js (src/raftstore does not import node, cli, orchestrator, config or gRPC)',
    'src/raftstore/peer.ts: imports prom-client (only src/node imports prom-client (the raftstore reports through StoreObserver))',
  ]);
});
