// Where the CLI writes. The process entry point passes process.stdout/stderr;
// tests can pass collectors instead.

import { ExitCode } from './exit-codes.js';

export interface CliIo {
  /** Text, or exact bytes (`get --raw`). */
  stdout(text: string | Uint8Array): void;
  stderr(text: string): void;
  /** Reads all of stdin (`put <key> -`); at most `limit` bytes are kept (more: `truncated`). */
  readStdin?(limit: number): Promise<{ bytes: Buffer; truncated: boolean }>;
}

export const processIo: CliIo = {
  stdout: (text) => void guarded(process.stdout).write(text),
  stderr: (text) => void guarded(process.stderr).write(text),
  readStdin: async (limit) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of process.stdin) {
      const b = chunk as Buffer;
      if (size + b.length > limit) {
        truncated = true;
        chunks.push(b.subarray(0, limit - size));
        size = limit;
        process.stdin.destroy();
        break;
      }
      chunks.push(b);
      size += b.length;
    }
    return { bytes: Buffer.concat(chunks), truncated };
  },
};

const guardedStreams = new WeakSet<NodeJS.WriteStream>();

/**
 * `tinykv --help | head` closes the pipe early, which must end the CLI quietly rather than
 * crash with a stack trace; another stream error is an internal error. Guarded on first
 * use, because merely creating process.stderr costs a key command ~1 ms of its start-up.
 */
function guarded(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (!guardedStreams.has(stream)) {
    guardedStreams.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') process.exitCode = ExitCode.internal;
    });
  }
  return stream;
}

/** For entry points whose commands also write to the streams directly (spinners, child output). */
export function guardProcessStreams(): void {
  guarded(process.stdout);
  guarded(process.stderr);
}
