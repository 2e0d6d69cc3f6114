/**
 * Propagation latency: a long-running `deltabox scan` (with the watcher, or scan-only with `--no-watch` at the
 * default 5 s interval) keeps a server in step while single-file edits land in the client folder at seeded,
 * jittered intervals; each edit's latency is from just before its write to the moment the server folder holds
 * the new bytes (polled every 5 ms). It measures nothing else.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../lib/seeded-data.js';
import { median } from '../lib/run-info.js';
import { ByteCountingProxy } from './byte-counting-proxy.js';
import { DELTABOX_BIN, DeltaboxServer, scanOnce } from './deltabox-peer.js';
import { freePort } from './free-port.js';
import { readCpuTimes } from './process-stats.js';
import { TextStream, treePath, writeTree, type TreeSpec } from './sync-data.js';

const POLL_MS = 5;

export interface LatencyResult {
  mode: 'watcher' | 'scan-only';
  edits: number;
  meanGapMs: number;
  treeFiles: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  latenciesMs: number[];
  sentBytes: number;
  receivedBytes: number;
  scannerCpuMs: number | undefined;
  durationMs: number;
}

export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Waits until `dir/path` holds `bytes` (a server folder, or another device's); resolves with the time it was seen. */
export async function arrival(dir: string, path: string, bytes: Buffer, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (readFileSync(join(dir, path)).equals(bytes)) return performance.now();
    } catch {
      // not there yet
    }
    if (performance.now() > deadline) throw new Error(`${path} did not reach ${dir} within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

export async function measureLatency(workDir: string, mode: LatencyResult['mode'], edits: number, meanGapMs: number, spec: TreeSpec, seed: string, log: (l: string) => void): Promise<LatencyResult> {
  const cdir = join(workDir, `latency-${mode}`, 'client');
  writeTree([cdir], spec, `latency:${seed}`);
  const server = new DeltaboxServer(join(workDir, `latency-${mode}`), join(workDir, `latency-${mode}`, 'server'), await freePort());
  await server.start();
  const proxy = await ByteCountingProxy.start(server.port);
  await scanOnce(cdir, proxy.port, server.tokenFile, workDir);
  const args = [DELTABOX_BIN, 'scan', '--cdir', cdir, '--server', `http://127.0.0.1:${proxy.port}`, '--token-file', server.tokenFile];
  if (mode === 'scan-only') args.push('--no-watch');
  const scanner = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  scanner.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    // Ready once a sentinel written after the start has arrived (the start-up reconcile is done by then).
    const sentinel = Buffer.from(`ready ${mode}\n`);
    writeFileSync(join(cdir, 'sentinel.txt'), sentinel);
    await arrival(server.sdir, 'sentinel.txt', sentinel, 30_000);
    proxy.take();
    const cpuBefore = readCpuTimes(scanner.pid!);
    const random = seededRandom(`latency:${seed}:${mode}`);
    const text = new TextStream(`latency-edits:${seed}:${mode}`);
    const started = performance.now();
    const waits: Promise<number>[] = [];
    for (let i = 0; i < edits; i++) {
      // Jittered gaps (0.4x-1.6x the mean), so writes fall at every phase of the 5 s scan period.
      await sleep(meanGapMs * (0.4 + random() * 1.2));
      const path = treePath(spec, (i * 7919) % spec.files);
      const bytes = text.next(1000 + Math.floor(random() * 3000));
      const writtenAt = performance.now();
      writeFileSync(join(cdir, path), bytes);
      waits.push(arrival(server.sdir, path, bytes, 60_000).then((at) => at - writtenAt));
    }
    const latenciesMs = await Promise.all(waits);
    const durationMs = performance.now() - started;
    const cpuAfter = readCpuTimes(scanner.pid!);
    const wire = proxy.take();
    const result: LatencyResult = {
      mode,
      edits,
      meanGapMs,
      treeFiles: spec.files,
      p50Ms: percentile(latenciesMs, 50),
      p95Ms: percentile(latenciesMs, 95),
      maxMs: Math.max(...latenciesMs),
      latenciesMs,
      sentBytes: wire.sentBytes,
      receivedBytes: wire.receivedBytes,
      scannerCpuMs: cpuBefore && cpuAfter ? cpuAfter.ownMs - cpuBefore.ownMs : undefined,
      durationMs,
    };
    log(`  latency ${mode}: p50 ${result.p50Ms.toFixed(0)} ms, p95 ${result.p95Ms.toFixed(0)} ms, median ${median(latenciesMs).toFixed(0)} ms over ${edits} edits`);
    return result;
  } catch (err) {
    throw new Error(`latency ${mode}: ${(err as Error).message}; scanner stderr: ${stderr.slice(-1000)}`, { cause: err });
  } finally {
    if (scanner.exitCode === null && scanner.signalCode === null) {
      const exited = new Promise((resolve) => scanner.once('exit', resolve));
      scanner.kill('SIGINT');
      await exited;
    }
    await proxy.close();
    await server.stop();
  }
}
