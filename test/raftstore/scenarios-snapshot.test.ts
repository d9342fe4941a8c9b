// TinyKV 2C scenarios: the generic workload with a log threshold of 100. In every round
// one random store is also down for most of the round (stricter than TinyKV), so it falls
// far behind and catches up by snapshot; partitions and loss make others lag too. At the
// end of every round every store's log must be bounded (applied − truncated ≤ 200), and
// every history is judged by the linearizability checker.
import t from 'tap';
import { runGeneric } from './generic.js';

const snap = { compactLogThreshold: 100, checkLogBounded: true, laggard: true } as const;

t.test('SnapshotRecover', (t) => runGeneric(t, { ...snap, clients: 1, crash: true }));
t.test('SnapshotRecoverManyClients', (t) => runGeneric(t, { ...snap, clients: 20, crash: true }));
t.test('SnapshotUnreliable', (t) => runGeneric(t, { ...snap, clients: 5, unreliable: true }));
t.test('SnapshotUnreliableRecover', (t) => runGeneric(t, { ...snap, clients: 5, crash: true, unreliable: true }));
t.test('SnapshotUnreliableRecoverConcurrentPartition', (t) =>
  runGeneric(t, { ...snap, clients: 5, crash: true, unreliable: true, partitions: true }));
