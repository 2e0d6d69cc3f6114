/**
 * The `deltabox` command: commander wiring only. Each subcommand lives in commands/<name>.ts and exports a
 * register function; only the module of the subcommand being run is loaded (so `deltabox scan` does not
 * load the server and Fastify). Errors become one-line messages and exit codes in exit-codes.ts.
 */
import { Command } from 'commander';
import { exitCodeFor, messageFor } from './exit-codes.js';

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
};

/**
 * Builds the program with the subcommand `only` registered, or every subcommand when `only` is not one
 * of them (top-level help, a typo: commander then lists or suggests them all).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('deltabox')
    .description('rsync-style delta sync: a server that mirrors a folder and a scanner that keeps it in step')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  const names = only !== undefined && only in commands ? [only] : Object.keys(commands);
  for (const name of names) (await commands[name]!())(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = exitCodeFor(err);
    const message = messageFor(err);
    if (message) process.stderr.write(`deltabox: ${message}\n`);
    return code;
  }
}
