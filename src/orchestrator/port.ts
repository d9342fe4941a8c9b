// Whether a store's port is free to bind, checked by binding it for a moment. Node sets
// SO_REUSEADDR on listening sockets, so connections lingering in TIME_WAIT from a store
// that just exited do not count as "in use"; only a listening socket does.

import { createServer } from 'node:net';

export type PortCheck = { readonly free: true } | { readonly free: false; readonly reason: string };

export function checkPort(host: string, port: number): Promise<PortCheck> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'EADDRINUSE'
          ? 'is held by another process'
          : err.code === 'EADDRNOTAVAIL'
            ? 'cannot be bound: the host is not an address of this machine'
            : err.code === 'EACCES'
              ? 'cannot be bound: permission denied'
              : `cannot be bound: ${err.message}`;
      resolve({ free: false, reason });
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve({ free: true }));
    });
  });
}
