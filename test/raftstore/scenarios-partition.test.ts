// TinyKV 2B scenarios with random partitions: ManyPartitionsOneClient, ManyPartitionsManyClients.
import t from 'tap';
import { runGeneric } from './generic.js';

t.test('ManyPartitionsOneClient', (t) => runGeneric(t, { clients: 1, partitions: true }));
t.test('ManyPartitionsManyClients', (t) => runGeneric(t, { clients: 5, partitions: true }));
