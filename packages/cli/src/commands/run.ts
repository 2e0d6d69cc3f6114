/**
 * `deltabox run`: server and scanner in one process (the prototype's run.py). Creates both folders,
 * mints a device token on first use and keeps it in the client state so restarts reuse it, then runs the
 * scanner against the local server until Ctrl-C.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { buildServer, createToken, isTokenValid, revokeToken } from '@deltabox/server';
import { readStoredSetting, writeStoredSetting, type Scanner } from '@deltabox/scanner';
import { CliError, EXIT, toCliError } from '../exit-codes.js';
import { assertSeparateFolders } from '../folder-overlap.js';
import { MODE_HELP, makeLogger, massDeleteOptions, openScanner, runUntilStopped, syncModeOption } from './scan.js';
import { durationHelp, INTERVAL_BOUNDS, parseDuration } from '../duration.js';

interface RunFlags {
  cdir: string;
  sdir: string;
  host: string;
  port: string;
  interval: string;
  json?: boolean;
  allowMassDelete?: boolean;
  mode?: string;
  maxDelete?: string;
}

/** Key of the token in the client state, and the token's name on the server. */
const TOKEN_SETTING = 'run.token';
const TOKEN_NAME = `run-${hostname()}`;

/** The stored token when the server still accepts it; otherwise a freshly minted one, stored. */
function deviceToken(cdir: string, sdir: string): string {
  const stored = readStoredSetting(cdir, TOKEN_SETTING);
  if (stored && isTokenValid(sdir, stored)) return stored;
  revokeToken(sdir, TOKEN_NAME);
  const token = createToken(sdir, { name: TOKEN_NAME });
  writeStoredSetting(cdir, TOKEN_SETTING, token);
  return token;
}

async function run(flags: RunFlags): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid port '${flags.port}'`, EXIT.usage);
  const intervalMs = parseDuration(flags.interval, '--interval', INTERVAL_BOUNDS);
  const deleteLimit = { ...massDeleteOptions(flags), ...syncModeOption(flags) };
  // Nested folders either way round (real paths, through symlinks) would mirror into themselves and delete.
  assertSeparateFolders(flags.cdir, flags.sdir);
  mkdirSync(flags.cdir, { recursive: true });
  mkdirSync(flags.sdir, { recursive: true });
  const log = makeLogger(flags.json === true);
  const app = await buildServer({ sdir: flags.sdir, logger: flags.json ? { level: 'warn' } : false });
  try {
    await app.listen({ host: flags.host, port });
  } catch (err) {
    await app.close();
    throw new CliError(`cannot listen on ${flags.host}:${port}: ${(err as Error).message}`, EXIT.failure, { cause: err });
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const server = `http://${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${boundPort}`;
  let scanner: Scanner;
  try {
    scanner = openScanner({ cdir: flags.cdir, server, token: deviceToken(flags.cdir, flags.sdir), intervalMs, ...deleteLimit, logger: log });
  } catch (err) {
    await app.close();
    throw err;
  }
  try {
    try {
      await scanner.start();
    } catch (err) {
      await scanner.stop();
      throw toCliError(err, server);
    }
    process.stderr.write(`deltabox: ${flags.cdir} -> ${flags.sdir} (server ${server}); Ctrl-C to stop\n`);
    await runUntilStopped(scanner, server, log);
  } finally {
    await app.close();
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a server and a scanner together: keep --sdir identical to --cdir')
    .option('--cdir <dir>', 'client folder (created if missing)', 'dir/client')
    .option('--sdir <dir>', 'server folder (created if missing)', 'dir/server')
    .option('--host <host>', 'address the server listens on', '127.0.0.1')
    .option('--port <port>', 'server port', '7070')
    .option('--interval <duration>', durationHelp('full scan period', INTERVAL_BOUNDS), '5s')
    .option('--json', 'JSON log lines (pino) for machines')
    .option('--mode <mode>', MODE_HELP, 'two-way')
    .option('--max-delete <percent>', 'stop when one pass would delete more than PERCENT of the server\'s files (default 50)')
    .option('--allow-mass-delete', 'confirm deleting more than --max-delete of the server\'s files (the client really lost them)')
    .action(run);
}
