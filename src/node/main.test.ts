// The store process's start failures exit through the CLI's table (src/api/exit-status.ts):
// the same status for the same code, whichever process met it.

import t from 'tap';
import { ExitStatus } from '../api/exit-status.js';
import { PortInUseError } from '../api/port-in-use.js';
import { ConfigError } from '../config/types.js';
import { ForeignDataDirError, LostStateError } from './identity.js';
import { startFailure } from './main.js';
import { DataDirUnusableError } from './server.js';

t.test('each start failure exits with its code\'s status and one line', async (t) => {
  const cases: Array<[Error, number]> = [
    [new ConfigError('cluster.yaml: stores[0].addr: missing'), ExitStatus.usage],
    [new PortInUseError('store 1: port 20161 on 127.0.0.1 is already in use', { addr: '127.0.0.1:20161', field: 'addr', storeId: 1 }), ExitStatus.usage],
    [new DataDirUnusableError('store 1: cannot open storage engine at /d/raftdb: lock held'), ExitStatus.usage],
    [new ForeignDataDirError('/d belongs to store 2, not store 1; refusing to start'), ExitStatus.usage],
    [new LostStateError('store 1: its data directory /d is empty, but store 2 has heard from it'), ExitStatus.usage],
    [Object.assign(new Error('missing --config FILE'), { code: 'USAGE' }), ExitStatus.usage],
    [Object.assign(new Error('store 9 is not in c.yaml'), { code: 'UNKNOWN_STORE' }), ExitStatus.usage],
  ];
  for (const [e, status] of cases) t.same(startFailure(e), { status, line: `tinykv store: ${e.message}` }, e.constructor.name);
});

t.test('an error nobody classified is an internal error (4), not a usage error', async (t) => {
  t.same(startFailure(new TypeError('x is undefined')), { status: ExitStatus.internal, line: 'tinykv store: internal error: x is undefined' });
  t.same(startFailure(Object.assign(new Error('EIO: i/o error\n  at read'), { code: 'EIO' })),
    { status: ExitStatus.internal, line: 'tinykv store: internal error: EIO: i/o error at read' });
});
