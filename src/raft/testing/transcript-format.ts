// The file format of a Raft transcript (src/raft/testdata/*.txt): a list of blocks, each
// a command line, a `----` line, and the output the command is expected to print, ended
// by a blank line. Lines starting with `#`, and blank lines, before a command are comments
// and are kept as they are. Output lines are never blank (a blank line ends the output),
// so a command that prints nothing is followed by `----` and the blank line alone:
//
//   # Node 1 asks for votes.
//   campaign 1
//   ----
//
//   process-ready
//   ----
//   ready 1: role=preCandidate lead=0
//     send 1->2 MsgRequestPreVote term=6 last=5@5
//
// parse() reads a file into blocks; render() writes blocks back with the given outputs.
// A file is up to date when render(parse(text), actualOutputs) === text, byte for byte;
// rewriting one is writing that rendering.

export interface Block {
  /** Comment and blank lines before the command, verbatim. */
  readonly preamble: readonly string[];
  readonly command: string;
  /** 1-based line number of the command in the file, for error messages. */
  readonly line: number;
  readonly expected: readonly string[];
}

export interface Transcript {
  readonly blocks: readonly Block[];
  /** Comment and blank lines after the last block. */
  readonly trailer: readonly string[];
}

export const SEPARATOR = '----';

const isComment = (line: string) => line === '' || line.startsWith('#');

export function parse(text: string, name = 'transcript'): Transcript {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the newline that ends the file
  const blocks: Block[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (isComment(line)) {
      preamble.push(line);
      i++;
      continue;
    }
    const at = i + 1;
    if (lines[i + 1] !== SEPARATOR) throw new SyntaxError(`${name}:${at}: expected a '${SEPARATOR}' line after the command '${line}'`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && lines[i] !== '') expected.push(lines[i++]!);
    i++; // the blank line that ends the block
    blocks.push({ preamble, command: line, line: at, expected });
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

/** The file text for `t` with `outputs[i]` as block i's output. */
export function render(t: Transcript, outputs: ReadonlyArray<readonly string[]>): string {
  const lines: string[] = [];
  t.blocks.forEach((b, i) => {
    const out = outputs[i] ?? [];
    const blank = out.findIndex((l) => l === '');
    if (blank >= 0) throw new Error(`output of '${b.command}' has a blank line (line ${blank + 1}); blank lines end a block`);
    lines.push(...b.preamble, b.command, SEPARATOR, ...out, '');
  });
  lines.push(...t.trailer);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The command whose block holds line `line` (1-based) of `text`: `in 'stabilize' (line 52)`. */
export function blockAt(text: string, line: number): string {
  const lines = text.split('\n');
  for (let i = Math.min(line, lines.length) - 1; i >= 1; i--) {
    if (lines[i] === SEPARATOR && lines[i - 1] !== '' && !lines[i - 1]!.startsWith('#')) return `in '${lines[i - 1]}' (line ${i})`;
  }
  return 'before the first command';
}
