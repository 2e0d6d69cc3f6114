/**
 * The commander program around a given set of subcommands, shared by the whole CLI (main.ts, which loads the
 * register function of the subcommand being run) and the per-command bundles that bin/deltabox.js loads
 * (scripts/bundle-commands.mjs: each bundle holds one command group and this module, not main.ts's map of
 * every command, so that `deltabox scan` never reads Fastify). Errors become one-line messages and exit
 * codes in exit-codes.ts.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { reportError } from './exit-codes.js';
import { examplesText, TOP_LEVEL_NOTES } from './help-examples.js';

/** Adds one subcommand (or a few: `token`'s group) to the program. */
export type Register = (program: Command) => void;

/** The package's version, read from its package.json (src/, dist/ and the bundles in dist/ sit one level below it). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Adds each command's examples (help-examples.ts) after its --help, subcommands included. */
function addExamples(command: Command, path: string): void {
  const text = examplesText(path);
  if (text) command.addHelpText('after', text);
  for (const sub of command.commands) addExamples(sub, path ? `${path} ${sub.name()}` : sub.name());
}

/** The `deltabox` program with the given subcommands registered, in order. */
export function programWith(registers: Register[]): Command {
  const program = new Command('deltabox')
    .description('rsync-style delta sync: a server that mirrors a folder and a scanner that keeps it in step')
    .version(version())
    .configureHelp({ helpWidth: 80 })
    .showHelpAfterError()
    // Program options (-V/--version) only before the subcommand, so `restore --version ID` is restore's.
    .enablePositionalOptions()
    .exitOverride();
  for (const register of registers) register(program);
  for (const sub of program.commands) addExamples(sub, sub.name());
  program.addHelpText('after', `${examplesText('')}${TOP_LEVEL_NOTES}`);
  return program;
}

/** Parses `argv` with the given subcommands and runs the one it names; resolves to the exit code, never throws. */
export async function runProgram(argv: string[], registers: Register[]): Promise<number> {
  try {
    await programWith(registers).parseAsync(argv);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}
