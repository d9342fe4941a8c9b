// Help layout: `tinykv --help` lists every runnable command with its full path
// (`cluster up`, `chaos kill --store <id|leader>`), grouped by area, instead of
// commander's default of listing only the top-level groups.

import { Help, type Command, type HelpConfiguration } from 'commander';

/** The command's path below the program, e.g. `chaos kill`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.length > 0 ? names.join(' ') : cmd.name();
}

/** Leaf commands below `cmd`, depth first, in the order they were added. */
export function leafCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((sub) => (sub.commands.length > 0 ? leafCommands(sub) : [sub]));
}

export const helpConfiguration: HelpConfiguration = {
  showGlobalOptions: true,
  formatHelp(this: Help, cmd: Command, helper: Help): string {
    if (cmd.parent !== null) return Help.prototype.formatHelp.call(this, cmd, helper);
    // The program itself: list each group's runnable subcommands in place of the group.
    // Only while formatting, so that "did you mean" suggestions still name real top-level commands.
    const flat: Help = Object.create(helper);
    flat.visibleCommands = (c: Command) =>
      helper.visibleCommands(c).flatMap((sub) => (c === cmd && sub.commands.length > 0 ? leafCommands(sub) : [sub]));
    return Help.prototype.formatHelp.call(this, cmd, flat);
  },
  subcommandTerm(cmd: Command): string {
    const usage = cmd.usage();
    const shown = cmd.options.length === 0 ? usage.replace(/^\[options\]\s*/, '') : usage;
    return shown ? `${commandPath(cmd)} ${shown}` : commandPath(cmd);
  },
};
