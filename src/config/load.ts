// Reads and validates config/cluster.yaml into a ClusterConfig (types.ts). Every store
// process, the orchestrator and the CLI load the file through here, so a field means the
// same thing everywhere. Any problem — a missing file, malformed YAML, an unknown or
// invalid field — is a ConfigError whose one-line message names the file and the field:
//   config/cluster.yaml: stores[1].addr: expected host:port, got "localhost"

import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from '../api/limits.js';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { parsePlainYaml } from './plain-yaml.js';
import { ConfigError, MAX_STORE_ID, type ClusterConfig, type RaftSettings, type StoreConfig } from './types.js';

export const DEFAULT_CLUSTER_ID = 'tinykv';
export const DEFAULT_RAFT: RaftSettings = {
  tickMs: 100, electionTicks: 10, heartbeatTicks: 1, compactLogThreshold: 1000, compactLogMaxBytes: 64 * 1024 * 1024,
  clientSessionTtlMs: 30_000, maxClockSkewMs: 5_000, readMode: 'read_index',
};
export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES };

const TOP_FIELDS = ['cluster_id', 'data_dir', 'stores', 'raft', 'max_key_bytes', 'max_value_bytes'];
const STORE_FIELDS = ['id', 'addr', 'metrics_addr', 'join', 'removed'];
const MIN_SESSION_WINDOW_MS = 10_000;

const RAFT_FIELDS = [
  'tick_ms', 'election_ticks', 'heartbeat_ticks', 'compact_log_threshold', 'compact_log_max_bytes', 'client_session_ttl_ms', 'max_clock_skew_ms', 'read_mode',
];

type Obj = Record<string, unknown>;

/**
 * Loads the cluster file at `path` (relative to the current directory). Messages name the
 * file as given; `ClusterConfig.file` is its absolute, symlink-free path.
 */
export function loadClusterConfig(path: string): ClusterConfig {
  const text = readConfigText(path);
  return parseClusterConfig(text, { shownAs: path, file: realpathSync(path) });
}

/** Parses the text of a cluster file; `shownAs` names it in errors, `file` is its absolute path. */
export function parseClusterConfig(text: string, where: { shownAs: string; file: string }): ClusterConfig {
  const fail: Fail = (field, message) => {
    throw new ConfigError(`${where.shownAs}: ${field ? `${field}: ` : ''}${message}`);
  };
  const root = parsePlainYaml(text) ?? parseYaml(text, fail);
  if (root === null || root === undefined) fail('', 'the file is empty; expected data_dir and stores');
  const top = expectObject(root, '', fail, TOP_FIELDS);

  const dataDir = expectString(top.data_dir, 'data_dir', fail);
  const clusterId = top.cluster_id === undefined ? DEFAULT_CLUSTER_ID : expectString(top.cluster_id, 'cluster_id', fail);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(clusterId)) {
    fail('cluster_id', `expected letters, digits, '.', '_' or '-', got ${show(clusterId)}`);
  }
  const all = parseStores(top.stores, fail);
  const stores = all.filter((s) => !s.removed).map(({ removed: _, ...s }) => s);
  const removedStores = all.filter((s) => s.removed).map(({ removed: _, ...s }) => s);
  if (stores.length === 0) fail('stores', 'every store is marked removed; expected at least one that runs');
  const raft = parseRaft(top.raft, fail);
  const maxKeyBytes = optionalPositiveInt(top.max_key_bytes, 'max_key_bytes', DEFAULT_MAX_KEY_BYTES, fail);
  const maxValueBytes = optionalPositiveInt(top.max_value_bytes, 'max_value_bytes', DEFAULT_MAX_VALUE_BYTES, fail);
  return {
    file: where.file,
    clusterId,
    dataDir: resolve(dirname(where.file), dataDir),
    stores,
    removedStores,
    raft,
    maxKeyBytes,
    maxValueBytes,
  };
}

/** The full YAML parser, for files outside the plain subset (plain-yaml.ts) and malformed ones. */
function parseYaml(text: string, fail: Fail): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lines.linePos(yamlError.pos[0]);
    const at = ` at line ${pos.line}, column ${pos.col}`;
    fail('', `malformed YAML${at}: ${firstLine(yamlError.message)}`);
  }
  return doc.toJS();
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'no such file (give another with -c <file> or TINYKV_CONFIG)'
        : err.code === 'EISDIR'
          ? 'is a directory, not a cluster file'
          : err.code === 'EACCES'
            ? 'permission denied'
            : firstLine(err.message);
    throw new ConfigError(`${path}: cannot read the cluster file: ${why}`);
  }
}

type Fail = (field: string, message: string) => never;

function parseStores(value: unknown, fail: Fail): (StoreConfig & { removed: boolean })[] {
  if (value === undefined) fail('stores', 'missing; expected a list of {id, addr}');
  if (!Array.isArray(value)) fail('stores', `expected a list of {id, addr}, got ${typeName(value)}`);
  const list = value as unknown[];
  if (list.length === 0) fail('stores', 'expected at least one store');
  const ids = new Map<number, number>();
  const sockets = new SocketTable(fail);
  return list.map((raw, i) => {
    const at = `stores[${i}]`;
    const s = expectObject(raw, at, fail, STORE_FIELDS);
    if (s.id === undefined) fail(`${at}.id`, 'missing; expected a positive integer');
    const id = expectPositiveInt(s.id, `${at}.id`, fail);
    if (id > MAX_STORE_ID) fail(`${at}.id`, `expected at most ${MAX_STORE_ID}, got ${id}`);
    const seen = ids.get(id);
    if (seen !== undefined) fail(`${at}.id`, `store id ${id} is already used by stores[${seen}]`);
    ids.set(id, i);
    if (s.addr === undefined) fail(`${at}.addr`, 'missing; expected host:port');
    const addr = typeof s.addr === 'string' ? s.addr.trim() : fail(`${at}.addr`, `expected host:port, got ${show(s.addr)}`);
    const { host, port } = parseAddr(addr, `${at}.addr`, fail);
    sockets.claim(addr, host, port, `${at}.addr`, `stores[${i}]`);
    const join = optionalBoolean(s.join, `${at}.join`, fail);
    const removed = optionalBoolean(s.removed, `${at}.removed`, fail);
    let metrics: StoreConfig['metrics'];
    if (s.metrics_addr !== undefined) {
      const m = typeof s.metrics_addr === 'string' ? s.metrics_addr.trim() : fail(`${at}.metrics_addr`, `expected host:port, got ${show(s.metrics_addr)}`);
      const hp = parseAddr(m, `${at}.metrics_addr`, fail);
      sockets.claim(m, hp.host, hp.port, `${at}.metrics_addr`, `stores[${i}].metrics_addr`);
      metrics = { addr: m, ...hp };
    }
    return { id, addr, host, port, join, removed, ...(metrics ? { metrics } : {}) };
  });
}

/**
 * The sockets the file asks for so far: different spellings of one socket (localhost and
 * 127.0.0.1; 0.0.0.0 takes the port on every address) would make the second bind fail.
 */
class SocketTable {
  private readonly taken = new Map<string, { addr: string; owner: string }>();
  constructor(private readonly fail: Fail) {}

  claim(addr: string, host: string, port: number, field: string, owner: string): void {
    const keys = socketKeys(host, port);
    for (const key of keys) {
      const wildcard = key.startsWith('*:');
      const dup = this.taken.get(key) ?? this.taken.get(`*:${port}`) ??
        (wildcard ? [...this.taken].find(([k]) => k.endsWith(`:${port}`))?.[1] : undefined);
      if (dup) {
        this.fail(field, dup.addr.toLowerCase() === addr.toLowerCase()
          ? `${addr} is already used by ${dup.owner}`
          : `${addr} is the same socket as ${dup.addr} (${dup.owner})`);
      }
    }
    for (const key of keys) this.taken.set(key, { addr, owner });
  }
}

/** The sockets a host:port binds, as comparable keys ('*:port' for a wildcard address). */
function socketKeys(host: string, port: number): string[] {
  const h = host.toLowerCase();
  if (h === '0.0.0.0' || h === '::') return [`*:${port}`];
  if (h === 'localhost') return [`127.0.0.1:${port}`, `::1:${port}`];
  return [`${h}:${port}`];
}

/** `host:port`, or `[ipv6]:port`; the host comes back without brackets. */
function parseAddr(addr: string, field: string, fail: Fail): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d+)$/.exec(addr);
  if (!m) fail(field, `expected host:port, got ${show(addr)}`);
  const port = Number(m![3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(field, `port must be from 1 to 65535, got ${m![3]}`);
  }
  return { host: m![1] ?? m![2]!, port };
}

function parseRaft(value: unknown, fail: Fail): RaftSettings {
  if (value === undefined || value === null) return DEFAULT_RAFT;
  const r = expectObject(value, 'raft', fail, RAFT_FIELDS);
  const tickMs = optionalPositiveInt(r.tick_ms, 'raft.tick_ms', DEFAULT_RAFT.tickMs, fail);
  const electionTicks = optionalPositiveInt(r.election_ticks, 'raft.election_ticks', DEFAULT_RAFT.electionTicks, fail);
  const heartbeatTicks = optionalPositiveInt(r.heartbeat_ticks, 'raft.heartbeat_ticks', DEFAULT_RAFT.heartbeatTicks, fail);
  if (heartbeatTicks >= electionTicks) {
    fail('raft.heartbeat_ticks', `must be less than raft.election_ticks (${electionTicks}), got ${heartbeatTicks}`);
  }
  const compactLogThreshold = optionalPositiveInt(r.compact_log_threshold, 'raft.compact_log_threshold', DEFAULT_RAFT.compactLogThreshold, fail);
  const compactLogMaxBytes = optionalPositiveInt(r.compact_log_max_bytes, 'raft.compact_log_max_bytes', DEFAULT_RAFT.compactLogMaxBytes, fail);
  const clientSessionTtlMs = optionalPositiveInt(r.client_session_ttl_ms, 'raft.client_session_ttl_ms', DEFAULT_RAFT.clientSessionTtlMs, fail);
  const maxClockSkewMs = optionalPositiveInt(r.max_clock_skew_ms, 'raft.max_clock_skew_ms', DEFAULT_RAFT.maxClockSkewMs, fail);
  if (maxClockSkewMs >= clientSessionTtlMs) {
    fail('raft.max_clock_skew_ms', `must be less than raft.client_session_ttl_ms (${clientSessionTtlMs}), got ${maxClockSkewMs}`);
  }
  // A new client's write is refused once it was first sent more than TTL - skew ago: that
  // must outlast a client's whole retry budget (the CLI's is 10 s).
  if (clientSessionTtlMs - maxClockSkewMs < MIN_SESSION_WINDOW_MS) {
    fail('raft.client_session_ttl_ms', `must exceed raft.max_clock_skew_ms (${maxClockSkewMs}) by at least ${MIN_SESSION_WINDOW_MS} ms (a client's retry budget), got ${clientSessionTtlMs}`);
  }
  let readMode = DEFAULT_RAFT.readMode;
  if (r.read_mode !== undefined) {
    if (r.read_mode !== 'read_index' && r.read_mode !== 'lease') fail('raft.read_mode', `expected read_index or lease, got ${show(r.read_mode)}`);
    readMode = r.read_mode as RaftSettings['readMode'];
  }
  return { tickMs, electionTicks, heartbeatTicks, compactLogThreshold, compactLogMaxBytes, clientSessionTtlMs, maxClockSkewMs, readMode };
}

function expectObject(value: unknown, field: string, fail: Fail, allowed: readonly string[]): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(field, `expected a mapping with ${allowed.join(', ')}, got ${typeName(value)}`);
  }
  const obj = value as Obj;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      fail(field ? `${field}.${key}` : key, `unknown field (expected one of ${allowed.join(', ')})`);
    }
  }
  return obj;
}

function expectString(value: unknown, field: string, fail: Fail): string {
  if (value === undefined) fail(field, 'missing; expected a string');
  if (typeof value !== 'string' || value.trim() === '') fail(field, `expected a non-empty string, got ${show(value)}`);
  return value as string;
}

function expectPositiveInt(value: unknown, field: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(field, `expected a positive integer, got ${show(value)}`);
  }
  return value as number;
}

function optionalPositiveInt(value: unknown, field: string, dflt: number, fail: Fail): number {
  return value === undefined ? dflt : expectPositiveInt(value, field, fail);
}

function optionalBoolean(value: unknown, field: string, fail: Fail): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(field, `expected true or false, got ${show(value)}`);
  return value as boolean;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${show(value)}`;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
