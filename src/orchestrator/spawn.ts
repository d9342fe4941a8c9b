// Starts one store process in the background: `node dist/node/main.js --config FILE
// --store ID`, detached into its own session so that it outlives the `tinykv` command
// and a Ctrl-C in the terminal, with stdout and stderr appended to its store.log (the
// store writes its own log lines there too). Records the PID in store.pid.

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { storeDir, type ClusterConfig } from '../config/types.js';
import { startTicksOf } from './liveness.js';
import { writePidFile, type PidRecord } from './pid-file.js';

export interface SpawnedStore {
  readonly storeId: number;
  readonly pid: number;
  readonly logFile: string;
  /** Size of store.log before the spawn: what the process writes starts here. */
  readonly logOffset: number;
  /** Settles when the process exits (only observable while this process lives). */
  readonly exited: Promise<{ readonly exitCode?: number; readonly signal?: string }>;
}

export function storeLogPath(cfg: ClusterConfig, id: number): string {
  return join(storeDir(cfg, id), 'store.log');
}

/**
 * The compiled store entry point next to this module's folder (dist/node/main.js). When the
 * orchestrator itself runs from TypeScript sources (tests), the compiled dist/ copy is used.
 */
export function storeEntryPath(): string {
  const sibling = fileURLToPath(new URL('../node/main.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL('../../dist/node/main.js', import.meta.url));
}

export function spawnStore(cfg: ClusterConfig, id: number): SpawnedStore {
  mkdirSync(storeDir(cfg, id), { recursive: true });
  const logFile = storeLogPath(cfg, id);
  const fd = openSync(logFile, 'a');
  let sub;
  let logOffset: number;
  try {
    logOffset = fstatSync(fd).size;
    sub = execa(process.execPath, [storeEntryPath(), '--config', cfg.file, '--store', String(id)], {
      detached: true,
      cleanup: false,
      reject: false,
      // execa's types take only fd literals; the fd is a plain number at run time.
      stdio: ['ignore', fd as 3, fd as 3],
    });
  } finally {
    closeSync(fd);
  }
  const pid = sub.pid;
  const exited = sub.then(
    (r) => ({ exitCode: r.exitCode, signal: r.signal }),
    (e: unknown) => ({ signal: `spawn failed: ${(e as Error).message}` }),
  );
  sub.unref();
  if (pid === undefined) return { storeId: id, pid: 0, logFile, logOffset, exited };
  const startTicks = startTicksOf(pid);
  if (startTicks !== undefined) {
    const rec: PidRecord = { pid, storeId: id, config: cfg.file, startTicks, startedAt: new Date().toISOString() };
    writePidFile(cfg, rec);
  }
  return { storeId: id, pid, logFile, logOffset, exited };
}

/**
 * The line that best says why a store stopped: of what it wrote to store.log after
 * `offset`, the last line that is not one of its JSON log records, a stack frame or
 * Node's version banner; failing that, the message of its last JSON record.
 */
export function lastLogLine(logFile: string, offset: number): string | undefined {
  const text = readFrom(logFile, offset);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const plain = lines.filter((l) => !l.startsWith('{') && !/^at /.test(l) && !/^Node\.js v\d/.test(l) && l !== '^');
  if (plain.length > 0) return plain[plain.length - 1];
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  try {
    const rec = JSON.parse(last) as { msg?: unknown; error?: unknown };
    return [rec.msg, rec.error].filter((x) => typeof x === 'string').join(': ') || last;
  } catch {
    return last;
  }
}

function readFrom(file: string, offset: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(offset, size - 64 * 1024);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a store attached to this terminal (`store start --foreground`): its log lines echo
 * to stderr, Ctrl-C or SIGTERM stops it cleanly (the signal is passed on), and this
 * resolves with its exit code once it has stopped.
 */
export async function runStoreForeground(cfg: ClusterConfig, id: number): Promise<number> {
  const sub = execa(process.execPath, [storeEntryPath(), '--config', cfg.file, '--store', String(id), '--echo'], {
    reject: false, stdio: 'inherit',
  });
  // A terminal's Ctrl-C reaches the store too (same process group); wait for it to stop.
  const forward = (sig: NodeJS.Signals) => () => { if (sub.pid) try { process.kill(sub.pid, sig); } catch { /* gone */ } };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const r = await sub;
    return r.exitCode ?? (r.signal ? 1 : 0);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
