// The address a store binds: IPv6 literals need brackets, which the config loader strips.

import t from 'tap';
import { bindAddress } from './server.js';

t.equal(bindAddress('127.0.0.1', 20161), '127.0.0.1:20161');
t.equal(bindAddress('localhost', 20161), 'localhost:20161');
t.equal(bindAddress('::1', 20161), '[::1]:20161');
t.equal(bindAddress('fe80::1:2', 1), '[fe80::1:2]:1');
