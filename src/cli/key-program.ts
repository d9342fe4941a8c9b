// The command tree of the key commands' own bundle (dist/bundle/keys.cjs): the program
// with put, get, delete and scan only, built from the same files as the whole CLI
// (program.ts), so that they parse, answer and fail exactly alike. bin/tinykv runs it
// when argv names one of them; it leaves out the code of every other command, which
// makes a `tinykv get` start faster.

import type { Command } from 'commander';
import { finishProgram, registerKeyCommands, rootProgram, type ProgramOptions } from './program-root.js';

export function buildKeyProgram(o: ProgramOptions): Command {
  const program = rootProgram(o);
  program.commandsGroup('Keys:');
  registerKeyCommands(program, o.io);
  return finishProgram(program);
}
