// Temporary directories for tests: a fresh one under the OS temp directory, named by a
// prefix (so a left-over one says which test made it), removed when the test ends.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty directory; the caller removes it (removeDir), e.g. after stopping processes that use it. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A new empty directory, removed by `t`'s teardown (the test's, or the file's for the top-level `t`). */
export function tempDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = makeTempDir(prefix);
  t.teardown(() => removeDir(dir));
  return dir;
}
