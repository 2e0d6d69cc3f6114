/**
 * A lane is one system under test with its own client folder, server and counting proxy: deltabox with
 * deltas, deltabox forced to full uploads, rsync pushing to its daemon, or the same rsync with `--fsync` (the
 * durable anchor: deltabox fsyncs every file it acknowledges, plain rsync does not). `sync()` is one measured run.
 * Lanes know how to reset their server; what to put in the client folder is the scenarios' business.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ByteCountingProxy, type WireCount } from './byte-counting-proxy.js';
import { DeltaboxServer, scanOnce, type ScanSummary } from './deltabox-peer.js';
import { runCommand, type CommandCost } from './measured-command.js';
import { RsyncDaemon } from './rsync-daemon.js';
import { freePort } from './free-port.js';

export type SystemName = 'deltabox-delta' | 'deltabox-full' | 'rsync' | 'rsync-fsync';
export const SYSTEMS: readonly SystemName[] = ['deltabox-delta', 'deltabox-full', 'rsync', 'rsync-fsync'];
const isRsync = (system: SystemName): system is 'rsync' | 'rsync-fsync' => system === 'rsync' || system === 'rsync-fsync';

/** One measured run of one system. Times in ms, sizes in bytes, RSS in KiB. */
export interface RunSample {
  scenario: string;
  system: SystemName;
  run: number;
  wallMs: number;
  clientCpuMs: number | undefined;
  clientPeakRssKb: number | undefined;
  serverCpuMs: number | undefined;
  serverPeakRssKb: number | undefined;
  sentBytes: number;
  receivedBytes: number;
  connections: number;
  /** deltabox only: the elapsed time the scanner printed (after process start and module load). */
  reportedMs?: number;
  /** deltabox only: the scanner's own summary, wire counters included (for cross-checking the proxy). */
  summary?: ScanSummary;
}

/** The measured part of a RunSample, shared by every lane. */
function sampleOf(
  scenario: string, system: SystemName, run: number, cost: CommandCost,
  server: { cpuMs: number | undefined; peakRssKb: number | undefined }, wire: WireCount,
): RunSample {
  return {
    scenario,
    system,
    run,
    wallMs: cost.wallMs,
    clientCpuMs: cost.cpuMs,
    clientPeakRssKb: cost.peakRssKb,
    serverCpuMs: server.cpuMs,
    serverPeakRssKb: server.peakRssKb,
    ...wire,
  };
}

export interface Lane {
  readonly system: SystemName;
  readonly clientDir: string;
  readonly proxy: ByteCountingProxy;
  /** One measured run through the proxy. */
  sync(scenario: string, run: number): Promise<RunSample>;
  /** An unmeasured run (preparation). */
  settle(): Promise<void>;
  /** Empties the server side and forgets client state, so the next sync is a first sync. */
  resetServer(): Promise<void>;
  close(): Promise<void>;
}

class DeltaboxLane implements Lane {
  constructor(
    readonly system: SystemName,
    readonly clientDir: string,
    readonly proxy: ByteCountingProxy,
    readonly server: DeltaboxServer,
    readonly scratchDir: string,
  ) {}

  async sync(scenario: string, run: number): Promise<RunSample> {
    const watch = this.server.watch();
    this.proxy.take();
    const cost = await scanOnce(this.clientDir, this.proxy.port, this.server.tokenFile, this.scratchDir, this.#scanArgs());
    const wire = this.proxy.take();
    const server = watch.finish();
    return { ...sampleOf(scenario, this.system, run, cost, server, wire), reportedMs: cost.summary.elapsedMs, summary: cost.summary };
  }

  /**
   * Set-up between scenarios: a scenario's client folder replaces the previous one's files (keepOnly), which
   * the scanner's mass-delete guard would stop; the deletion is intended here, so it is confirmed.
   */
  async settle(): Promise<void> {
    await scanOnce(this.clientDir, this.proxy.port, this.server.tokenFile, this.scratchDir, [...this.#scanArgs(), '--allow-mass-delete']);
    this.proxy.take();
  }

  async resetServer(): Promise<void> {
    await this.server.restartEmpty();
    rmSync(join(this.clientDir, '.deltabox'), { recursive: true, force: true });
  }

  /** The whole-file lane runs the scanner with `--full-uploads`: every changed file goes as one PUT. */
  #scanArgs(): string[] {
    return this.system === 'deltabox-full' ? ['--full-uploads'] : [];
  }


  async close(): Promise<void> {
    await this.proxy.close();
    await this.server.stop();
  }
}

class RsyncLane implements Lane {
  constructor(
    readonly system: 'rsync' | 'rsync-fsync',
    readonly clientDir: string,
    readonly proxy: ByteCountingProxy,
    readonly daemon: RsyncDaemon,
    readonly dest: string,
    readonly scratchDir: string,
  ) {}

  /** The push; `--fsync` makes the daemon's receiver fsync every file it writes. */
  #args(): string[] {
    return RsyncDaemon.pushArgs(this.clientDir, this.dest, this.proxy.port, this.system === 'rsync-fsync' ? ['--fsync'] : []);
  }

  async sync(scenario: string, run: number): Promise<RunSample> {
    const watch = this.daemon.watch();
    this.proxy.take();
    const cost = await runCommand('rsync', this.#args(), this.scratchDir);
    const wire = this.proxy.take();
    const server = await watch.finish();
    return sampleOf(scenario, this.system, run, cost, server, wire);
  }

  async settle(): Promise<void> {
    await runCommand('rsync', this.#args(), this.scratchDir);
    this.proxy.take();
  }

  async resetServer(): Promise<void> {
    rmSync(join(this.daemon.root, this.dest), { recursive: true, force: true });
  }


  async close(): Promise<void> {
    await this.proxy.close();
  }
}

/** Creates the lanes of one group of scenarios under `groupDir`: a client folder (and server) per system. */
export async function openLanes(groupDir: string, daemon: RsyncDaemon | undefined, systems: readonly SystemName[]): Promise<Lane[]> {
  const lanes: Lane[] = [];
  const scratch = join(groupDir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  for (const system of systems) {
    const clientDir = join(groupDir, system, 'client');
    mkdirSync(clientDir, { recursive: true });
    if (isRsync(system)) {
      if (daemon === undefined) continue;
      const proxy = await ByteCountingProxy.start(daemon.port);
      lanes.push(new RsyncLane(system, clientDir, proxy, daemon, `${groupDir.split('/').pop()}-${system}`, scratch));
    } else {
      const server = new DeltaboxServer(join(groupDir, system), join(groupDir, system, 'server'), await freePort());
      await server.start();
      const proxy = await ByteCountingProxy.start(server.port);
      lanes.push(new DeltaboxLane(system, clientDir, proxy, server, scratch));
    }
  }
  return lanes;
}

/** `lanes` rotated by `run`, so each system goes first, middle and last in turn (cancels drift). */
export function alternate<T>(lanes: readonly T[], run: number): T[] {
  const k = run % lanes.length;
  const rotated = [...lanes.slice(k), ...lanes.slice(0, k)];
  return run % 2 === 1 ? rotated.reverse() : rotated;
}
