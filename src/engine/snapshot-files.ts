// The store's snapshot directory as the raftstore sees it: generated snapshot files (to
// send) and received ones (staged until installed). An engine-level interface, like
// KvEngine: src/engine/snapshot-dir.ts implements it on the file system, and the raftstore
// names the files (src/raftstore/snapshot-files.ts).
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

/** Reads one complete snapshot file from the start, in chunks. */
export interface SnapshotFileReader {
  readonly size: number;
  /** The next chunk of at most maxBytes, or undefined at the end. */
  read(maxBytes: number): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

/** A store's snapshot directory: a name appears only for a complete, fsynced file. */
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

/**
 * Suffix of a file still being written; list() shows such leftovers of a crash so they can
 * be removed.
 */
export const TEMP_SUFFIX = '.tmp';
