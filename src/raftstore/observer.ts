// What a store reports about its own work as it happens, for whoever watches it (the
// store process turns these into Prometheus metrics: src/node/metrics.ts). Plain
// callbacks, so the raftstore stays free of any metrics library; each must be cheap and
// must not throw. State that can be read at any time (term, commit, applied, sizes) is
// not reported here: the watcher reads Store.status() when it needs it.

/** What a proposal asks the region to do. */
export type ProposalKind = 'write' | 'read_index' | 'conf_change' | 'compact_log' | 'expire_sessions';

/**
 * Told of a store's proposals and Ready timings as they happen; how the store process gets
 * its metrics without the raftstore knowing of them.
 */
export interface StoreObserver {
  /** A proposal was handed to the raft core (accepted or not). */
  proposed(kind: ProposalKind): void;
  /** One Ready was handled, from persist to advance; `ms` is its wall time. */
  readyHandled(ms: number): void;
}

/** A StoreObserver that ignores everything (the default). */
export const NO_OBSERVER: StoreObserver = {
  proposed: () => {},
  readyHandled: () => {},
};
