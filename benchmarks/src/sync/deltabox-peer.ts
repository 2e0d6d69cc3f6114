/**
 * The deltabox side: a `deltabox serve` process on a folder (restartable on a fresh folder), `deltabox scan
 * --once` runs through a proxy (with `--full-uploads` for the whole-file lane), and deletes sent straight to the server. It uses the
 * built CLI (packages/cli/bin/deltabox.js), never tsx. It does not count wire bytes: the proxy does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from '../lib/run-info.js';
import { readCpuTimes, readPeakRssKb, resetPeakRss } from './process-stats.js';
import { runCommand, type CommandCost } from './measured-command.js';
import { waitForPort } from './rsync-daemon.js';

export const DELTABOX_BIN = join(REPO_DIR, 'packages', 'cli', 'bin', 'deltabox.js');

/** What `scan --once --json` printed as its summary (packages/scanner SyncSummary). */
export interface ScanSummary {
  filesChanged: number;
  bytesChanged: number;
  sentBytes: number;
  receivedBytes: number;
  elapsedMs: number;
  uploads: number;
  deltas: number;
  moves: number;
  deletes: number;
  pending: number;
}

export interface ServerCost {
  cpuMs: number | undefined;
  peakRssKb: number | undefined;
}

export class DeltaboxServer {
  readonly tokenFile: string;
  #child: ChildProcess | undefined;
  #sdir: string;
  readonly port: number;
  readonly #logPath: string;

  constructor(
    readonly workDir: string,
    sdir: string,
    port: number,
  ) {
    this.#sdir = sdir;
    this.port = port;
    this.tokenFile = join(workDir, `token-${port}`);
    this.#logPath = join(workDir, `server-${port}.log`);
  }

  get sdir(): string {
    return this.#sdir;
  }

  get pid(): number {
    return this.#child!.pid!;
  }

  get token(): string {
    return readFileSync(this.tokenFile, 'utf8').trim();
  }

  async start(): Promise<void> {
    mkdirSync(this.#sdir, { recursive: true });
    // The server logs every request (pino, level info): to a file, as in production, not to a pipe we must drain.
    const log = openSync(this.#logPath, 'a');
    this.#child = spawn(process.execPath, [DELTABOX_BIN, 'serve', '--sdir', this.#sdir, '--port', String(this.port), '--issue-token-file', this.tokenFile], {
      stdio: ['ignore', log, log],
    });
    await waitForPort(this.port, 20_000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops, wipes the served folder (and its state), starts again on an empty one with a new token. */
  async restartEmpty(): Promise<void> {
    await this.stop();
    rmSync(this.#sdir, { recursive: true, force: true });
    rmSync(this.tokenFile, { force: true });
    await this.start();
  }

  /** Starts measuring the server process; `finish()` returns CPU used and peak RSS since. */
  watch(): { finish(): ServerCost } {
    const reset = resetPeakRss(this.pid);
    const before = readCpuTimes(this.pid);
    return {
      finish: (): ServerCost => {
        const after = readCpuTimes(this.pid);
        return {
          cpuMs: before && after ? after.ownMs - before.ownMs : undefined,
          // Without a reset VmHWM is the peak since start: report nothing rather than a wrong figure.
          peakRssKb: reset ? readPeakRssKb(this.pid) : undefined,
        };
      },
    };
  }

  /** Deletes `path` on the server directly (not through the proxy, so it is not counted). */
  async deleteFile(path: string): Promise<void> {
    const url = `http://127.0.0.1:${this.port}/v1/files/${path.split('/').map(encodeURIComponent).join('/')}`;
    const res = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok && res.status !== 404) throw new Error(`DELETE ${path}: ${res.status} ${await res.text()}`);
  }
}

/** `deltabox scan --once --json` of `cdir` against `serverPort` (normally a proxy's), timed end to end. */
export async function scanOnce(
  cdir: string, serverPort: number, tokenFile: string, scratchDir: string, extraArgs: readonly string[] = [],
): Promise<CommandCost & { summary: ScanSummary }> {
  const cost = await runCommand(
    process.execPath,
    [DELTABOX_BIN, 'scan', '--cdir', cdir, '--server', `http://127.0.0.1:${serverPort}`, '--token-file', tokenFile, '--once', '--json', ...extraArgs],
    scratchDir,
  );
  const line = cost.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"summary"'));
  if (line === undefined) throw new Error(`scan --once printed no summary: ${cost.stdout.slice(-500)}`);
  return { ...cost, summary: (JSON.parse(line) as { summary: ScanSummary }).summary };
}
