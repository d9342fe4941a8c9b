// Where the leader was at the last key command: one store id in data_dir/cli-leader-hint.
// The next command asks that store first, which saves the round trip to a follower that
// would answer "not leader" (~3 ms of a ~30 ms `tinykv get` on top of Node's start-up).
// Only a hint: a wrong, stale, unreadable or unwritable one costs that round trip, never
// an error. Nothing is created when data_dir does not exist (no cluster started here).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterConfig } from '../config/types.js';

const FILE = 'cli-leader-hint';

export function readLeaderHint(cfg: ClusterConfig): number | undefined {
  if (cfg.file === '') return undefined; // --endpoints: no cluster file, no data_dir
  try {
    const id = Number(readFileSync(join(cfg.dataDir, FILE), 'latin1').trim());
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers `leader` unless it is what the hint already said. */
export function writeLeaderHint(cfg: ClusterConfig, leader: number | undefined, hinted: number | undefined): void {
  if (cfg.file === '' || leader === undefined || leader === hinted) return;
  try {
    writeFileSync(join(cfg.dataDir, FILE), `${leader}\n`);
  } catch {
    // data_dir missing or read-only: no hint next time
  }
}
