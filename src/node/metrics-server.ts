// The HTTP endpoint Prometheus scrapes: GET /metrics on the store's metrics address. Any
// other path or method gets a short plain-text answer, never a stack trace.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortInUseError } from '../api/port-in-use.js';
import type { StoreMetrics } from './metrics.js';

export interface MetricsServer {
  /** host:port actually bound (the port is chosen by the system when 0 was asked for). */
  readonly addr: string;
  close(): Promise<void>;
}

export async function serveMetrics(metrics: StoreMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot collect metrics: ${e.message}\n`),
    );
  });
  // Scrapes are short; do not let an idle keep-alive connection hold the store's shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      // The store does not start (PORT_IN_USE: the same exit status as its own address).
      reject(e.code === 'EADDRINUSE'
        ? new PortInUseError(`metrics port ${port} on ${host} is already in use`, { addr: `${host.includes(':') ? `[${host}]` : host}:${port}`, field: 'metrics_addr' })
        : e);
    });
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    addr: `${shownHost}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
