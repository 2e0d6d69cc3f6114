/**
 * `deltabox serve`: runs the server on a folder until SIGINT/SIGTERM. Optionally keeps a ready-to-use
 * token for a local scanner in a file (mode 0600), minting it only when the file holds no valid token.
 */
import { readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { buildServer, createToken, isTokenValid, readableLogStream, revokeToken, ServerFolderError } from '@deltabox/server';
import { CliError, EXIT } from '../exit-codes.js';
import { onStopSignal } from '../stop-signals.js';
import { readServerTls } from '../tls-files.js';
import { KEEP_GRAMMAR, parseKeep } from '../keep-policy.js';

interface ServeOptions {
  sdir: string;
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  issueTokenFile?: string;
  keep?: string;
  json?: boolean;
}

const LOCAL_TOKEN_NAME = 'local';

/** Leaves a valid token in `file`: reuses the one there, else replaces the `local` token. */
function issueLocalToken(sdir: string, file: string): void {
  let existing = '';
  try {
    existing = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing && isTokenValid(sdir, existing)) return;
  revokeToken(sdir, LOCAL_TOKEN_NAME);
  const token = createToken(sdir, { name: LOCAL_TOKEN_NAME });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync keeps the mode of an existing file
  process.stderr.write(`wrote a new token '${LOCAL_TOKEN_NAME}' to ${file}\n`);
}

async function serve(opts: ServeOptions): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid port '${opts.port}'`, EXIT.usage);
  const https = readServerTls(opts.tlsCert, opts.tlsKey);
  const retention = opts.keep === undefined ? undefined : parseKeep(opts.keep);
  // A terminal gets readable lines; a pipe, a file or --json gets pino's JSON, one object per line.
  const logger = opts.json || !process.stdout.isTTY ? { level: 'info' } : { level: 'info', stream: readableLogStream(process.stdout) };
  const app = await buildServer({ sdir: opts.sdir, logger, ...(https ? { https } : {}), ...(retention ? { retention } : {}) }).catch((err: unknown) => {
    // Nested with a client folder, already served, not a folder: the command line names the wrong folder.
    throw err instanceof ServerFolderError ? new CliError(err.message, EXIT.usage, { cause: err }) : err;
  });
  try {
    // After buildServer: it made the folder and its state, which the token functions only open.
    if (opts.issueTokenFile) issueLocalToken(opts.sdir, opts.issueTokenFile);
  } catch (err) {
    await app.close();
    throw err;
  }
  try {
    await app.listen({ host: opts.host, port });
  } catch (err) {
    await app.close();
    throw new CliError(`cannot listen on ${opts.host}:${port}: ${(err as Error).message}`, EXIT.failure, { cause: err });
  }
  let release = (): void => {};
  await new Promise<void>((resolve) => {
    release = onStopSignal((signal) => {
      app.log.info({ signal }, 'shutting down (Ctrl-C again to quit at once)');
      app.close().then(resolve, resolve);
    });
  });
  release();
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a folder to deltabox clients over HTTP(S)')
    .requiredOption('--sdir <dir>', 'served folder (created if missing; state in DIR/.deltabox)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '7070')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--issue-token-file <file>', `keep a valid token named '${LOCAL_TOKEN_NAME}' in FILE (mode 0600)`)
    .option('--keep <spec>', `version history retention: ${KEEP_GRAMMAR}`)
    .option('--json', 'log JSON lines even on a terminal (always JSON when the output is not a terminal)')
    .action(serve);
}
