/**
 * The `deltabox` command: commander wiring only. Each subcommand lives in commands/<name>.ts and exports a
 * register function; only the module of the subcommand being run is loaded (so `deltabox scan` does not
 * load the server and Fastify), and commander itself is loaded only here, not by bin/deltabox.js, which
 * answers `--version` and `--help` from package.json and static-help.json before this module is loaded.
 * The plain forms of signature/delta/patch skip commander altogether (core-commands/run.ts). Errors become
 * one-line messages and exit codes in exit-codes.ts.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { reportError } from './exit-codes.js';
import { examplesText, TOP_LEVEL_NOTES } from './help-examples.js';

type Register = (program: Command) => void;

/** Subcommand name -> loader of its register function. */
const commands: Record<string, () => Promise<Register>> = {
  signature: async () => (await import('./commands/delta-tools.js')).registerSignature,
  delta: async () => (await import('./commands/delta-tools.js')).registerDelta,
  patch: async () => (await import('./commands/delta-tools.js')).registerPatch,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  token: async () => (await import('./commands/token.js')).registerToken,
  scan: async () => (await import('./commands/scan.js')).registerScan,
  run: async () => (await import('./commands/run.js')).registerRun,
  history: async () => (await import('./commands/history.js')).registerHistory,
  restore: async () => (await import('./commands/history.js')).registerRestore,
  trash: async () => (await import('./commands/history.js')).registerTrash,
};

/** The names of every subcommand, in --help order. */
export const COMMAND_NAMES = Object.keys(commands);

/** The package's version, read from its package.json (src/ and dist/ both sit one level below it). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Adds each command's examples (help-examples.ts) after its --help, subcommands included. */
function addExamples(command: Command, path: string): void {
  const text = examplesText(path);
  if (text) command.addHelpText('after', text);
  for (const sub of command.commands) addExamples(sub, path ? `${path} ${sub.name()}` : sub.name());
}

/**
 * Builds the program with the subcommand `only` registered, or every subcommand when `only` is not one
 * of them (top-level help, a typo: commander then lists or suggests them all).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('deltabox')
    .description('rsync-style delta sync: a server that mirrors a folder and a scanner that keeps it in step')
    .version(version())
    .configureHelp({ helpWidth: 80 })
    .showHelpAfterError()
    // Program options (-V/--version) only before the subcommand, so `restore --version ID` is restore's.
    .enablePositionalOptions()
    .exitOverride();
  const names = only !== undefined && only in commands ? [only] : COMMAND_NAMES;
  for (const name of names) (await commands[name]!())(program);
  for (const sub of program.commands) addExamples(sub, sub.name());
  program.addHelpText('after', `${examplesText('')}${TOP_LEVEL_NOTES}`);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  if (argv[2] === 'signature' || argv[2] === 'delta' || argv[2] === 'patch') {
    // Their plain forms run without commander (core-commands/run.ts); the rest comes back here.
    const code = await (await import('./core-commands/run.js')).runCoreCommand(argv);
    if (code !== undefined) return code;
  }
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}
