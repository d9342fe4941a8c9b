// Changes to the cluster file made by membership commands (`tinykv store add/remove/
// replace`, `cluster down --purge`). The membership itself lives in the raft state; the
// file says which stores the orchestrator runs and how a store with an empty data
// directory starts (bootstrap a new cluster, or `join` a running one).
//
// Edits keep the user's comments and layout (the yaml Document API), are checked by
// loading the result before anything is written, and replace the file atomically
// (write a temporary file beside it, then rename), so a crash never leaves half a file.
// Two commands editing at once take turns: each read-modify-write holds `<file>.lock`
// (created exclusively; one left by a process that died is taken over).

import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import type { Document } from 'yaml';
import { parseClusterConfig } from './load.js';
import { ConfigError } from './types.js';
import type { ClusterConfig } from './types.js';

/** Appends a store that joins the running cluster, or brings back a removed one as joining. */
export function addJoiningStore(file: string, id: number, addr: string): ClusterConfig {
  return edit(file, (doc) => {
    const entry = storeEntry(doc, id);
    if (entry) {
      if (entry.get('removed') !== true) throw new ConfigError(`${file}: store ${id} is already in the cluster file`);
      entry.set('addr', addr);
      entry.delete('removed');
      entry.set('join', true);
      return;
    }
    const item = new YAMLMap();
    item.set('id', id);
    item.set('addr', addr);
    item.set('join', true);
    storesSeq(doc).add(item);
  });
}

/** Marks a store removed: the orchestrator no longer starts it. */
export function markStoreRemoved(file: string, id: number): ClusterConfig {
  return edit(file, (doc) => {
    const entry = storeEntry(doc, id);
    if (!entry) throw new ConfigError(`${file}: store ${id} is not in the cluster file`);
    entry.delete('join');
    entry.set('removed', true);
  });
}

/** Marks a store as joining (its data was wiped; it must be added again, never bootstrap). */
export function markStoreJoining(file: string, id: number): ClusterConfig {
  return edit(file, (doc) => {
    const entry = storeEntry(doc, id);
    if (!entry) throw new ConfigError(`${file}: store ${id} is not in the cluster file`);
    entry.delete('removed');
    entry.set('join', true);
  });
}

/**
 * After every store's data was deleted (`cluster down --purge`): the next start bootstraps
 * a new cluster from the stores listed, so removed entries go and nobody joins.
 * Returns the ids it changed (empty: the file was left as it was).
 */
export function resetMembershipMarks(file: string): number[] {
  return withLock(file, () => resetMarks(file));
}

function resetMarks(file: string): number[] {
  const changed: number[] = [];
  const doc = load(file);
  const seq = storesSeq(doc);
  for (let i = seq.items.length - 1; i >= 0; i--) {
    const item = seq.items[i];
    if (!isMap(item)) continue;
    const id = Number(item.get('id'));
    if (item.get('removed') === true) {
      seq.delete(i);
      changed.push(id);
    } else if (item.has('join')) {
      item.delete('join');
      changed.push(id);
    }
  }
  if (changed.length > 0) save(file, doc);
  return changed.sort((a, b) => a - b);
}

function edit(file: string, change: (doc: Document) => void): ClusterConfig {
  return withLock(file, () => {
    const doc = load(file);
    change(doc);
    return save(file, doc);
  });
}

const LOCK_WAIT_MS = 10_000;

function withLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (holderGone(lock)) {
        try {
          unlinkSync(lock);
        } catch {
          // another process took it over first
        }
        continue;
      }
      if (Date.now() >= until) throw new ConfigError(`${file}: another tinykv command is editing it (${lock}); try again`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    unlinkSync(lock);
  }
}

/** The lock's holder no longer runs (or the lock is unreadable). */
function holderGone(lock: string): boolean {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch {
    return false; // removed meanwhile: retry
  }
  if (text === '') return false; // just created; its pid follows
  const pid = Number(text);
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function load(file: string): Document {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new ConfigError(`${file}: malformed YAML; not editing it`);
  return doc;
}

function save(file: string, doc: Document): ClusterConfig {
  const text = doc.toString();
  // Validate what would be written, with the file's own name in any message.
  const cfg = parseClusterConfig(text, { shownAs: file, file });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { flag: 'w' });
  renameSync(tmp, file);
  return cfg;
}

function storesSeq(doc: Document) {
  const seq = doc.get('stores');
  if (!isSeq(seq)) throw new ConfigError('the cluster file has no stores list');
  return seq;
}

function storeEntry(doc: Document, id: number): YAMLMap | undefined {
  for (const item of storesSeq(doc).items) {
    if (isMap(item) && Number(item.get('id')) === id) return item as YAMLMap;
  }
  return undefined;
}
