/**
 * `deltabox token create|list|revoke`: device tokens of a served folder. `create` prints the token
 * alone on stdout (so `$(deltabox token create ...)` captures it); everything else goes to stderr.
 */
import type { Command } from 'commander';
import { createToken, listTokens, revokeToken, ServerFolderError } from '@deltabox/server';
import { CliError, EXIT } from '../exit-codes.js';
import { durationHelp, EXPIRES_BOUNDS, parseDuration } from '../duration.js';

/** Runs a token function on a folder that must already be served: a wrong `--sdir` is a usage error. */
function onServedFolder<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof ServerFolderError ? new CliError(err.message, EXIT.usage, { cause: err }) : err;
  }
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage the device tokens of a served folder');

  token
    .command('create')
    .description('mint a token; prints it once on stdout')
    .requiredOption('--sdir <dir>', 'served folder')
    .requiredOption('--name <name>', 'device name')
    .option('--expires <duration>', durationHelp('lifetime', EXPIRES_BOUNDS))
    .option('--read-only', 'the token cannot write')
    .action((opts: { sdir: string; name: string; expires?: string; readOnly?: boolean }) => {
      const expiresAt = opts.expires === undefined ? undefined : Date.now() + parseDuration(opts.expires, '--expires', EXPIRES_BOUNDS);
      let value: string;
      try {
        value = createToken(opts.sdir, { name: opts.name, expiresAt, readOnly: opts.readOnly === true });
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.badInput, { cause: err });
      }
      process.stdout.write(`${value}\n`);
      const details = [opts.readOnly ? 'read-only' : 'read-write', expiresAt ? `expires ${iso(expiresAt)}` : 'no expiry'];
      process.stderr.write(`created token '${opts.name}' (${details.join(', ')}); it is not shown again\n`);
    });

  token
    .command('list')
    .description('list tokens (never their values)')
    .requiredOption('--sdir <dir>', 'served folder')
    .option('--json', 'one JSON object per line')
    .action((opts: { sdir: string; json?: boolean }) => {
      const rows = onServedFolder(() => listTokens(opts.sdir));
      if (opts.json) {
        for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write('NAME\tACCESS\tSTATUS\tCREATED\tEXPIRES\tLAST USED\n');
      const now = Date.now();
      for (const r of rows) {
        const status = r.revoked ? 'revoked' : r.expiresAt !== undefined && r.expiresAt <= now ? 'expired' : 'active';
        const access = r.readOnly ? 'read-only' : 'read-write';
        process.stdout.write(`${r.name}\t${access}\t${status}\t${iso(r.createdAt)}\t${iso(r.expiresAt)}\t${iso(r.lastUsedAt)}\n`);
      }
    });

  token
    .command('revoke')
    .description('revoke the tokens with this name; a running server refuses them at once')
    .argument('<name>', 'device name')
    .requiredOption('--sdir <dir>', 'served folder')
    .action((name: string, opts: { sdir: string }) => {
      if (!onServedFolder(() => revokeToken(opts.sdir, name))) throw new CliError(`no active token named '${name}'`, EXIT.badInput);
      process.stderr.write(`revoked token '${name}'\n`);
    });
}
