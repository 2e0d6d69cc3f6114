/**
 * Two-way sync between two devices (issue 12). Device A and device B each run a long-lived `deltabox scan`
 * (the default two-way mode, a token of its own, a byte-counting proxy of its own) against one server.
 * Measures (1) propagation latency device to device: from just before a write on A to the moment B's file holds
 * the new bytes; (2) the wire bytes of B's pull after a small edit in a big file, against the file's size and
 * against rsync pulling the same update from its daemon. It measures nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createToken } from '@deltabox/server';
import { hashFile, seededRandom, writeEditedFile, writeRandomFile } from '../lib/seeded-data.js';
import { ByteCountingProxy, type WireCount } from './byte-counting-proxy.js';
import { DELTABOX_BIN, DeltaboxServer } from './deltabox-peer.js';
import { freePort } from './free-port.js';
import { arrival, percentile, type LatencyResult } from './latency.js';
import { runCommand } from './measured-command.js';
import type { RsyncDaemon } from './rsync-daemon.js';
import { TextStream, treePath, writeTree, type TreeSpec } from './sync-data.js';

/** One device: its folder, its proxy to the server and its two-way scanner process. */
class Device {
  #child: ChildProcess | undefined;
  #stderr = '';

  private constructor(
    readonly cdir: string,
    readonly proxy: ByteCountingProxy,
  ) {}

  static async start(cdir: string, server: DeltaboxServer, token: string): Promise<Device> {
    mkdirSync(cdir, { recursive: true });
    const device = new Device(cdir, await ByteCountingProxy.start(server.port));
    const url = `http://127.0.0.1:${device.proxy.port}`;
    const child = spawn(process.execPath, [DELTABOX_BIN, 'scan', '--cdir', cdir, '--server', url, '--token', token, '--mode', 'two-way'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (device.#stderr = (device.#stderr + d.toString()).slice(-4000)));
    device.#child = child;
    return device;
  }

  get stderr(): string {
    return this.#stderr;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    await this.proxy.close();
  }
}

/** A server and two running devices, A with `prepare`'s files, B empty; resolves once B holds A's files. */
async function withTwoDevices<T>(dir: string, prepare: (cdirA: string) => string[], body: (a: Device, b: Device) => Promise<T>): Promise<T> {
  const server = new DeltaboxServer(dir, join(dir, 'server'), await freePort());
  await server.start();
  const devices: Device[] = [];
  try {
    const paths = prepare(join(dir, 'device-a'));
    const tokenA = readFileSync(server.tokenFile, 'utf8').trim();
    const tokenB = createToken(server.sdir, { name: 'device-b' });
    const a = await Device.start(join(dir, 'device-a'), server, tokenA);
    devices.push(a);
    const b = await Device.start(join(dir, 'device-b'), server, tokenB);
    devices.push(b);
    for (const path of paths) await until(holds(join(b.cdir, path), hashFile(join(a.cdir, path))), `device B to receive ${path}`, 600_000, () => b.stderr);
    return await body(a, b);
  } finally {
    for (const d of devices) await d.stop();
    await server.stop();
  }
}

/**
 * A check that `file` holds the wanted content, cheap to poll: it hashes only when the size matches and the
 * file's stat (size, mtime, inode) changed since the last look.
 */
function holds(file: string, want: { length: number; sha256: string }): () => boolean {
  let seen = '';
  return () => {
    try {
      const st = statSync(file);
      const stamp = `${st.size} ${st.mtimeMs} ${st.ino}`;
      if (st.size !== want.length || stamp === seen) return false;
      seen = stamp;
      return hashFile(file).sha256 === want.sha256;
    } catch {
      return false;
    }
  };
}

async function until(check: () => boolean, what: string, timeoutMs: number, detail: () => string): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (check()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail().slice(-1500)}`);
    await sleep(20);
  }
}

/** The figures of latency.ts's device-to-server measurement that apply device to device. */
export type DeviceLatencyResult = Pick<LatencyResult, 'edits' | 'meanGapMs' | 'treeFiles' | 'p50Ms' | 'p95Ms' | 'maxMs' | 'latenciesMs'>;

/** N small edits on A at seeded, jittered gaps, each to its own file; latency = write on A -> bytes on B. */
export async function measureDeviceLatency(workDir: string, edits: number, meanGapMs: number, spec: TreeSpec, seed: string, log: (l: string) => void): Promise<DeviceLatencyResult> {
  const dir = join(workDir, 'two-way-latency');
  const files = Array.from({ length: spec.files }, (_, i) => treePath(spec, i));
  return withTwoDevices(
    dir,
    (cdirA) => (writeTree([cdirA], spec, `two-way:${seed}`), files),
    async (a, b) => {
      const random = seededRandom(`two-way-latency:${seed}`);
      const text = new TextStream(`two-way-edits:${seed}`);
      const waits: Promise<number>[] = [];
      for (let i = 0; i < edits; i++) {
        await sleep(meanGapMs * (0.4 + random() * 1.2));
        const path = files[(i * 7919) % files.length]!;
        const bytes = text.next(1000 + Math.floor(random() * 3000));
        const writtenAt = performance.now();
        writeFileSync(join(a.cdir, path), bytes);
        waits.push(arrival(b.cdir, path, bytes, 120_000).then((at) => at - writtenAt));
      }
      const latenciesMs = await Promise.all(waits).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; device B stderr: ${b.stderr.slice(-1500)}`, { cause: err });
      });
      const result = { edits, meanGapMs, treeFiles: spec.files, p50Ms: percentile(latenciesMs, 50), p95Ms: percentile(latenciesMs, 95), maxMs: Math.max(...latenciesMs), latenciesMs };
      log(`  two-way latency A -> B: p50 ${result.p50Ms.toFixed(0)} ms, p95 ${result.p95Ms.toFixed(0)} ms over ${edits} edits`);
      return result;
    },
  );
}

export interface PullBytesResult {
  fileBytes: number;
  editBytes: number;
  /** Device A's upload of the edit (sent + received). */
  push: WireCount;
  /** Device B's pull of it (sent + received), from the edit until B's file is equal. */
  pull: WireCount;
  pullMs: number;
  /** rsync pulling the same update from its daemon (sent + received), when rsync is there. */
  rsyncBytes: number | undefined;
}

/** One `editBytes` overwrite in the middle of a `fileBytes` file on A; B's pull measured on B's own proxy. */
export async function measurePullBytes(workDir: string, fileBytes: number, editBytes: number, daemon: RsyncDaemon | undefined, log: (l: string) => void): Promise<PullBytesResult> {
  const dir = join(workDir, 'two-way-pull');
  mkdirSync(dir, { recursive: true });
  const basis = join(dir, 'basis.bin');
  const target = join(dir, 'target.bin');
  writeRandomFile(basis, fileBytes, 'two-way-pull');
  const want = writeEditedFile(basis, fileBytes, target, [{ kind: 'overwrite', byteOffset: Math.floor(fileBytes / 2), length: editBytes }], 'two-way-pull-edit');
  const result = await withTwoDevices(
    dir,
    (cdirA) => (mkdirSync(cdirA, { recursive: true }), copyFileSync(basis, join(cdirA, 'big.bin')), ['big.bin']),
    async (a, b) => {
      a.proxy.take();
      b.proxy.take();
      // Saved the way editors save: a new file renamed over the old one.
      copyFileSync(target, join(dir, 'saving.tmp'));
      const savedAt = performance.now();
      renameSync(join(dir, 'saving.tmp'), join(a.cdir, 'big.bin'));
      const arrived = await until(holds(join(b.cdir, 'big.bin'), want), 'device B to pull the edited big.bin', 120_000, () => b.stderr);
      return { fileBytes, editBytes, push: a.proxy.take(), pull: b.proxy.take(), pullMs: arrived - savedAt, rsyncBytes: undefined as number | undefined };
    },
  );
  if (daemon) result.rsyncBytes = await rsyncPullBytes(dir, daemon, basis, target);
  const pulled = result.pull.sentBytes + result.pull.receivedBytes;
  log(`  two-way pull after a ${editBytes} B edit in ${fileBytes} B: ${pulled} B on B's wire (${((pulled / fileBytes) * 100).toFixed(3)}% of the file); rsync ${result.rsyncBytes ?? 'n/a'} B`);
  return result;
}

/** `rsync -a --no-whole-file` pulling `target` from the daemon over a local copy of `basis`: wire bytes. */
async function rsyncPullBytes(dir: string, daemon: RsyncDaemon, basis: string, target: string): Promise<number> {
  const module = join(daemon.root, 'two-way-pull');
  mkdirSync(module, { recursive: true });
  copyFileSync(target, join(module, 'big.bin'));
  const local = join(dir, 'rsync-local');
  mkdirSync(local, { recursive: true });
  copyFileSync(basis, join(local, 'big.bin'));
  const proxy = await ByteCountingProxy.start(daemon.port);
  try {
    // -I: the two copies may share size and mtime second; the delta transfer must run anyway.
    await runCommand('rsync', ['-a', '-I', '--no-whole-file', `rsync://127.0.0.1:${proxy.port}/bench/two-way-pull/`, `${local}/`], dir);
    const wire = proxy.take();
    if (hashFile(join(local, 'big.bin')).sha256 !== hashFile(target).sha256) throw new Error('rsync pull did not produce the target');
    return wire.sentBytes + wire.receivedBytes;
  } finally {
    await proxy.close();
  }
}
