// The benchmark's KvTarget over etcd (the `etcd3` client, a dev dependency): put, a
// linearizable get (etcd's default), delete, and a range read. Every worker shares one
// client pointed at the leader's endpoint, as tinykv's clients send to the leader.

import { Etcd3, Range } from 'etcd3';
import { noop } from 'cockatiel';
import type { KvTarget, TargetPool } from '../loadgen/target.js';

/** A client with no retries of its own: the benchmark counts a failure as a failure. */
export function etcdClient(endpoints: readonly string[], timeoutMs = 5000): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map((e) => `http://${e}`),
    dialTimeout: timeoutMs,
    defaultCallOptions: () => ({ deadline: new Date(Date.now() + timeoutMs) }),
    faultHandling: { host: () => noop, global: noop },
  });
}

/** Which of `endpoints` leads now (asked of each until one answers). */
export async function etcdLeader(endpoints: readonly string[]): Promise<string | undefined> {
  for (const e of endpoints) {
    const c = etcdClient([e], 1000);
    try {
      const s = await c.maintenance.status();
      if (s.header.member_id === s.leader) return e;
    } catch {
      // down or not answering: ask the next
    } finally {
      c.close();
    }
  }
  return undefined;
}

export function etcdPool(endpoint: string, workers: number): TargetPool {
  const client = etcdClient([endpoint]);
  const target: KvTarget = {
    put: async (k, v) => {
      await client.put(k).value(v).exec();
    },
    get: async (k) => (await client.get(k).buffer()) ?? undefined,
    delete: async (k) => {
      await client.delete().key(k).exec();
    },
    scan: async (s, e, limit) => Object.keys(await client.getAll().inRange(new Range(s, e)).limit(limit).buffers()).length,
  };
  return { name: 'etcd', targets: Array.from({ length: workers }, () => target), close: async () => client.close() };
}
