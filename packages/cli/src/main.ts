/**
 * The `deltabox` command: commander wiring only. Each subcommand lives in commands/<name>.ts and exports a
 * register function; only the module of the subcommand being run is loaded (so `deltabox scan` does not
 * load the server and Fastify), and commander itself is loaded only here, not by bin/deltabox.js, which
 * answers `--version` and `--help` from package.json and static-help.json before this module is loaded.
 * The plain forms of signature/delta/patch skip commander altogether (core-commands/run.ts); the program
 * itself (options, help, errors as exit codes) is program.ts, which the launcher's per-command bundles share.
 */
import type { Command } from 'commander';
import { reportError } from './exit-codes.js';
import { programWith, runProgram, type Register } from './program.js';

export { version } from './program.js';

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

/**
 * Builds the program with the subcommand `only` registered, or every subcommand when `only` is not one
 * of them (top-level help, a typo: commander then lists or suggests them all).
 */
export async function buildProgram(only?: string): Promise<Command> {
  return programWith(await registersFor(only));
}

/** The register functions of `only`, or of every subcommand when `only` is not one of them. */
async function registersFor(only: string | undefined): Promise<Register[]> {
  const names = only !== undefined && Object.hasOwn(commands, only) ? [only] : COMMAND_NAMES;
  return Promise.all(names.map((name) => commands[name]!()));
}

/** Runs the CLI and resolves to the process exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  if (argv[2] === 'signature' || argv[2] === 'delta' || argv[2] === 'patch') {
    // Their plain forms run without commander (core-commands/run.ts); the rest comes back here.
    const code = await (await import('./core-commands/run.js')).runCoreCommand(argv);
    if (code !== undefined) return code;
  }
  let registers: Register[];
  try {
    registers = await registersFor(argv[2]);
  } catch (err) {
    return reportError(err);
  }
  return runProgram(argv, registers);
}
