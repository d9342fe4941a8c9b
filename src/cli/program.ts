// Builds the whole commander tree for `tinykv`. Every command lives in its own file; this
// file puts them in their help groups (program-root.ts holds what the tree shares).

import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerChaos } from './chaos.js';
import { registerCluster } from './cluster.js';
import { finishProgram, registerKeyCommands, rootProgram, type ProgramOptions } from './program-root.js';
import { registerShell } from './shell.js';
import { registerStore } from './store.js';
import { registerTransferLeader } from './transfer-leader.js';

export function buildProgram(o: ProgramOptions): Command {
  const { io, run } = o;
  const program = rootProgram(o);
  program.commandsGroup('Cluster:');
  registerCluster(program, io);
  registerStore(program, io);
  registerTransferLeader(program, io);
  program.commandsGroup('Keys:');
  registerKeyCommands(program, io);
  if (run) registerShell(program, io, run);
  program.commandsGroup('Fault injection:');
  registerChaos(program, io);
  registerBench(program, io);
  program.commandsGroup('Commands:');
  return finishProgram(program);
}
