// Where the CLI writes. The process entry point passes process.stdout/stderr;
// tests can pass collectors instead.

export interface CliIo {
  /** Text, or exact bytes (`get --raw`). */
  stdout(text: string | Uint8Array): void;
  stderr(text: string): void;
  /** Reads all of stdin (`put <key> -`); at most `limit` bytes are kept (more: `truncated`). */
  readStdin?(limit: number): Promise<{ bytes: Buffer; truncated: boolean }>;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
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
