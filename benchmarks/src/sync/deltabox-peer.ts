/**
 * The deltabox side: a `deltabox serve` process on a folder (restartable on a fresh folder), `deltabox scan
 * --once` runs through a proxy (with `--full-uploads` for the whole-file lane). It uses the
 * built CLI (packages/cli/bin/deltabox.js), never tsx. It does not count wire bytes: the proxy does.
 */
import type { SyncSummary } from '@deltabox/scanner';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from '../lib/run-info.js';
import { readCpuTimes, readPeakRssKb, resetPeakRss } from './process-stats.js';
import { runCommand, type CommandCost } from './measured-command.js';
import { waitForPort } from './rsync-daemon.js';

export const DELTABOX_BIN = join(REPO_DIR, 'packages', 'cli', 'bin', 'deltabox.js');

/** What `scan --once --json` prints as its summary. */
export type ScanSummary = SyncSummary;

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
