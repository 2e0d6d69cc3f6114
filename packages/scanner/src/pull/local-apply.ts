/**
 * Changes the client folder on the server's behalf, carefully (docs/SYNC.md §Pull, carefully): a download
 * goes to a temp file in the state folder, is hash-checked, fsynced, given mtime and mode, and renamed over
 * its target only when the target is still what the last scan recorded. Deletes and renames make the same
 * check. It decides nothing about which change to make (merge-plan.ts) and keeps no state itself.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, rmdirSync, unlinkSync, utimesSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { utimesArg } from '@deltabox/protocol';
import type { LocalEntry } from '../detect/change-detector.js';

/** The local file (or folder) is not what the last scan recorded: leave it to the next scan. */
export class LocalChangedError extends Error {
  constructor(path: string) {
    super(`${path} changed since the last scan; not replaced (the next scan sends it)`);
    this.name = 'LocalChangedError';
  }
}

/** True when `st` is the version the scan recorded as `row` (or nothing is there and nothing was recorded). */
export function stillRecorded(st: Stats | undefined, row: LocalEntry | undefined): boolean {
  if (row === undefined || st === undefined) return row === undefined && st === undefined;
  if (row.type === 'dir') return st.isDirectory();
  return st.isFile() && st.size === row.size && st.mtimeMs === row.mtimeMs && st.ino === row.ino;
}

/** A local row for what is at `path` now (after this module wrote it). */
export function rowOf(path: string, st: Stats, hash?: string): LocalEntry {
  const row: LocalEntry = {
    path,
    diskPath: path,
    type: st.isDirectory() ? 'dir' : 'file',
    size: st.isDirectory() ? 0 : st.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    mode: st.mode & 0o7777,
    racy: false,
  };
  if (hash !== undefined) row.hash = hash;
  return row;
}

export interface StagedFile {
  tmpPath: string;
  hash: string;
  size: number;
}

/**
 * Writes `body` to a temp file in `tmpDir`, hashing it, then fsyncs it and sets mtime and the executable
 * bit. The caller renames it into place with `placeFile` or discards it with `discardStaged`.
 */
export async function stageFile(tmpDir: string, body: AsyncIterable<Uint8Array>, mtimeMs: number | undefined, executable: boolean, hasher: Hash = createHash('sha256')): Promise<StagedFile> {
  const tmpPath = join(tmpDir, `pull-${randomBytes(8).toString('hex')}`);
  try {
    return await stageInto(tmpPath, 0, body, mtimeMs, executable, hasher);
  } catch (err) {
    rmSync(tmpPath, { force: true });
    throw err;
  }
}

/** Temp files of downloads that can be resumed start with this (`pull-part-<path key>-<content hash>`). */
export const PART_PREFIX = 'pull-part-';

/**
 * The temp file a download of `path`'s version `hash` is written to, kept when the download is cut so the next
 * attempt asks only for the rest.
 */
export function partFileName(path: string, hash: string): string {
  return `${PART_PREFIX}${createHash('sha256').update(path).digest('hex').slice(0, 24)}-${hash.slice(0, 24)}`;
}

/**
 * Like stageFile, into `partPath`, whose first `prefix` bytes are already the download's (hashed from the file,
 * then `body`, the rest, is appended). A failure leaves the file as far as it got, for a resume; the final hash
 * check catches a part that is not what it should be (a power cut may leave it with zeros), and the caller
 * then discards it. `hasher` (fresh by default) hashes each chunk of `body` before the next is asked for, so a
 * patch that yields `body` may check its result against it (core PatchOptions.consumerSha256).
 */
export async function stageInto(partPath: string, prefix: number, body: AsyncIterable<Uint8Array>, mtimeMs: number | undefined, executable: boolean, hasher: Hash = createHash('sha256')): Promise<StagedFile> {
  let size = 0;
  const handle = await open(partPath, prefix > 0 ? 'r+' : 'w', executable ? 0o755 : 0o644);
  try {
    if (prefix > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(prefix, 1 << 20));
      while (size < prefix) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, prefix - size), size);
        if (bytesRead === 0) throw new Error(`${partPath} is shorter than the ${prefix} bytes it held`);
        hasher.update(buffer.subarray(0, bytesRead));
        size += bytesRead;
      }
      await handle.truncate(prefix);
    }
    for await (const chunk of body) {
      hasher.update(chunk);
      await handle.write(chunk, 0, chunk.length, size);
      size += chunk.length;
    }
    await handle.sync();
  } finally {
    await handle.close().catch(() => {});
  }
  chmodSync(partPath, executable ? 0o755 : 0o644);
  if (mtimeMs !== undefined) utimesSync(partPath, new Date(), utimesArg(mtimeMs));
  return { tmpPath: partPath, hash: hasher.digest('hex'), size };
}

export function discardStaged(staged: StagedFile): void {
  rmSync(staged.tmpPath, { force: true });
}

/**
 * Renames a staged file over `root/path` when what is there is still `expected` (the last scan's row, or
 * nothing), and returns the new file's stat. @throws LocalChangedError (the staged file is left in place)
 */
export function placeFile(root: string, path: string, staged: StagedFile, expected: LocalEntry | undefined): Stats {
  const abs = join(root, expected?.diskPath ?? path);
  if (!stillRecorded(lstatSync(abs, { throwIfNoEntry: false }), expected)) throw new LocalChangedError(path);
  mkdirSync(dirname(abs), { recursive: true });
  renameSync(staged.tmpPath, abs);
  return lstatSync(abs);
}

/** Deletes a file that is still `expected`. @throws LocalChangedError */
export function deleteFile(root: string, expected: LocalEntry): void {
  const abs = join(root, expected.diskPath);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (st === undefined) return;
  if (!stillRecorded(st, expected)) throw new LocalChangedError(expected.path);
  unlinkSync(abs);
}

/** Removes an empty folder; false when it still holds something (kept). */
export function removeEmptyDir(root: string, row: LocalEntry): boolean {
  try {
    rmdirSync(join(root, row.diskPath));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

/** Renames `from` (still `expected`) to the free path `to`, making parents. @throws LocalChangedError */
export function renameEntry(root: string, expected: LocalEntry, to: string): Stats {
  const abs = join(root, expected.diskPath);
  if (!stillRecorded(lstatSync(abs, { throwIfNoEntry: false }), expected)) throw new LocalChangedError(expected.path);
  const target = join(root, to);
  if (lstatSync(target, { throwIfNoEntry: false }) !== undefined) throw new LocalChangedError(to);
  mkdirSync(dirname(target), { recursive: true });
  renameSync(abs, target);
  return lstatSync(target);
}
