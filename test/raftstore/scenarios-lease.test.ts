// The 2B scenarios with the most leader changes, run with lease reads (raft.read_mode:
// lease): random partitions with many clients, and crashes, partitions and an unreliable
// network together. Every history must still be linearizable.
import t from 'tap';
import { runGeneric } from './generic.js';

t.test('ManyPartitionsManyClients, lease reads', (t) => runGeneric(t, { clients: 5, partitions: true, readMode: 'lease' }));
t.test('PersistPartitionUnreliable, lease reads', (t) => runGeneric(t, { clients: 5, partitions: true, crash: true, unreliable: true, readMode: 'lease' }));
