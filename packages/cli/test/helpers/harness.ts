/**
 * End-to-end harness: a real server on 127.0.0.1 (port 0 or a fixed one, so it can be stopped and
 * restarted), temp folders, tree digests to compare client and server, polling with a deadline, and
 * seeded data. No sleeps to synchronise: tests poll a condition until it holds or the deadline passes.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, createToken } from '@deltabox/server';
import { Scanner } from '@deltabox/scanner';

export interface RunningServer {
  app: FastifyInstance;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts the server on `port` (0 = any free port). */
export async function startServer(sdir: string, port = 0): Promise<RunningServer> {
  const app = await buildServer({ sdir, logger: false });
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { app, port: bound, url: `http://127.0.0.1:${bound}`, close: () => app.close() };
}

export function mintToken(sdir: string, name = 'e2e'): string {
  return createToken(sdir, { name: `${name}-${Math.random().toString(36).slice(2)}` });
}

/**
 * A client folder, a real server on its own folder, a token and a scanner (no watcher, a long interval) that
 * talks to the server directly or through `via` (given the server's URL and the client folder, it returns the
 * URL to use: a proxy's); `sync` scans once and waits until the scanner is idle. Stopped when the test ends.
 */
export async function syncRig(t: Tap.Test, opts: { watch?: boolean; mode?: 'push' | 'two-way'; via?: (serverUrl: string, cdir: string) => Promise<string> } = {}) {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const server = await startServer(sdir);
  const token = mintToken(sdir);
  const url = opts.via === undefined ? server.url : await opts.via(server.url, cdir);
  const scanner = new Scanner({ cdir, server: url, token, watch: opts.watch ?? false, intervalMs: 60_000, ...(opts.mode === undefined ? {} : { mode: opts.mode }) });
  t.teardown(async () => {
    await scanner.stop();
    await server.close();
  });
  const sync = async () => {
    await scanner.scanNow();
    await scanner.waitForIdle();
  };
  return { cdir, sdir, server, token, scanner, sync };
}

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'dbx-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** SHA-256 hex of a file, read in 8 MiB pieces (files over 2 GiB cannot be read whole). */
export function hashFile(file: string): string {
  const hasher = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hasher.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hasher.digest('hex');
}

export interface TreeEntry {
  type: 'file' | 'dir';
  hash?: string;
  executable?: boolean;
  mtimeMs?: number;
}

/** Walks a tree (skipping `.deltabox`) and digests every entry: type, content hash, executable bit, whole-ms mtime. */
export function treeDigest(root: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(rel ? join(root, rel) : root)) {
      const path = rel ? `${rel}/${name}` : name;
      if (path === '.deltabox') continue;
      const st = lstatSync(join(root, path));
      if (st.isDirectory()) {
        out[path.normalize('NFC')] = { type: 'dir' };
        walk(path);
      } else if (st.isFile()) {
        const hash = hashFile(join(root, path));
        out[path.normalize('NFC')] = { type: 'file', hash, executable: (st.mode & 0o111) !== 0, mtimeMs: Math.trunc(st.mtimeMs) };
      }
    }
  };
  walk('');
  return out;
}

/** The client tree as the server should mirror it: without what the scanner ignores or skips. */
export function expectedDigest(cdir: string, skip: (path: string) => boolean = () => false): Record<string, TreeEntry> {
  const all = treeDigest(cdir);
  return Object.fromEntries(Object.entries(all).filter(([p]) => !skip(p)));
}

/** Polls `check` until it returns true, or fails with `message` and the last detail after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Differences between the client tree (less `skip`ped paths) and the server tree, one line each; empty when
 * the server mirrors the client. mtimes may differ by 1 ms: the server sets them through utimes(), whose
 * float seconds can land a hair below the integer millisecond (the server's index keeps the exact value).
 */
export function treeDifferences(cdir: string, sdir: string, skip?: (path: string) => boolean): string[] {
  const want = expectedDigest(cdir, skip);
  const have = treeDigest(sdir);
  const out: string[] = [];
  for (const path of new Set([...Object.keys(want), ...Object.keys(have)])) {
    const a = want[path];
    const b = have[path];
    if (!a || !b) out.push(`${path}: ${a ? 'missing on the server' : 'extra on the server'}`);
    else if (a.type !== b.type || a.hash !== b.hash || a.executable !== b.executable) out.push(`${path}: differs`);
    else if (a.mtimeMs !== undefined && Math.abs(a.mtimeMs - b.mtimeMs!) > 1) out.push(`${path}: mtime ${a.mtimeMs} vs ${b.mtimeMs}`);
  }
  return out.sort();
}

/** True when the server folder mirrors the client folder. */
export function mirrors(cdir: string, sdir: string, skip?: (path: string) => boolean): boolean {
  return treeDifferences(cdir, sdir, skip).length === 0;
}

export function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Deterministic bytes from a seed (xorshift32), fast enough for hundreds of MiB. */
export function seededBytes(seed: number, length: number): Buffer {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, length);
}

/** Writes `length` seeded bytes to `file` in 8 MiB pieces (bounded memory for large files). */
export function writeSeededFile(file: string, seed: number, length: number): void {
  const fd = openSync(file, 'w');
  try {
    const piece = 8 * 1024 * 1024;
    for (let off = 0, n = 0; off < length; off += piece, n++) writeSync(fd, seededBytes(seed + n, Math.min(piece, length - off)));
  } finally {
    closeSync(fd);
  }
}

/** The server's change journal (to count uploads per path). */
export async function journal(url: string, token: string): Promise<Array<{ op: string; path: string }>> {
  const res = await fetch(`${url}/v1/changes?since=0`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { changes: Array<{ op: string; path: string }> };
  return body.changes;
}
