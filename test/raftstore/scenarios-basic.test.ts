// TinyKV 2B scenarios without partitions: Basic, Concurrent, Unreliable.
import t from 'tap';
import { runGeneric } from './generic.js';

t.test('Basic', (t) => runGeneric(t, { clients: 1 }));
t.test('Concurrent', (t) => runGeneric(t, { clients: 5 }));
t.test('Unreliable', (t) => runGeneric(t, { clients: 5, unreliable: true }));
