/**
 * Real child processes of the deltabox CLI (run from TypeScript through tsx, no build needed): a server
 * whose pino log goes straight to a file (so it survives SIGKILL), scanners, and their RSS from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './poll.js';

const CLI_ENTRY = fileURLToPath(new URL('../child/deltabox-cli.ts', import.meta.url));
const LOAD_HOST_ENTRY = fileURLToPath(new URL('../child/load-host.ts', import.meta.url));
const NODE_ARGS = ['--import=tsx', '--conditions=deltabox-src'];

export interface ChildHandle {
  proc: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL. */
  stop(graceMs?: number): Promise<void>;
}

function wrap(proc: ChildProcess, captured: { out: string; err: string }): ChildHandle {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    proc,
    pid: proc.pid!,
    exited,
    stdout: () => captured.out,
    stderr: () => captured.err,
    async kill() {
      if (!done) proc.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (done) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Spawns `deltabox <args>`; stdout goes to `stdoutFile` when given (else captured), stderr is captured. */
export function spawnDeltabox(args: string[], options: { stdoutFile?: string; env?: Record<string, string> } = {}): ChildHandle {
  return spawnNode([CLI_ENTRY, ...args], options);
}

function spawnNode(args: string[], options: { stdoutFile?: string; env?: Record<string, string> }): ChildHandle {
  const fd = options.stdoutFile ? openSync(options.stdoutFile, 'a') : undefined;
  // The children are the system under test: they run without the test runner's NODE_OPTIONS hooks.
  const { NODE_OPTIONS: _runnerHooks, ...env } = process.env;
  const proc = spawn(process.execPath, [...NODE_ARGS, ...args], {
    env: { ...env, ...options.env },
    stdio: ['ignore', fd ?? 'pipe', 'pipe'],
  });
  if (fd !== undefined) closeSync(fd);
  const captured = { out: '', err: '' };
  proc.stdout?.on('data', (d) => (captured.out += String(d)));
  proc.stderr!.on('data', (d) => (captured.err += String(d)));
  return wrap(proc, captured);
}

export interface ServerProcess extends ChildHandle {
  port: number;
  url: string;
  logFile: string;
}

/** Last `Server listening at http://127.0.0.1:PORT` in a pino log, after byte `from`. */
function listeningPort(logFile: string, from: number): number | undefined {
  if (!existsSync(logFile)) return undefined;
  const text = readFileSync(logFile, 'utf8').slice(from);
  const matches = [...text.matchAll(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/g)];
  return matches.length ? Number(matches[matches.length - 1]![1]) : undefined;
}

/** `deltabox serve --sdir DIR --port 0`, logging to `logFile` (appended); resolves once it listens. */
export async function startServerProcess(sdir: string, logFile: string, timeoutMs = 30_000): Promise<ServerProcess> {
  const from = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0;
  const child = spawnDeltabox(['serve', '--sdir', sdir, '--host', '127.0.0.1', '--port', '0'], { stdoutFile: logFile });
  let exitedEarly = false;
  void child.exited.then(() => (exitedEarly = true));
  await waitFor(() => exitedEarly || listeningPort(logFile, from) !== undefined, `the server on ${sdir} to listen`, {
    timeoutMs,
    detail: () => `stderr: ${child.stderr().slice(-500)}`,
  });
  if (exitedEarly) throw new Error(`the server exited at start: ${child.stderr().slice(-1000)}`);
  const port = listeningPort(logFile, from)!;
  return { ...child, port, url: `http://127.0.0.1:${port}`, logFile };
}

/**
 * `deltabox scan` as a daemon (or with --once in `extra`). The scenarios' random edits delete whole top
 * folders of small trees, which is often over half of the server's files: real deletions the mass-delete
 * guard would stop (as designed; the guard has its own end-to-end tests in packages/cli), so they are confirmed.
 */
export function startScannerProcess(cdir: string, serverUrl: string, token: string, extra: string[] = [], options: { stdoutFile?: string } = {}): ChildHandle {
  return spawnDeltabox(['scan', '--cdir', cdir, '--server', serverUrl, '--token', token, '--interval', '1s', '--allow-mass-delete', ...extra], options);
}

/** A two-way device (issue 12): `deltabox scan --mode two-way` with the scanner options above and JSON logs. */
export function startTwoWayDevice(cdir: string, serverUrl: string, token: string, options: { stdoutFile?: string } = {}): ChildHandle {
  return startScannerProcess(cdir, serverUrl, token, ['--mode', 'two-way', '--json'], options);
}

/** The load host: one process serving several folders (see child/load-host.ts). */
export function spawnLoadHost(sdirs: string[], portsFile: string, logFile: string): ChildHandle {
  return spawnNode([LOAD_HOST_ENTRY, portsFile, ...sdirs], { stdoutFile: logFile });
}

/** Resident set size of a live process in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; reports the first and the largest sample. */
export function sampleRss(pid: number, intervalMs = 250): { stop(): { firstBytes: number; maxBytes: number; samples: number } } {
  let first = 0;
  let max = 0;
  let samples = 0;
  const take = (): void => {
    const rss = rssBytes(pid);
    if (rss === 0) return;
    if (samples === 0) first = rss;
    max = Math.max(max, rss);
    samples++;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { firstBytes: first, maxBytes: max, samples };
    },
  };
}
