/**
 * The `deltabox` command: commander wiring only. Each subcommand lives in commands/<name>.ts and
 * exports `register(program)`; errors become one-line messages and exit codes in exit-codes.ts.
 */
import { Command } from 'commander';
import { registerSignature, registerDelta, registerPatch } from './commands/delta-tools.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { registerScan } from './commands/scan.js';
import { registerRun } from './commands/run.js';
import { exitCodeFor, messageFor } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('deltabox')
    .description('rsync-style delta sync: a server that mirrors a folder and a scanner that keeps it in step')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerSignature(program);
  registerDelta(program);
  registerPatch(program);
  registerServe(program);
  registerToken(program);
  registerScan(program);
  registerRun(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = exitCodeFor(err);
    const message = messageFor(err);
    if (message) process.stderr.write(`deltabox: ${message}\n`);
    return code;
  }
}
