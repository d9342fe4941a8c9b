// The names of a store's snapshot files: one per region and (index, term), generated or
// received. The directory itself is src/engine/snapshot-files.ts's interface.

export type { SnapshotFileReader, SnapshotFiles, SnapshotFileWriter } from '../engine/index.js';
export { TEMP_SUFFIX } from '../engine/index.js';

/** The file a leader generates for a region's snapshot at (index, term). */
export function generatedName(regionId: number, index: number, term: number): string {
  return `gen-r${regionId}-i${index}-t${term}.snap`;
}

/** The file a follower stages a received snapshot in until it is installed. */
export function receivedName(regionId: number, index: number, term: number): string {
  return `recv-r${regionId}-i${index}-t${term}.snap`;
}

/** Parses a name made by generatedName/receivedName; undefined for anything else. */
export function parseSnapshotName(name: string): { kind: 'gen' | 'recv'; regionId: number; index: number; term: number } | undefined {
  const m = /^(gen|recv)-r(\d+)-i(\d+)-t(\d+)\.snap$/.exec(name);
  if (!m) return undefined;
  return { kind: m[1] as 'gen' | 'recv', regionId: Number(m[2]), index: Number(m[3]), term: Number(m[4]) };
}
