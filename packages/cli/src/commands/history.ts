/**
 * `deltabox history PATH`, `deltabox restore PATH [--version ID | --at TIME] [--to NEWPATH] [--folder]` and
 * `deltabox trash`: version history of a running server, with a device token (the same --server, --token,
 * --token-file and --ca as scan; a read-only token may list but not restore). TIME is an ISO 8601 date or
 * date-time (`2026-03-01T09:30:00Z`) or an age such as `2h` (two hours ago, duration.ts grammar).
 */
import type { Command } from 'commander';
import { routes, type HistoryResponse, type RestoreRequest, type RestoreResponse, type TrashResponse, type VersionInfo } from '@deltabox/protocol';
import { formatBytes } from '@deltabox/scanner';
import { CliError, EXIT, toCliError } from '../exit-codes.js';
import { parseDuration } from '../duration.js';
import { checkServerUrl } from '../server-url.js';
import { readCaFile } from '../tls-files.js';
import { callJson, type HistoryClientOptions } from '../history-client.js';
import { resolveToken } from './scan.js';

interface ServerFlags {
  server: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
  json?: boolean;
}

interface RestoreFlags extends ServerFlags {
  version?: string;
  at?: string;
  to?: string;
  folder?: boolean;
}

/** `--at`: ISO 8601, or an age (`2h`: two hours ago). @throws CliError (usage) */
export function parseAt(text: string, nowMs = Date.now()): number {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d|w)$/.test(text)) return nowMs - parseDuration(text, '--at', { minMs: 0, maxMs: 36_525 * 86_400_000 });
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new CliError(`--at: expected an ISO 8601 time (2026-03-01T09:30:00Z) or an age (2h); got '${text}'`, EXIT.usage);
  return ms;
}

function clientOf(flags: ServerFlags): HistoryClientOptions {
  checkServerUrl(flags.server);
  const ca = flags.ca ? readCaFile(flags.ca) : undefined;
  return { server: flags.server, token: resolveToken(flags), ...(ca ? { ca } : {}) };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function versionLine(v: VersionInfo): string {
  const state = v.deleted ? 'deleted' : 'replaced';
  return `${String(v.id).padStart(6)}  ${iso(v.timeMs)} ${state.padEnd(8)}  ${formatBytes(v.size).padStart(10)}  ${(v.device ?? '-').padEnd(12)}  ${v.hash.slice(0, 12)}`;
}

async function withServer<T>(flags: ServerFlags, fn: (client: HistoryClientOptions) => Promise<T>): Promise<T> {
  const client = clientOf(flags);
  try {
    return await fn(client);
  } catch (err) {
    throw toCliError(err, flags.server);
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function history(path: string, flags: ServerFlags): Promise<void> {
  const res = await withServer(flags, (c) => callJson<HistoryResponse>(c, 'GET', routes.history(path)));
  if (flags.json) return print(JSON.stringify(res));
  const cur = res.current;
  if (cur) print(`current  ${iso(cur.mtimeMs)} modified  ${formatBytes(cur.size).padStart(10)}  ${(cur.device ?? '-').padEnd(12)}  ${cur.hash?.slice(0, 12) ?? '(folder)'}`);
  else print(`${path} is deleted (restore a version below)`);
  if (res.versions.length === 0) return print('no past versions');
  print('    id  ended at             how          size  device        hash');
  for (const v of res.versions) print(versionLine(v));
}

async function trash(flags: ServerFlags): Promise<void> {
  const res = await withServer(flags, (c) => callJson<TrashResponse>(c, 'GET', routes.trash));
  if (flags.json) return print(JSON.stringify(res));
  if (res.entries.length === 0) return print('the trash is empty');
  for (const v of res.entries) print(`${versionLine(v)}  ${v.path}`);
}

/** The RestoreRequest the flags describe. @throws CliError (usage) */
export function restoreRequest(path: string, flags: RestoreFlags, nowMs = Date.now()): RestoreRequest {
  if ((flags.version === undefined) === (flags.at === undefined)) throw new CliError('restore: give exactly one of --version ID and --at TIME', EXIT.usage);
  if (flags.folder && (flags.version !== undefined || flags.to !== undefined)) throw new CliError('restore --folder takes --at only', EXIT.usage);
  const req: RestoreRequest = { path: flags.folder && (path === '.' || path === '/') ? '' : path };
  if (flags.folder) req.folder = true;
  if (flags.version !== undefined) {
    if (!/^[1-9]\d{0,14}$/.test(flags.version)) throw new CliError(`--version: expected a version id (see deltabox history); got '${flags.version}'`, EXIT.usage);
    req.versionId = Number(flags.version);
  }
  if (flags.at !== undefined) req.at = parseAt(flags.at, nowMs);
  if (flags.to !== undefined) req.to = flags.to;
  return req;
}

async function restore(path: string, flags: RestoreFlags): Promise<void> {
  const req = restoreRequest(path, flags);
  const res = await withServer(flags, (c) => callJson<RestoreResponse>(c, 'POST', routes.restore, req));
  if (flags.json) return print(JSON.stringify(res));
  for (const e of res.restored) print(`restored ${e.path} (${formatBytes(e.size)}, revision ${e.revision})`);
  if (res.restored.length === 0) print('nothing to restore: already as it was');
  for (const f of res.failed ?? []) process.stderr.write(`deltabox: could not restore ${f.path}: ${f.error.code}: ${f.error.message}\n`);
  if (res.failed?.length) throw new CliError(`${res.failed.length} file(s) not restored`, EXIT.failure);
}

function serverOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--server <url>', 'server base URL, e.g. http://127.0.0.1:7070')
    .option('--token <token>', 'device token (or DELTABOX_TOKEN, or --token-file)')
    .option('--token-file <file>', 'read the device token from FILE')
    .option('--ca <file>', 'PEM CA certificate to trust for https')
    .option('--json', 'print the server\'s JSON answer');
}

export function registerHistory(program: Command): void {
  serverOptions(program.command('history').argument('<path>', 'file path on the server').description('list the versions of a file kept by the server')).action(history);
}

export function registerTrash(program: Command): void {
  serverOptions(program.command('trash').description('list deleted files the server can restore')).action(trash);
}

export function registerRestore(program: Command): void {
  serverOptions(
    program
      .command('restore')
      .argument('<path>', "file (or with --folder, folder; '.' for all) on the server")
      .description('restore a file to a past version, or a folder as of a time (a new write every device receives)')
      .option('--version <id>', 'the version id shown by deltabox history or trash')
      .option('--at <time>', 'the version current at TIME: ISO 8601 (2026-03-01T09:30:00Z) or an age (2h = two hours ago)')
      .option('--to <newpath>', 'write the version to NEWPATH instead of PATH')
      .option('--folder', 'PATH is a folder: restore every file in it as of --at (never deletes newer files)'),
  ).action(restore);
}
