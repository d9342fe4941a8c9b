// A cluster reached by addresses alone (`--endpoints`), without a cluster file: each
// endpoint is asked (Admin.Status, in parallel, 1 s each) which store it is, and the
// answers make the store list a client needs. An endpoint that does not answer is left
// out; none answering is the same "no store is running" as a down cluster.

import type { ClusterConfig, StoreConfig } from '../config/types.js';
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, DEFAULT_RAFT } from '../config/load.js';
import { AdminClient, adminFailureReason } from './admin-client.js';
import { ClusterUnavailableError } from './errors.js';

/**
 * A cluster config built by asking each address which store it is; throws
 * ClusterUnavailableError when none answers.
 */
export async function configFromEndpoints(endpoints: readonly string[]): Promise<ClusterConfig> {
  const answers = await Promise.all(endpoints.map(async (addr) => {
    const admin = new AdminClient(addr);
    try {
      const st = await admin.status({ timeoutMs: 1000 });
      return { addr, id: st.storeId, known: st.knownStores };
    } catch (e) {
      return { addr, error: adminFailureReason(e) };
    } finally {
      admin.close();
    }
  }));
  const stores: StoreConfig[] = [];
  const add = (id: number, addr: string) => {
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(addr);
    if (!m || id <= 0 || stores.some((s) => s.id === id)) return;
    stores.push({ id, addr, host: m[1]!, port: Number(m[2]), join: false });
  };
  // The endpoints first (as given), then the other stores they know of.
  for (const a of answers) if ('id' in a && a.id !== undefined) add(a.id, a.addr);
  for (const a of answers) if ('known' in a && a.known) for (const k of a.known) add(k.storeId, k.addr);
  if (stores.length === 0) {
    const why = answers.map((a) => ('error' in a ? a.error : '')).find((x) => x) ?? 'no answer';
    throw new ClusterUnavailableError('connect', [], why, `no store answers at ${endpoints.join(', ')} (${why}). Start the cluster with tinykv cluster up`);
  }
  // Limits are the stores' to enforce (their answer says so); these only bound what the CLI
  // reads from a file or stdin before sending it.
  return {
    file: '', clusterId: '', dataDir: '', stores, removedStores: [], raft: DEFAULT_RAFT,
    maxKeyBytes: DEFAULT_MAX_KEY_BYTES * 16, maxValueBytes: DEFAULT_MAX_VALUE_BYTES * 64,
  };
}
