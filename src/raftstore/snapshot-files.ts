// Where a store keeps snapshot files: generated ones (to send) and received ones (staged
// until installed), in the store's snap/ directory. The raftstore sees the directory only
// through this interface; src/engine/snapshot-dir.ts implements it on the file system.
// A file appears under its name only once complete and fsynced (written as a temporary
// file, then renamed), so a crash never leaves a half-written file under a real name.

/** Streams a new snapshot file; nothing is visible under its name until finish(). */
export interface SnapshotFileWriter {
  /** Appends bytes. Resolves once they are handed to the OS, so memory stays bounded. */
  write(chunk: Uint8Array): Promise<void>;
  /** Fsyncs, renames into place; returns the size and SHA-256 (hex) of what was written. */
  finish(): Promise<{ size: number; checksum: string }>;
  /** Deletes the partial file (idempotent). */
  abort(): Promise<void>;
}

export interface SnapshotFileReader {
  readonly size: number;
  /** The next chunk of at most maxBytes, or undefined at the end. */
  read(maxBytes: number): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

export interface SnapshotFiles {
  create(name: string): Promise<SnapshotFileWriter>;
  /** Rejects if there is no complete file of that name. */
  open(name: string): Promise<SnapshotFileReader>;
  exists(name: string): Promise<boolean>;
  /** Removes a file; a missing file is not an error. */
  remove(name: string): Promise<void>;
  /** Complete files, and leftovers of writes a crash interrupted (ending in TEMP_SUFFIX). */
  list(): Promise<string[]>;
}

export const TEMP_SUFFIX = '.tmp';

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
