// `tinykv cluster health`: whether the cluster can serve right now — a leader is elected
// and a majority of the region's voters answers. For scripts and monitors: the command
// exits 0 only when both hold.

import type { ClusterConfig } from '../config/types.js';
import { OrchestratorError } from './errors.js';
import { probeAll } from './probe.js';

export interface Health {
  readonly leaderId: number;
  readonly term: number;
  readonly voters: number;
  /** Voters whose store answers with a peer. */
  readonly answering: number;
}

/** The cluster cannot serve: no leader, or too few voters answer. */
export class ClusterUnhealthyError extends OrchestratorError {
  constructor(message: string) {
    super('CLUSTER_UNHEALTHY', message);
  }
}

export async function clusterHealth(cfg: ClusterConfig, o: { timeoutMs?: number } = {}): Promise<Health> {
  const probes = await probeAll(cfg, o.timeoutMs ?? 1000);
  const down = probes.filter((p) => !p.ok).map((p) => p.storeId);
  let leader: { storeId: number; term: number; voters: number[] } | undefined;
  for (const p of probes) {
    if (p.ok && p.status.role === 'leader' && p.status.hasPeer && (!leader || p.status.term > leader.term)) {
      leader = { storeId: p.storeId, term: p.status.term, voters: p.status.members.filter((m) => !m.learner).map((m) => m.storeId) };
    }
  }
  const downText = down.length > 0 ? `; no answer from store ${down.join(', ')}` : '';
  if (!leader) throw new ClusterUnhealthyError(`unhealthy: no leader (${probes.length - down.length}/${probes.length} stores answer${downText})`);
  const answering = leader.voters.filter((id) => probes.some((p) => p.storeId === id && p.ok && p.status.hasPeer)).length;
  const need = Math.floor(leader.voters.length / 2) + 1;
  if (answering < need) {
    throw new ClusterUnhealthyError(`unhealthy: only ${answering} of ${leader.voters.length} voters answer, ${need} needed${downText}`);
  }
  return { leaderId: leader.storeId, term: leader.term, voters: leader.voters.length, answering };
}
