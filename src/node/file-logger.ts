// A Logger that appends one JSON line per event to the store's log file
// (<data_dir>/store-<id>/store.log). Writes are synchronous appends: a store log is
// low-volume, and a line must survive a kill -9 right after it.

import { appendFileSync } from 'node:fs';
import type { LogFields, Logger } from '../raft/index.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function fileLogger(path: string, minLevel: Level = 'info', also?: (line: string) => void): Logger {
  const write = (level: Level, msg: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields });
    try {
      appendFileSync(path, line + '\n');
    } catch {
      // Logging must never take the store down.
    }
    also?.(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
