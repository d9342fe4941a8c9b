import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DEFAULT_RAFT, loadClusterConfig, parseClusterConfig } from './load.js';
import { ConfigError } from './types.js';
import { tempDir } from '../../test/support/temp-dir.js';

const where = { shownAs: 'config/cluster.yaml', file: '/etc/tinykv/cluster.yaml' };
const parse = (text: string) => parseClusterConfig(text, where);

const GOOD = `
data_dir: ../data
stores:
  - id: 1
    addr: 127.0.0.1:20161
  - id: 2
    addr: localhost:20162
  - id: 3
    addr: "[::1]:20163"
raft:
  tick_ms: 20
  election_ticks: 10
  heartbeat_ticks: 2
max_key_bytes: 128
max_value_bytes: 1024
`;

/** Asserts that `text` fails with exactly this one-line message (after the file name). */
function rejects(t: Test, text: string, message: string): void {
  t.throws(() => parse(text), new ConfigError(`config/cluster.yaml: ${message}`), message);
}

t.test('a valid file', async (t) => {
  const cfg = parse(GOOD);
  t.equal(cfg.file, '/etc/tinykv/cluster.yaml');
  t.equal(cfg.clusterId, 'tinykv', 'cluster_id defaults');
  t.equal(cfg.dataDir, '/etc/data', 'data_dir resolves against the folder of the file');
  t.same(cfg.stores, [
    { id: 1, addr: '127.0.0.1:20161', host: '127.0.0.1', port: 20161, join: false },
    { id: 2, addr: 'localhost:20162', host: 'localhost', port: 20162, join: false },
    { id: 3, addr: '[::1]:20163', host: '::1', port: 20163, join: false },
  ]);
  t.same(cfg.raft, { tickMs: 20, electionTicks: 10, heartbeatTicks: 2, compactLogThreshold: 1000, compactLogMaxBytes: 64 * 1024 * 1024, clientSessionTtlMs: 30_000, maxClockSkewMs: 5_000, readMode: 'read_index' });
  t.equal(cfg.maxKeyBytes, 128);
  t.equal(cfg.maxValueBytes, 1024);
});

t.test('defaults and absolute paths', async (t) => {
  const cfg = parse('cluster_id: test-1\ndata_dir: /var/lib/tinykv\nstores: [{id: 7, addr: "h:1"}]\n');
  t.equal(cfg.clusterId, 'test-1');
  t.equal(cfg.dataDir, '/var/lib/tinykv');
  t.same(cfg.raft, DEFAULT_RAFT);
  t.same(DEFAULT_RAFT, { tickMs: 100, electionTicks: 10, heartbeatTicks: 1, compactLogThreshold: 1000, compactLogMaxBytes: 64 * 1024 * 1024, clientSessionTtlMs: 30_000, maxClockSkewMs: 5_000, readMode: 'read_index' });
  t.equal(parse('data_dir: d\nstores: [{id: 1, addr: "h:1"}]\nraft: {compact_log_max_bytes: 4096}\n').raft.compactLogMaxBytes, 4096);
  t.equal(parse('data_dir: d\nstores: [{id: 1, addr: "h:1"}]\nraft: {client_session_ttl_ms: 60000, max_clock_skew_ms: 2000}\n').raft.clientSessionTtlMs, 60000);
  t.ok(cfg.maxKeyBytes > 0 && cfg.maxValueBytes > 0);
  t.same(parse('data_dir: d\nstores: [{id: 1, addr: "h:1"}]\nraft: {tick_ms: 5}\n').raft, { ...DEFAULT_RAFT, tickMs: 5 });
  t.equal(parse('data_dir: d\nstores: [{id: 1, addr: "h:1"}]\nraft: {compact_log_threshold: 200}\n').raft.compactLogThreshold, 200);
  t.equal(parse('data_dir: d\nstores: [{id: 1, addr: "h:1"}]\nraft: {read_mode: lease}\n').raft.readMode, 'lease');
  t.equal(parse('data_dir: d\nstores: [{id: 1, addr: "h:1"}]\nraft:\n  read_mode: read_index\n').raft.readMode, 'read_index');
});

t.test('the project default config/cluster.yaml loads', async (t) => {
  const cfg = loadClusterConfig(new URL('../../config/cluster.yaml', import.meta.url).pathname);
  t.equal(cfg.stores.length, 3);
  t.match(cfg.dataDir, /\/data$/);
});

t.test('every invalid field is named', async (t) => {
  const stores = 'stores: [{id: 1, addr: "127.0.0.1:1"}]\n';
  rejects(t, 'data_dir: d\nstores:\n  - id: 1\n    addr: 127.0.0.1:1\n  - id: 2\n    addr: localhost\n',
    'stores[1].addr: expected host:port, got "localhost"');
  rejects(t, `${stores}`, 'data_dir: missing; expected a string');
  rejects(t, `data_dir: ""\n${stores}`, 'data_dir: expected a non-empty string, got ""');
  rejects(t, `data_dir: 5\n${stores}`, 'data_dir: expected a non-empty string, got 5');
  rejects(t, 'data_dir: d\n', 'stores: missing; expected a list of {id, addr}');
  rejects(t, 'data_dir: d\nstores: []\n', 'stores: expected at least one store');
  rejects(t, 'data_dir: d\nstores: {id: 1}\n', 'stores: expected a list of {id, addr}, got a mapping');
  rejects(t, 'data_dir: d\nstores: [5]\n', 'stores[0]: expected a mapping with id, addr, metrics_addr, join, removed, got number 5');
  rejects(t, 'data_dir: d\nstores: [{addr: "h:1"}]\n', 'stores[0].id: missing; expected a positive integer');
  rejects(t, 'data_dir: d\nstores: [{id: 0, addr: "h:1"}]\n', 'stores[0].id: expected a positive integer, got 0');
  rejects(t, 'data_dir: d\nstores: [{id: 1.5, addr: "h:1"}]\n', 'stores[0].id: expected a positive integer, got 1.5');
  rejects(t, 'data_dir: d\nstores: [{id: "1", addr: "h:1"}]\n', 'stores[0].id: expected a positive integer, got "1"');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1"}, {id: 1, addr: "h:2"}]\n',
    'stores[1].id: store id 1 is already used by stores[0]');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1"}, {id: 2, addr: "H:1"}]\n',
    'stores[1].addr: H:1 is already used by stores[0]');
  rejects(t, 'data_dir: d\nstores: [{id: 1}]\n', 'stores[0].addr: missing; expected host:port');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: 5}]\n', 'stores[0].addr: expected host:port, got 5');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:0"}]\n', 'stores[0].addr: port must be from 1 to 65535, got 0');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:65536"}]\n',
    'stores[0].addr: port must be from 1 to 65535, got 65536');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1", adr: "x"}]\n',
    'stores[0].adr: unknown field (expected one of id, addr, metrics_addr, join, removed)');
  rejects(t, `data_dir: d\n${stores}dataDir: x\n`,
    'dataDir: unknown field (expected one of cluster_id, data_dir, stores, raft, max_key_bytes, max_value_bytes)');
  rejects(t, `data_dir: d\ncluster_id: "a b"\n${stores}`,
    `cluster_id: expected letters, digits, '.', '_' or '-', got "a b"`);
  rejects(t, `data_dir: d\n${stores}raft: 5\n`,
    'raft: expected a mapping with tick_ms, election_ticks, heartbeat_ticks, compact_log_threshold, compact_log_max_bytes, client_session_ttl_ms, max_clock_skew_ms, read_mode, got number 5');
  rejects(t, `data_dir: d\n${stores}raft: {tick_ms: -1}\n`, 'raft.tick_ms: expected a positive integer, got -1');
  rejects(t, `data_dir: d\n${stores}raft: {election_ticks: 2, heartbeat_ticks: 2}\n`,
    'raft.heartbeat_ticks: must be less than raft.election_ticks (2), got 2');
  rejects(t, `data_dir: d\n${stores}raft: {ticks: 2}\n`,
    'raft.ticks: unknown field (expected one of tick_ms, election_ticks, heartbeat_ticks, compact_log_threshold, compact_log_max_bytes, client_session_ttl_ms, max_clock_skew_ms, read_mode)');
  rejects(t, `data_dir: d\n${stores}raft: {read_mode: leased}\n`, 'raft.read_mode: expected read_index or lease, got "leased"');
  rejects(t, `data_dir: d\n${stores}raft: {read_mode: 1}\n`, 'raft.read_mode: expected read_index or lease, got 1');
  rejects(t, `data_dir: d\n${stores}raft: {compact_log_threshold: 0}\n`, 'raft.compact_log_threshold: expected a positive integer, got 0');
  rejects(t, `data_dir: d\n${stores}raft: {client_session_ttl_ms: 4000}\n`, 'raft.max_clock_skew_ms: must be less than raft.client_session_ttl_ms (4000), got 5000');
  rejects(t, `data_dir: d\n${stores}raft: {client_session_ttl_ms: 12000}\n`,
    'raft.client_session_ttl_ms: must exceed raft.max_clock_skew_ms (5000) by at least 10000 ms (a client\'s retry budget), got 12000');
  rejects(t, `data_dir: d\n${stores}max_key_bytes: 0\n`, 'max_key_bytes: expected a positive integer, got 0');
  rejects(t, `data_dir: d\n${stores}max_value_bytes: big\n`, 'max_value_bytes: expected a positive integer, got "big"');
});

t.test('malformed YAML, an empty file and a list at the top', async (t) => {
  t.throws(() => parse('data_dir: d\nstores: [{id: 1\n'), /^config\/cluster\.yaml: malformed YAML at line \d+, column \d+: /);
  t.throws(() => parse('data_dir: a\ndata_dir: b\nstores: []\n'), /^config\/cluster\.yaml: malformed YAML at line 2/);
  rejects(t, '', 'the file is empty; expected data_dir and stores');
  rejects(t, '# only a comment\n', 'the file is empty; expected data_dir and stores');
  t.throws(() => parse('- 1\n- 2\n'), /^config\/cluster\.yaml: expected a mapping with cluster_id, data_dir/);
  for (const text of ['data_dir: d\nstores: [{id: 1\n', ': :\n  - x\n\t- y\n']) {
    try {
      parse(text);
      t.fail('should have thrown');
    } catch (e) {
      t.type(e, ConfigError);
      t.equal((e as ConfigError).code, 'CONFIG');
      t.notMatch((e as Error).message, /\n/, 'one line');
    }
  }
});

t.test('loading from disk: missing file, directory, symlinks', async (t) => {
  const dir = tempDir(t, 'tinykv-load-');
  const missing = join(dir, 'nope.yaml');
  t.throws(() => loadClusterConfig(missing), new ConfigError(
    `${missing}: cannot read the cluster file: no such file (give another with -c <file> or TINYKV_CONFIG)`));
  t.throws(() => loadClusterConfig(dir), new ConfigError(`${dir}: cannot read the cluster file: is a directory, not a cluster file`));

  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf', 'c.yaml'), 'data_dir: ../data\nstores: [{id: 1, addr: "127.0.0.1:5"}]\n');
  symlinkSync(join(dir, 'conf', 'c.yaml'), join(dir, 'link.yaml'));
  const viaLink = loadClusterConfig(join(dir, 'link.yaml'));
  t.equal(viaLink.file, join(dir, 'conf', 'c.yaml'), 'file is the real path');
  t.equal(viaLink.dataDir, join(dir, 'data'), 'data_dir resolves against the real folder');
  writeFileSync(join(dir, 'bad.yaml'), 'stores: [\n');
  t.throws(() => loadClusterConfig(join(dir, 'bad.yaml')), { code: 'CONFIG', message: new RegExp(`^${join(dir, 'bad.yaml')}: malformed YAML`) });
});

t.test('membership marks: join and removed', async (t) => {
  const cfg = parse('data_dir: d\nstores:\n  - {id: 1, addr: "h:1"}\n  - {id: 2, addr: "h:2", removed: true}\n  - {id: 4, addr: "h:4", join: true}\n');
  t.same(cfg.stores.map((s) => [s.id, s.join]), [[1, false], [4, true]], 'removed stores are not among the stores to run');
  t.same(cfg.removedStores.map((s) => s.id), [2], 'but their ids and addresses stay reserved');
  rejects(t, 'data_dir: d\nstores:\n  - {id: 1, addr: "h:1"}\n  - {id: 2, addr: "h:1", removed: true}\n', 'stores[1].addr: h:1 is already used by stores[0]');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1", join: "yes"}]\n', 'stores[0].join: expected true or false, got "yes"');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1", removed: true}]\n', 'stores: every store is marked removed; expected at least one that runs');
  rejects(t, 'data_dir: d\nstores: [{id: 1000000, addr: "h:1"}]\n', 'stores[0].id: expected at most 999999, got 1000000');
});

t.test('two spellings of one socket are refused', async (t) => {
  rejects(t, 'data_dir: d\nstores:\n  - {id: 1, addr: "127.0.0.1:21161"}\n  - {id: 2, addr: "localhost:21161"}\n',
    'stores[1].addr: localhost:21161 is the same socket as 127.0.0.1:21161 (stores[0])');
  rejects(t, 'data_dir: d\nstores:\n  - {id: 1, addr: "10.0.0.5:7"}\n  - {id: 2, addr: "0.0.0.0:7"}\n',
    'stores[1].addr: 0.0.0.0:7 is the same socket as 10.0.0.5:7 (stores[0])');
  rejects(t, 'data_dir: d\nstores:\n  - {id: 1, addr: "0.0.0.0:7"}\n  - {id: 2, addr: "127.0.0.1:7"}\n',
    'stores[1].addr: 127.0.0.1:7 is the same socket as 0.0.0.0:7 (stores[0])');
  const ok = parse('data_dir: d\nstores:\n  - {id: 1, addr: "127.0.0.1:7"}\n  - {id: 2, addr: "127.0.0.2:7"}\n  - {id: 3, addr: "localhost:8"}\n');
  t.equal(ok.stores.length, 3, 'different addresses, or different ports, are fine');
});

t.test('metrics_addr: optional, checked like addr, and never one of the file\'s other sockets', async (t) => {
  const cfg = parse('data_dir: d\nstores:\n  - {id: 1, addr: "127.0.0.1:7", metrics_addr: "127.0.0.1:9"}\n  - {id: 2, addr: "127.0.0.1:8"}\n');
  t.same(cfg.stores[0]!.metrics, { addr: '127.0.0.1:9', host: '127.0.0.1', port: 9 });
  t.equal(cfg.stores[1]!.metrics, undefined, 'absent: the store picks a loopback port');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1", metrics_addr: 9100}]\n', 'stores[0].metrics_addr: expected host:port, got 9100');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1", metrics_addr: "h:0"}]\n', 'stores[0].metrics_addr: port must be from 1 to 65535, got 0');
  rejects(t, 'data_dir: d\nstores: [{id: 1, addr: "h:1", metrics_addr: "h:1"}]\n', 'stores[0].metrics_addr: h:1 is already used by stores[0]');
  rejects(t, 'data_dir: d\nstores:\n  - {id: 1, addr: "h:1", metrics_addr: "127.0.0.1:9"}\n  - {id: 2, addr: "localhost:9"}\n',
    'stores[1].addr: localhost:9 is the same socket as 127.0.0.1:9 (stores[0].metrics_addr)');
  rejects(t, 'data_dir: d\nstores:\n  - {id: 1, addr: "h:1", metrics_addr: "0.0.0.0:9"}\n  - {id: 2, addr: "h:2", metrics_addr: "127.0.0.1:9"}\n',
    'stores[1].metrics_addr: 127.0.0.1:9 is the same socket as 0.0.0.0:9 (stores[0].metrics_addr)');
});
