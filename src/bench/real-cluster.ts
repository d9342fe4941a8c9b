// Shared by the benchmarks that run real store processes: free loopback ports, and the
// integer flags they take.

import { createServer } from 'node:net';
import type { Server } from 'node:net';

/** `n` distinct free ports on 127.0.0.1, found by binding port 0 (all held at once). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** An integer flag's value, at least `min`; RangeError naming the flag otherwise. */
export function intFlag(name: string, v: string | boolean | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, got ${String(v)}`);
  return n;
}
