// The modules `npm run mutate` mutates, each with the test files that guard it. These are
// the places where a one-character change breaks safety (docs/testing.md says why each is
// listed). A module's tests are the ones that state its rules, not every test that happens
// to reach it: the run must stay fast enough to use while working on the module. The
// multi-process tests under test/e2e spawn the built dist/ code, which Stryker does not
// mutate, so they never appear here.
//
// To add a module: give it a short name, the source file(s) to mutate, and its tests.

/** @type {Record<string, { mutate: string[], tests: string[] }>} */
export const MODULES = {
  'apply': {
    mutate: ['src/raftstore/apply.ts'],
    tests: ['src/raftstore/apply.test.ts'],
  },
  'peer-storage': {
    mutate: ['src/raftstore/peer-storage.ts', 'src/raftstore/peer-storage-load.ts', 'src/raftstore/region-records.ts', 'src/raftstore/storage-state.ts'],
    tests: ['src/raftstore/peer-storage.test.ts', 'src/raftstore/snapshot-install.test.ts'],
  },
  'snapshot-install': {
    mutate: ['src/raftstore/snapshot-install.ts'],
    tests: ['src/raftstore/snapshot-install.test.ts'],
  },
  'snapshot-generate': {
    mutate: ['src/raftstore/snapshot-generate.ts', 'src/raftstore/snapshot-data.ts'],
    tests: ['src/raftstore/snapshot-install.test.ts', 'src/raftstore/snapshot-format.test.ts'],
  },
  'session-table': {
    mutate: ['src/raftstore/session-table.ts'],
    tests: ['src/raftstore/session-table.test.ts', 'src/raftstore/apply.test.ts', 'src/raftstore/snapshot-install.test.ts'],
  },
  'leader-lease': {
    mutate: ['src/raftstore/leader-lease.ts'],
    tests: ['src/raftstore/leader-lease.test.ts'],
  },
  'read-queue': {
    mutate: ['src/raftstore/read-queue.ts'],
    tests: ['src/raftstore/read-queue.test.ts'],
  },
  'identity': {
    mutate: ['src/node/identity.ts'],
    tests: ['src/node/identity.test.ts'],
  },
  'conf-change': {
    mutate: ['src/raft/conf-change.ts'],
    tests: ['src/raft/membership.test.ts'],
  },
  'raft-quorum': {
    mutate: ['src/raft/quorum.ts'],
    tests: ['src/raft/quorum.test.ts', 'src/raft/read-index.test.ts'],
  },
  'heard-terms': {
    // The durable record of the highest term heard from each store, which the identity
    // check relies on (loading it, holding messages behind a record being written).
    mutate: ['src/raftstore/heard-terms.ts'],
    tests: ['test/raftstore/heard-terms.test.ts'],
  },
  // The raft core's rules, method by method (`file#a,b` names methods of the file's class;
  // scripts/mutate.mjs finds their lines, so the list survives edits around them). Split in
  // four so that each part runs against the few test files that state its rules.
  'raft-vote': {
    mutate: ['src/raft/raft.ts#tickElection,hup,campaign,poll,handleVoteRequest,step,stepHigherTerm,stepLowerTerm,stepCandidate'],
    // Leader transfer's election and the membership rules (a learner or a node with an
    // unapplied conf change never campaigns) are vote rules too.
    tests: [
      'src/raft/election.test.ts', 'src/raft/prevote-checkquorum.test.ts', 'src/raft/safety.test.ts',
      'src/raft/leader-transfer.test.ts', 'src/raft/membership.test.ts', 'src/raft/transcripts.test.ts',
    ],
  },
  'raft-commit': {
    mutate: ['src/raft/raft.ts#maybeCommit,committedEntryInCurrentTerm,handleAppendResponse,handleHeartbeatResponse,handleAppend,handleHeartbeat'],
    // Acknowledgements also drive flow control, snapshot catch-up, ReadIndex rounds, merged
    // appends and a transfer's hand-over: their tests state rules of these methods too. The
    // transcripts show merged appends, snapshot probing, a transfer's hand-over and the
    // Figure 7 and 8 commit rules message by message.
    tests: [
      'src/raft/replication.test.ts', 'src/raft/safety.test.ts', 'src/raft/progress.test.ts',
      'src/raft/snapshot.test.ts', 'src/raft/read-index.test.ts', 'src/raft/leader-transfer.test.ts',
      'src/raft/append-merge.test.ts', 'src/raft/transcripts.test.ts',
    ],
  },
  'raft-read-index': {
    mutate: ['src/raft/raft.ts#handleReadIndex,releasePendingReadIndex,respondToRead', 'src/raft/read-only.ts'],
    tests: ['src/raft/read-index.test.ts'],
  },
  'raft-snapshot': {
    mutate: ['src/raft/raft.ts#handleSnapshot,restore,maybeSendSnapshot,handleSnapshotStatus'],
    // snapshot-probing.txt: what the leader does after a snapshot is lost or delivered.
    tests: ['src/raft/snapshot.test.ts', 'src/raft/transcripts.test.ts'],
  },
  'raft-log': {
    mutate: ['src/raft/raft-log.ts'],
    tests: ['src/raft/raft-log.test.ts'],
  },
  'client-outcome': {
    mutate: ['src/client/kv-client.ts', 'src/client/errors.ts'],
    tests: ['src/client/kv-client.test.ts'],
  },
  'batch-stream': {
    mutate: ['src/client/grpc-batch.ts'],
    tests: ['src/client/grpc-batch-scripted.test.ts', 'src/client/grpc-batch.test.ts'],
  },
};
