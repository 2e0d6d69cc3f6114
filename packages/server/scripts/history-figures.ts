/**
 * Figures for version history (issue 13), printed as JSON:
 * 1. Disk used by history after a simulated week of edits: FILES files of FILE_KIB KiB; every simulated
 *    hour for 7 days, EDITS_PER_HOUR of them (chosen by a seeded PRNG) get one 4 KiB block rewritten and are
 *    uploaded whole (PUT); the pruner runs every simulated hour with the default policy; fake clock.
 * 2. Restore time of a 1 GiB file: 1 GiB uploaded, replaced by a small file, then restored from its
 *    version object (streamed copy + SHA-256 + fsync), wall time.
 * Run: node --import=tsx --conditions=deltabox-src scripts/history-figures.ts [--skip-restore]
 */
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildApp } from '../src/index.js';
import type { Mirror } from '../src/mirror.js';
import type { Pruner } from '../src/history/pruner.js';
import { restoreFile } from '../src/history/restore.js';

const FILES = 100;
const FILE_KIB = 64;
const EDITS_PER_HOUR = 10;
const HOURS = 7 * 24;

function du(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    total += name.isDirectory() ? du(p) : statSync(p).blocks * 512;
  }
  return total;
}

let seed = 42;
const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

async function open(sdir: string, clock: { now: number }): Promise<{ mirror: Mirror; pruner: Pruner; close: () => Promise<void> }> {
  let parts: { mirror: Mirror; pruner: Pruner } | undefined;
  const app = await buildApp({ sdir }, { clock: () => clock.now, inspect: (p) => (parts = p) });
  parts!.pruner.stop();
  return { ...parts!, close: () => app.close() };
}

async function put(mirror: Mirror, path: string, bytes: Buffer): Promise<void> {
  await mirror.putFile(path, Readable.from([bytes]), { device: 'sim' });
}

async function weekOfEdits(): Promise<Record<string, number | string>> {
  const base = mkdtempSync(join(tmpdir(), 'dbx-hist-week-'));
  const clock = { now: Date.UTC(2026, 0, 1) };
  const { mirror, pruner, close } = await open(join(base, 's'), clock);
  const contents: Buffer[] = [];
  for (let i = 0; i < FILES; i++) {
    contents.push(Buffer.alloc(FILE_KIB * 1024, i));
    await put(mirror, `f${i}.bin`, contents[i]!);
  }
  for (let h = 0; h < HOURS; h++) {
    clock.now += 3_600_000;
    for (let e = 0; e < EDITS_PER_HOUR; e++) {
      const i = Math.floor(rand() * FILES);
      const block = Math.floor(rand() * FILE_KIB / 4);
      contents[i]!.fill(Math.floor(rand() * 256), block * 4096, block * 4096 + 4096);
      await put(mirror, `f${i}.bin`, contents[i]!);
    }
    await pruner.run();
  }
  const rows = mirror.versions.all().length;
  const historyBytes = du(join(base, 's', '.deltabox', 'versions'));
  await close();
  rmSync(base, { recursive: true, force: true });
  return {
    simulation: `${FILES} files x ${FILE_KIB} KiB; ${EDITS_PER_HOUR} edits/h (one 4 KiB block, whole-file PUT) for 7 days; default retention, pruned hourly`,
    liveBytes: FILES * FILE_KIB * 1024,
    edits: HOURS * EDITS_PER_HOUR,
    versionRowsKept: rows,
    historyDiskBytes: historyBytes,
    historyToLiveRatio: Number((historyBytes / (FILES * FILE_KIB * 1024)).toFixed(2)),
  };
}

async function restore1GiB(): Promise<Record<string, number>> {
  const base = mkdtempSync(join(tmpdir(), 'dbx-hist-1g-'));
  const clock = { now: Date.UTC(2026, 0, 1) };
  const { mirror, close } = await open(join(base, 's'), clock);
  const chunk = Buffer.alloc(8 * 2 ** 20);
  async function* gib(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 128; i++) {
      chunk.fill(i);
      yield chunk;
    }
  }
  await mirror.putFile('big.bin', gib(), {}, 2 ** 31);
  clock.now += 1000;
  await put(mirror, 'big.bin', Buffer.from('small'));
  const [old] = mirror.versions.ofPath('big.bin');
  const t0 = performance.now();
  await restoreFile(mirror, 'big.bin', { versionId: old!.id }, undefined);
  const restoreMs = performance.now() - t0;
  await close();
  rmSync(base, { recursive: true, force: true });
  return { bytes: 2 ** 30, restoreMs: Math.round(restoreMs), mibPerSecond: Math.round(1024 / (restoreMs / 1000)) };
}

const out: Record<string, unknown> = { week: await weekOfEdits() };
if (!process.argv.includes('--skip-restore')) out.restore1GiB = await restore1GiB();
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
