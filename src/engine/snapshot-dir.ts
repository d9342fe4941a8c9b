// SnapshotFiles on the file system: one directory per store (data_dir/store-<id>/snap).
// A file is written as <name>.tmp, hashed (SHA-256) as it goes, fsynced, renamed to
// <name> and the directory fsynced, so a complete name always means a complete file.

import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotFileReader, SnapshotFiles, SnapshotFileWriter } from './snapshot-files.js';
import { TEMP_SUFFIX } from './snapshot-files.js';

function checkName(name: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) throw new TypeError(`invalid snapshot file name ${JSON.stringify(name)}`);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

class FileWriter implements SnapshotFileWriter {
  private readonly hash = createHash('sha256');
  private size = 0;
  private done = false;

  constructor(private readonly fh: FileHandle, private readonly dir: string, private readonly name: string) {}

  private get tmp(): string {
    return join(this.dir, this.name + TEMP_SUFFIX);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error(`snapshot file ${this.name}: write after finish or abort`);
    this.hash.update(chunk);
    this.size += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
  }

  async finish(): Promise<{ size: number; checksum: string }> {
    if (this.done) throw new Error(`snapshot file ${this.name}: finished twice`);
    this.done = true;
    await this.fh.sync();
    await this.fh.close();
    await rename(this.tmp, join(this.dir, this.name));
    await fsyncDir(this.dir);
    return { size: this.size, checksum: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

class FileReader implements SnapshotFileReader {
  private pos = 0;

  constructor(private readonly fh: FileHandle, readonly size: number) {}

  async read(maxBytes: number): Promise<Uint8Array | undefined> {
    if (this.pos >= this.size) return undefined;
    const buf = Buffer.allocUnsafe(Math.min(maxBytes, this.size - this.pos));
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.pos);
    if (bytesRead === 0) throw new Error(`snapshot file ended at ${this.pos} of ${this.size} bytes`);
    this.pos += bytesRead;
    return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * SnapshotFiles in directory `dir` (created if missing); files are written as <name>.tmp,
 * fsynced, then renamed.
 */
export async function openSnapshotDir(dir: string): Promise<SnapshotFiles> {
  await mkdir(dir, { recursive: true });
  return {
    async create(name) {
      checkName(name);
      const fh = await open(join(dir, name + TEMP_SUFFIX), 'w');
      return new FileWriter(fh, dir, name);
    },
    async open(name) {
      checkName(name);
      const fh = await open(join(dir, name), 'r');
      try {
        return new FileReader(fh, (await fh.stat()).size);
      } catch (e) {
        await fh.close();
        throw e;
      }
    },
    async exists(name) {
      checkName(name);
      return stat(join(dir, name)).then((s) => s.isFile(), () => false);
    },
    async remove(name) {
      checkName(name);
      await rm(join(dir, name), { force: true });
    },
    async list() {
      return (await readdir(dir)).sort();
    },
  };
}
