// TinyKV 2B scenarios that stop and restart every store between rounds.
import t from 'tap';
import { runGeneric } from './generic.js';

t.test('PersistOneClient', (t) => runGeneric(t, { clients: 1, crash: true }));
t.test('PersistConcurrent', (t) => runGeneric(t, { clients: 5, crash: true }));
t.test('PersistConcurrentUnreliable', (t) => runGeneric(t, { clients: 5, crash: true, unreliable: true }));
t.test('PersistPartition', (t) => runGeneric(t, { clients: 5, crash: true, partitions: true }));
t.test('PersistPartitionUnreliable', (t) => runGeneric(t, { clients: 5, crash: true, partitions: true, unreliable: true }));
