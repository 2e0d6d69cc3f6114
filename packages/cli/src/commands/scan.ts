/**
 * `deltabox scan`: runs the scanner on a client folder against a server, as a daemon or `--once`.
 * Wiring only: flags -> ScannerOptions, a logger (pino JSON with --json, short lines otherwise), the progress
 * display, signals, and ScannerError -> exit codes. Also exports the helpers `run` shares.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import {
  escapeName,
  formatBytes,
  formatDuration,
  jsonLogger,
  ProgressDisplay,
  Scanner,
  type Logger,
  type ScannerOptions,
  type SyncSummary,
} from '@deltabox/scanner';
import { CliError, EXIT, toCliError } from '../exit-codes.js';
import { onStopSignal, untilStopSignal } from '../stop-signals.js';
import { checkServerUrl } from '../server-url.js';
import { readCaFile } from '../tls-files.js';
import { durationHelp, INTERVAL_BOUNDS, parseDuration } from '../duration.js';

interface ScanFlags {
  cdir: string;
  server: string;
  token?: string;
  tokenFile?: string;
  interval: string;
  concurrency: string;
  once?: boolean;
  ca?: string;
  json?: boolean;
  watch: boolean;
  fullUploads?: boolean;
  allowMassDelete?: boolean;
  maxDelete?: string;
  mode?: string;
}

const SYNC_MODES = ['two-way', 'push', 'pull'] as const;

/** Help text of `--mode` (scan and run). */
export const MODE_HELP =
  "two-way (default: push and pull, conflicts kept as copies; docs/SYNC.md), push (the server mirrors this folder: its extra files are deleted, its edits overwritten) or pull (download only; automatic for a read-only token)";

/** `--mode` -> the scanner's mode (default two-way). @throws CliError (usage) */
export function syncModeOption(flags: { mode?: string }): Pick<ScannerOptions, 'mode'> {
  const mode = flags.mode ?? 'two-way';
  if (!(SYNC_MODES as readonly string[]).includes(mode)) throw new CliError(`--mode: expected two-way, push or pull, got '${mode}'`, EXIT.usage);
  return { mode: mode as (typeof SYNC_MODES)[number] };
}

/** `--max-delete PERCENT` and `--allow-mass-delete` -> the scanner's mass-delete options. @throws CliError (usage) */
export function massDeleteOptions(flags: { allowMassDelete?: boolean; maxDelete?: string }): Pick<ScannerOptions, 'allowMassDelete' | 'maxDeletePercent'> {
  const out: Pick<ScannerOptions, 'allowMassDelete' | 'maxDeletePercent'> = { allowMassDelete: flags.allowMassDelete === true };
  if (flags.maxDelete !== undefined) {
    const text = flags.maxDelete.trim().replace(/%$/, '');
    const percent = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(percent >= 0 && percent <= 100)) throw new CliError(`--max-delete: expected a percentage in 0..100, got '${flags.maxDelete}'`, EXIT.usage);
    out.maxDeletePercent = percent;
  }
  return out;
}

/** pino JSON lines on stdout with --json; otherwise warnings and errors as short lines on stderr. */
export function makeLogger(json: boolean): Logger {
  if (json) return jsonLogger();
  const line = (level: string) => (details: object, message?: string) => {
    const d = details as Record<string, unknown>;
    const extra = [d.path, d.err].filter((v) => v !== undefined && v !== '').join(': ');
    // The clear-line codes only on a terminal (they erase the progress line); names are escaped.
    process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${level}${escapeName(`${message ?? ''}${extra ? ` (${extra})` : ''}`)}\n`);
  };
  const tty = process.stderr.isTTY === true;
  return {
    debug() {},
    info: tty ? line('') : () => {},
    warn: line('warning: '),
    error: line('error: '),
  };
}

export function summaryLine(s: SyncSummary): string {
  return (
    `synced: ${s.filesChanged} path(s) changed, ${formatBytes(s.bytesChanged)} of content; ` +
    `wire: ${formatBytes(s.sentBytes)} sent, ${formatBytes(s.receivedBytes)} received in ${s.requests} request(s); ` +
    `${formatDuration(s.elapsedMs)} (${s.elapsedMs} ms)` +
    (s.skipped > 0 ? `; ${s.skipped} skipped (see the warnings)` : '')
  );
}

/** Explicit flags first (--token, then --token-file), then DELTABOX_TOKEN. @throws CliError */
export function resolveToken(flags: { token?: string; tokenFile?: string }): string {
  if (flags.token) return flags.token;
  if (flags.tokenFile) {
    try {
      const token = readFileSync(flags.tokenFile, 'utf8').trim();
      if (token) return token;
    } catch (err) {
      throw new CliError(`cannot read --token-file ${flags.tokenFile}: ${(err as Error).message}`, EXIT.badInput, { cause: err });
    }
    throw new CliError(`--token-file ${flags.tokenFile} is empty`, EXIT.badInput);
  }
  const env = process.env.DELTABOX_TOKEN?.trim();
  if (env) return env;
  throw new CliError('no token: pass --token or --token-file, or set DELTABOX_TOKEN', EXIT.usage);
}

/** Opens the scanner, mapping a folder already in use (or unusable) to a one-line CLI error. */
export function openScanner(options: ScannerOptions): Scanner {
  try {
    return new Scanner(options);
  } catch (err) {
    throw toCliError(err, options.server);
  }
}

/** Runs a started scanner until a signal or a fatal error; stops it cleanly either way. */
export async function runUntilStopped(scanner: Scanner, server: string, log: Logger): Promise<void> {
  const progress = new ProgressDisplay(scanner);
  progress.start();
  const stop = untilStopSignal();
  const outcome = await Promise.race([stop.signal.then((signal) => ({ signal })), scanner.failed.then((error) => ({ error }))]);
  progress.stop();
  if ('signal' in outcome) log.info({ signal: outcome.signal }, 'stopping: finishing in-flight transfers (Ctrl-C again to quit at once)');
  try {
    await scanner.stop();
  } finally {
    stop.release();
  }
  if ('error' in outcome) throw toCliError(outcome.error, server);
}

async function scan(flags: ScanFlags): Promise<void> {
  // The client is the source of truth: a mistyped folder must not be created empty and mirrored (that
  // would empty the server). `run` creates its folders; `scan` wants an existing one.
  if (!statSync(flags.cdir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CliError(`--cdir ${flags.cdir} is not an existing folder (create it first: the server will mirror it exactly)`, EXIT.badInput);
  }
  const token = resolveToken(flags);
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new CliError(`--concurrency must be an integer in 1..64, got '${flags.concurrency}'`, EXIT.usage);
  }
  checkServerUrl(flags.server);
  const ca = flags.ca ? readCaFile(flags.ca) : undefined;
  const log = makeLogger(flags.json === true);
  const options: ScannerOptions = {
    cdir: flags.cdir,
    server: flags.server,
    token,
    intervalMs: parseDuration(flags.interval, '--interval', INTERVAL_BOUNDS),
    concurrency,
    watch: flags.watch && !flags.once,
    fullUploads: flags.fullUploads === true,
    ...massDeleteOptions(flags),
    ...syncModeOption(flags),
    logger: log,
    ...(ca ? { ca } : {}),
  };
  const scanner = openScanner(options);
  if (flags.once) {
    const progress = new ProgressDisplay(scanner);
    progress.start();
    // Ctrl-C: let in-flight transfers finish or park them; what is left stays queued for the next run.
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      void scanner.stop();
    };
    const release = onStopSignal(onSignal);
    try {
      const summary = await scanner.syncOnce();
      progress.stop();
      process.stdout.write(flags.json ? `${JSON.stringify({ summary })}\n` : `${summaryLine(summary)}\n`);
    } catch (err) {
      progress.stop();
      if (interrupted) throw new CliError('interrupted; unsent changes stay queued for the next run', EXIT.failure, { cause: err });
      throw toCliError(err, flags.server);
    } finally {
      await scanner.stop();
      release();
    }
    return;
  }
  try {
    await scanner.start();
  } catch (err) {
    await scanner.stop();
    throw toCliError(err, flags.server);
  }
  log.info({}, `syncing ${scanner.root} -> ${flags.server}; Ctrl-C to stop`);
  await runUntilStopped(scanner, flags.server, log);
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('keep a server folder identical to a client folder (one way: the client is the source of truth)')
    .requiredOption('--cdir <dir>', 'client folder (state in DIR/.deltabox)')
    .requiredOption('--server <url>', 'server base URL, e.g. http://127.0.0.1:7070')
    .option('--token <token>', 'device token (or DELTABOX_TOKEN, or --token-file)')
    .option('--token-file <file>', 'read the device token from FILE')
    .option('--interval <duration>', durationHelp('full scan period', INTERVAL_BOUNDS), '5s')
    .option('--concurrency <n>', 'transfers in flight', '4')
    .option('--once', 'sync everything, wait until the server mirrors the folder, print a summary and exit')
    .option('--ca <file>', 'PEM CA certificate to trust for https')
    .option('--json', 'JSON log lines (pino) for machines')
    .option('--no-watch', 'do not watch the folder; rely on the periodic scan')
    .option('--full-uploads', 'send every changed file whole, never as a delta (moves are still moves)')
    .option('--mode <mode>', MODE_HELP, 'two-way')
    .option('--max-delete <percent>', 'stop when one pass would delete more than PERCENT of the server\'s files (default 50)')
    .option('--allow-mass-delete', 'confirm deleting more than --max-delete of the server\'s files (the client really lost them)')
    .action(scan);
}
