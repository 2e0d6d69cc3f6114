/**
 * The scale curve: for trees of N small text files, deltabox's first sync and its no-change rescan (`scan
 * --once`: time, scanner peak RSS, wire bytes), with rsync's no-change run beside it. One server per N,
 * stopped afterwards. It does not draw: see sync-chart.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../lib/run-info.js';
import { ByteCountingProxy } from './byte-counting-proxy.js';
import { DeltaboxServer, scanOnce } from './deltabox-peer.js';
import { freePort } from './free-port.js';
import { runCommand } from './measured-command.js';
import { RsyncDaemon } from './rsync-daemon.js';
import { writeTree } from './sync-data.js';

export interface ScalePoint {
  files: number;
  treeBytes: number;
  initial: { wallMs: number; reportedMs: number; clientPeakRssKb: number | undefined; serverPeakRssKb: number | undefined; sentBytes: number; receivedBytes: number };
  /** deltabox no-change `scan --once`, one entry per run. */
  rescans: { wallMs: number; reportedMs: number; clientPeakRssKb: number | undefined; sentBytes: number; receivedBytes: number }[];
  /** rsync no-change runs (undefined when rsync is unavailable). */
  rsyncRescans?: { wallMs: number; sentBytes: number; receivedBytes: number }[];
  medianRescanMs: number;
  medianRsyncRescanMs?: number;
  /** The highest scanner peak RSS seen at this size (first sync or rescan), KiB. */
  maxScannerRssKb: number | undefined;
}

export async function measureScalePoint(workDir: string, files: number, runs: number, daemon: RsyncDaemon | undefined, seed: string, log: (l: string) => void): Promise<ScalePoint> {
  const dir = join(workDir, `scale-${files}`);
  const cdir = join(dir, 'client');
  log(`scale ${files} files: writing the tree`);
  const treeBytes = writeTree([cdir], { files, folders: Math.max(10, Math.round(files / 100)), spreadBytes: 2048 }, `scale:${seed}`);
  const server = new DeltaboxServer(dir, join(dir, 'server'), await freePort());
  await server.start();
  const proxy = await ByteCountingProxy.start(server.port);
  try {
    const watch = server.watch();
    const first = await scanOnce(cdir, proxy.port, server.tokenFile, dir);
    const firstWire = proxy.take();
    const initial = {
      wallMs: first.wallMs,
      reportedMs: first.summary.elapsedMs,
      clientPeakRssKb: first.peakRssKb,
      serverPeakRssKb: watch.finish().peakRssKb,
      ...firstWire,
    };
    log(`  first sync ${(initial.wallMs / 1000).toFixed(1)} s, scanner ${(initial.clientPeakRssKb ?? 0) / 1024 | 0} MiB`);
    const rescans: ScalePoint['rescans'] = [];
    const rsyncRescans: NonNullable<ScalePoint['rsyncRescans']> = [];
    let rsyncProxy: ByteCountingProxy | undefined;
    if (daemon !== undefined) {
      rsyncProxy = await ByteCountingProxy.start(daemon.port);
      await runCommand('rsync', RsyncDaemon.pushArgs(cdir, `scale-${files}`, rsyncProxy.port), dir);
      rsyncProxy.take();
    }
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? ['deltabox', 'rsync'] : ['rsync', 'deltabox'];
      for (const who of order) {
        if (who === 'deltabox') {
          const r = await scanOnce(cdir, proxy.port, server.tokenFile, dir);
          rescans.push({ wallMs: r.wallMs, reportedMs: r.summary.elapsedMs, clientPeakRssKb: r.peakRssKb, ...proxy.take() });
        } else if (rsyncProxy !== undefined) {
          const r = await runCommand('rsync', RsyncDaemon.pushArgs(cdir, `scale-${files}`, rsyncProxy.port), dir);
          rsyncRescans.push({ wallMs: r.wallMs, ...rsyncProxy.take() });
        }
      }
    }
    await rsyncProxy?.close();
    if (daemon !== undefined) rmSync(join(daemon.root, `scale-${files}`), { recursive: true, force: true });
    const rssValues = [initial.clientPeakRssKb, ...rescans.map((r) => r.clientPeakRssKb)].filter((v): v is number => v !== undefined);
    const point: ScalePoint = {
      files,
      treeBytes,
      initial,
      rescans,
      medianRescanMs: median(rescans.map((r) => r.wallMs)),
      maxScannerRssKb: rssValues.length > 0 ? Math.max(...rssValues) : undefined,
    };
    if (rsyncRescans.length > 0) {
      point.rsyncRescans = rsyncRescans;
      point.medianRsyncRescanMs = median(rsyncRescans.map((r) => r.wallMs));
    }
    log(`  no-change rescan ${(point.medianRescanMs / 1000).toFixed(2)} s (rsync ${((point.medianRsyncRescanMs ?? NaN) / 1000).toFixed(2)} s), scanner peak ${((point.maxScannerRssKb ?? 0) / 1024).toFixed(0)} MiB`);
    return point;
  } finally {
    await proxy.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
