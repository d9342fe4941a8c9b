// The client load of the in-process membership scenarios: writers and readers on a few hot
// keys plus unique keys, every operation recorded for the linearizability checker; and a
// store's user data as comparable strings.

import { HistoryRecorder } from '../../src/checker/index.js';
import { keys } from '../../src/engine/index.js';
import type { Cluster } from '../../src/harness/in-process-cluster.js';
import type { StoreId } from '../../src/raftstore/ids.js';
import { enc, dec } from '../support/bytes.js';

export interface Load {
  readonly rec: HistoryRecorder;
  /** Stops the clients; resolves with the number of acknowledged writes. */
  stop(): Promise<number>;
}

export function startLoad(cluster: Cluster, clients = 4): Load {
  const rec = new HistoryRecorder({ now: () => performance.now() });
  let stopped = false;
  let acked = 0;
  const run = async (w: number) => {
    const client = cluster.client({ timeoutMs: 5_000, attemptTimeoutMs: 400 });
    const until = Date.now() + 120_000; // bounded in time too, should a failing test never call stop()
    for (let i = 0; !stopped && i < 100_000 && Date.now() < until; i++) {
      const key = cluster.random() < 0.5 ? `hot${Math.floor(cluster.random() * 3)}` : `k${w}-${i}`;
      if (cluster.random() < 0.3) {
        const id = rec.invoke(w, { kind: 'get', key });
        await client.get(enc(key)).then((v) => rec.okGet(id, v === undefined ? null : dec(v)), () => rec.fail(id));
      } else {
        const value = `w${w}-${i}`;
        const id = rec.invoke(w, { kind: 'put', key, value });
        await client.put(enc(key), enc(value)).then(() => { rec.ok(id); acked++; }, () => rec.unknown(id));
      }
    }
  };
  const all = Array.from({ length: clients }, (_, w) => run(w));
  return {
    rec,
    async stop() {
      stopped = true;
      await Promise.all(all);
      return acked;
    },
  };
}

/** A store's user data, one `key=value` (hex) string per pair (needs a powerLoss cluster). */
export async function dataOf(cluster: Cluster, id: StoreId): Promise<string[]> {
  const kv = cluster.engines(id)!.kv;
  const pairs = await kv.scan({ start: keys.dataKey('default', Buffer.alloc(0)), end: keys.dataKeyEnd('default') });
  return pairs.map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`);
}
