/**
 * The rsync peer: finds rsync (installing Debian's package when run as root), runs `rsync --daemon` on
 * 127.0.0.1 with a config written into the temp dir, and reads the daemon's CPU and peak RSS around one run.
 * It does not time the client: see measured-command.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { descendantsOf, readCpuTimes, sampleDescendantPeaks } from './process-stats.js';

export type RsyncAvailability = { available: true; version: string } | { available: false; reason: string };

/** `rsync --version`'s first line, installing rsync with apt-get first when missing and running as root. */
export function ensureRsync(log: (line: string) => void): RsyncAvailability {
  const probe = (): string | undefined => {
    const r = spawnSync('rsync', ['--version'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.split('\n')[0]!.trim() : undefined;
  };
  let version = probe();
  if (version !== undefined) return { available: true, version };
  if (process.getuid?.() !== 0) return { available: false, reason: 'rsync is not installed and the benchmark is not root: apt-get install -y rsync' };
  log('rsync missing: apt-get install -y rsync');
  const install = spawnSync('sh', ['-c', 'apt-get install -y rsync || (apt-get update && apt-get install -y rsync)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  version = probe();
  if (version !== undefined) return { available: true, version };
  return { available: false, reason: `apt-get install -y rsync failed: ${install.stderr.trim().split('\n').pop() ?? install.status}` };
}

/** Server-side cost of one rsync run: CPU of the daemon's reaped children, sum of their peak RSS. */
export interface ServerCost {
  cpuMs: number | undefined;
  peakRssKb: number | undefined;
}

export class RsyncDaemon {
  readonly root: string;
  readonly port: number;
  readonly #child: ChildProcess;

  private constructor(root: string, port: number, child: ChildProcess) {
    this.root = root;
    this.port = port;
    this.#child = child;
  }

  /** Starts a daemon serving module `bench` (read-write, as root when root) at `root`. */
  static async start(workDir: string, port: number): Promise<RsyncDaemon> {
    const root = join(workDir, 'rsync-dest');
    mkdirSync(root, { recursive: true });
    const config = join(workDir, 'rsyncd.conf');
    const identity = process.getuid?.() === 0 ? 'uid = root\ngid = root\n' : '';
    writeFileSync(
      config,
      `use chroot = no\nreverse lookup = no\nlog file = ${join(workDir, 'rsyncd.log')}\n${identity}` +
        `[bench]\npath = ${root}\nread only = no\n`,
    );
    const child = spawn('rsync', ['--daemon', '--no-detach', `--config=${config}`, `--port=${port}`, '--address=127.0.0.1'], { stdio: 'ignore' });
    const daemon = new RsyncDaemon(root, port, child);
    await waitForPort(port, 10_000);
    return daemon;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Starts watching the daemon's children; `finish()` waits for them to be reaped and returns their cost. */
  watch(): { finish(): Promise<ServerCost> } {
    const before = readCpuTimes(this.pid);
    const sampler = sampleDescendantPeaks(this.pid);
    return {
      finish: async (): Promise<ServerCost> => {
        // The client has exited; the daemon's child may still be closing. Wait (bounded) for it to be reaped.
        const deadline = performance.now() + 3_000;
        let after = readCpuTimes(this.pid);
        while (performance.now() < deadline) {
          await sleep(20);
          const now = readCpuTimes(this.pid);
          if (now && after && now.childrenMs === after.childrenMs && descendantsOf(this.pid).length === 0) break;
          after = now;
        }
        after = readCpuTimes(this.pid);
        const peakRssKb = sampler.stop();
        return {
          cpuMs: before && after ? after.childrenMs - before.childrenMs : undefined,
          peakRssKb: peakRssKb > 0 ? peakRssKb : undefined,
        };
      },
    };
  }

  /** Arguments of a push of `sourceDir`'s contents to `bench/<dest>/` through `port` (the proxy). */
  static pushArgs(sourceDir: string, dest: string, port: number, extra: readonly string[] = []): string[] {
    return ['-a', '--no-whole-file', '--delete', ...extra, '--exclude=/.deltabox', `${sourceDir}/`, `rsync://127.0.0.1:${port}/bench/${dest}/`];
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGTERM');
    await exited;
  }
}

/** Resolves once something accepts connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
