// `tinykv transfer-leader --to N`: hands leadership of the region to store N through the
// current leader's Admin service (Raft leader transfer), then watches the stores' status
// until N reports itself leader. Raft gives a transfer one election timeout; if it was
// given up (N lagged too far, a message was lost) the request is made again, until the
// caller's deadline.

import { AdminClient } from '../client/index.js';
import type { ClusterConfig } from '../config/types.js';
import { NoLeaderError, StoreNotRunningError, TransferNotDoneError } from './errors.js';
import { leaderOf, probeAll, sleep } from './probe.js';
import { storeConfig } from './stores.js';

export interface TransferResult {
  /** The store that led when the command started. */
  readonly from: number;
  readonly to: number;
  /** From the first request to the target reporting itself leader. */
  readonly ms: number;
  /** The target led already: nothing was asked. */
  readonly alreadyLeader: boolean;
  /** Transfer requests made (more than one if Raft gave one up). */
  readonly requests: number;
  /** The new leader's term. */
  readonly term: number;
}

const POLL_MS = 25;

export async function transferLeader(cfg: ClusterConfig, to: number, o: { timeoutMs?: number } = {}): Promise<TransferResult> {
  storeConfig(cfg, to); // UnknownStoreError for a store not in the file
  const timeoutMs = o.timeoutMs ?? 10_000;
  const started = Date.now();
  const until = started + timeoutMs;
  // A transfer Raft gave up on is asked again after this long (a little over its election timeout).
  const retryMs = cfg.raft.tickMs * cfg.raft.electionTicks * 2;
  let from: number | undefined;
  let requests = 0;
  let lastAsked = 0;
  let lastError = '';
  for (;;) {
    const probes = await probeAll(cfg, Math.min(500, timeoutMs));
    const target = probes.find((p) => p.storeId === to)!;
    if (!target.ok) throw new StoreNotRunningError(to, `does not answer (${target.error}); leadership cannot move to it`);
    const leader = leaderOf(probes);
    if (leader) {
      from ??= leader.storeId;
      if (leader.storeId === to) {
        return { from, to, ms: Date.now() - started, alreadyLeader: requests === 0, requests, term: leader.term };
      }
      if (Date.now() - lastAsked >= retryMs) {
        lastAsked = Date.now();
        const admin = new AdminClient(storeConfig(cfg, leader.storeId).addr);
        try {
          await admin.transferLeader(to, { timeoutMs: Math.min(1000, Math.max(1, until - Date.now())) });
          requests++;
        } catch (e) {
          // A refusal (no such peer) is final; otherwise (it stopped leading, or did not
          // answer) ask whoever leads at the next poll.
          if ((e as { code?: string }).code === 'INVALID_ARGUMENT') throw e;
          lastError = (e as Error).message;
          lastAsked = 0;
        } finally {
          admin.close();
        }
      }
    }
    if (Date.now() >= until) {
      if (!leader && from === undefined) {
        const answering = probes.filter((p) => p.ok).length;
        throw new NoLeaderError(`no store leads right now (${answering}/${probes.length} stores answering); nothing to transfer`);
      }
      throw new TransferNotDoneError(
        `store ${to} did not become leader within ${timeoutMs} ms (leader now: ${leader ? `store ${leader.storeId}` : 'none'}, ` +
          `${requests} request(s)${lastError ? `, last error: ${lastError}` : ''})`,
      );
    }
    await sleep(POLL_MS);
  }
}
