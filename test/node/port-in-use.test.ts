// A taken port is the one PortInUseError (src/api) wherever it is found: here by the
// store's metrics server and by the orchestrator's check, so both exit alike.

import { createServer } from 'node:net';
import t from 'tap';
import { ExitStatus, exitStatusOf } from '../../src/api/exit-status.js';
import { PortInUseError } from '../../src/api/port-in-use.js';
import { portInUse } from '../../src/orchestrator/errors.js';
import { serveMetrics } from '../../src/node/metrics-server.js';
import type { StoreMetrics } from '../../src/node/metrics.js';

t.test('the metrics server and the orchestrator throw the same PortInUseError', async (t) => {
  const squatter = createServer();
  const port = await new Promise<number>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as { port: number }).port)));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const fromMetrics = await serveMetrics({} as StoreMetrics, '127.0.0.1', port).then(() => undefined, (e: unknown) => e);
  t.ok(fromMetrics instanceof PortInUseError, String(fromMetrics));
  t.match(fromMetrics, { addr: `127.0.0.1:${port}`, field: 'metrics_addr', storeId: undefined, message: `metrics port ${port} on 127.0.0.1 is already in use` });
  const fromOrchestrator = portInUse(2, `127.0.0.1:${port}`);
  t.ok(fromOrchestrator instanceof PortInUseError);
  t.match(fromOrchestrator, { addr: `127.0.0.1:${port}`, field: 'addr', storeId: 2 });
  t.equal(fromOrchestrator.message, `store 2: port 127.0.0.1:${port} is held by another process; free it or change stores[].addr`);
  for (const e of [fromMetrics, fromOrchestrator]) t.equal(exitStatusOf(e), ExitStatus.usage);
});
