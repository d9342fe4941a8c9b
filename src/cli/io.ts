// Where the CLI writes. The process entry point passes process.stdout/stderr;
// tests can pass collectors instead.

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
