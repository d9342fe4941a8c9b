// The client workload of the end-to-end linearizability tests: random puts (unique
// values), gets, deletes and scans over a few hot keys, every operation recorded with
// its outcome for the checker (src/checker).

import type { HistoryRecorder } from '../../src/checker/index.js';
import { connectKvClient } from '../../src/client/index.js';
import type { ClusterConfig } from '../../src/config/types.js';
import type { Rng } from '../../src/util/rng.js';

export interface Counts {
  ok: number;
  unknown: number;
  failed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One client: random puts (unique values), gets, deletes and scans until told to stop. */
export async function runClient(
  cfg: ClusterConfig, id: number, rng: Rng, rec: HistoryRecorder,
  counts: Counts, stopped: () => boolean, o: { keys: readonly string[]; maxOps: number },
): Promise<void> {
  // Half the clients give up quickly, so that faults leave writes with unknown outcomes.
  const timeoutMs = id % 2 === 0 ? 300 : 2000;
  const { client, close } = connectKvClient(cfg, { timeoutMs, attemptTimeoutMs: Math.min(500, timeoutMs / 2) });
  try {
    for (let n = 0; n < o.maxOps && !stopped(); n++) {
      const key = o.keys[rng.intBetween(0, o.keys.length)]!;
      const dice = rng.next();
      if (dice < 0.45) {
        const value = `${id}-${n}`;
        const op = rec.invoke(id, { kind: 'put', key, value });
        settleWrite(rec, op, counts, await outcome(client.put(Buffer.from(key), Buffer.from(value))));
      } else if (dice < 0.55) {
        const op = rec.invoke(id, { kind: 'delete', key });
        settleWrite(rec, op, counts, await outcome(client.delete(Buffer.from(key))));
      } else if (dice < 0.95) {
        const op = rec.invoke(id, { kind: 'get', key });
        const r = await outcome(client.get(Buffer.from(key)));
        if (r.ok) {
          rec.okGet(op, r.value === undefined ? null : Buffer.from(r.value).toString());
          counts.ok++;
        } else {
          rec.fail(op); // a read that returned nothing changed nothing
          counts.failed++;
        }
      } else {
        const op = rec.invoke(id, { kind: 'scan', start: 'a', end: 'z' });
        const r = await outcome(client.scan(Buffer.from('a'), Buffer.from('z'), 0));
        if (r.ok) {
          rec.okScan(op, r.value.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()] as const));
          counts.ok++;
        } else {
          rec.fail(op);
          counts.failed++;
        }
      }
      await sleep(rng.intBetween(0, 15));
    }
  } finally {
    close();
  }
}

type Result<T> = { ok: true; value: T } | { ok: false; code: string };

async function outcome<T>(p: Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, code: String((e as { code?: unknown }).code ?? 'ERROR') };
  }
}

/** A write is left out only when the client says it never reached a leader. */
function settleWrite(rec: HistoryRecorder, op: number, counts: Counts, r: Result<void>): void {
  if (r.ok) {
    rec.ok(op);
    counts.ok++;
  } else if (r.code === 'CLUSTER_UNAVAILABLE') {
    rec.fail(op);
    counts.failed++;
  } else {
    rec.unknown(op);
    counts.unknown++;
  }
}

