/**
 * A staged file of the local backend: written and hashed in `<root>/.deltabox/tmp`, given its mode and
 * mtime and fsynced (seal), then renamed into place (place) and its folders fsynced (settle). If the
 * caller's record step fails right after the rename, the previous version comes back from a hard link
 * taken just before it (undo).
 */
import { createHash } from 'node:crypto';
import { fstatSync, futimesSync, renameSync, writeSync, type Stats } from 'node:fs';
import { link, lstat, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { utimesArg } from '@deltabox/protocol';
import type { CommitMeta, FolderMemo, Placement, StagedFile, StorageEntry } from './storage.js';
import { StorageError, fromFsError } from './storage-error.js';
import { absolutePath, checkParents, kindAt } from './safe-path.js';
import type { DirSyncer } from './dir-sync.js';

/** The mode of a committed file; staged files are created with it (storage.stage). */
export const FILE_MODE = 0o644;
const EXEC_MODE = 0o755;

/** The whole milliseconds the index keeps for a requested mtime: toward zero, as clients compare them. */
export function wholeMs(mtimeMs: number): number {
  return Math.trunc(mtimeMs) + 0; // + 0 turns -0 into 0
}

export function entryOf(path: string, st: { isDirectory(): boolean; size: number; mtimeMs: number; mode: number; ino: number }): StorageEntry {
  if (st.isDirectory()) return { path, type: 'dir', size: 0, mtimeMs: Math.round(st.mtimeMs), executable: false };
  // The double mtimeMs keeps a fraction of a microsecond: a hand edit in the same millisecond still moves it.
  // ctime is left out on purpose: the rename that publishes a staged file changes it (ext4).
  const statToken = `${st.ino}:${st.mtimeMs}`;
  return { path, type: 'file', size: st.size, mtimeMs: Math.round(st.mtimeMs), executable: (st.mode & 0o111) !== 0, statToken };
}

/** fsyncs the folders holding newly created folders, so a crash cannot lose them. */
export async function syncParents(dirSync: DirSyncer, root: string, createdRel: string[]): Promise<void> {
  const parents = new Set(createdRel.map((p) => dirname(absolutePath(root, p))));
  await Promise.all([...parents].map((d) => dirSync.sync(d)));
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/**
 * Bytes written between early fdatasyncs of a staged file. Small files never reach it (their one fsync is
 * the seal's); a 256 MiB file gets eight, each overlapping the writes after it.
 */
const WRITEBACK_EVERY = 32 * 1024 * 1024;

export class LocalStagedFile implements StagedFile {
  readonly #root: string;
  readonly #tmpPath: string;
  readonly #dirSync: DirSyncer;
  #fh: FileHandle | undefined;
  readonly #hash = createHash('sha256');
  #size = 0;
  #done = false;
  #sealing: { meta: CommitMeta; stats: Promise<Stats> } | undefined;
  /** An early fdatasync in flight (WRITEBACK_EVERY), so the seal's fsync has little left to write. */
  #writeback: Promise<void> | undefined;
  #writebackAt = WRITEBACK_EVERY;
  #writebackError: unknown;

  constructor(root: string, tmpPath: string, fh: FileHandle, dirSync: DirSyncer) {
    this.#root = root;
    this.#tmpPath = tmpPath;
    this.#fh = fh;
    this.#dirSync = dirSync;
  }

  get size(): number {
    return this.#size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.#fh || this.#sealing) throw new Error('staged file already sealed, committed or discarded');
    // A large chunk: the thread pool writes while this thread hashes the same bytes (both only read them). A
    // small one is written here first (SYNC_WRITE_MAX). A failed write fails the call, and the caller discards
    // the staged file, hash and all.
    const written = chunk.length <= SYNC_WRITE_MAX ? writeAllSync(this.#fh.fd, chunk) : writeAll(this.#fh, chunk);
    this.#hash.update(chunk);
    try {
      await written;
    } catch (err) {
      throw fromFsError(err, ''); // the staged file's own path is the server's business
    }
    this.#size += chunk.length;
    if (this.#size >= this.#writebackAt && this.#writeback === undefined) {
      // A large file's pages go to disk while the rest still arrives (a streamed delta, a big upload): the
      // fsync at the seal then waits for the last stretch only, not for the whole file. A failure is kept and
      // fails the seal: after a failed fsync Linux may report the next one as a success with the pages lost.
      this.#writebackAt = this.#size + WRITEBACK_EVERY;
      const fh = this.#fh;
      this.#writeback = fh.datasync().then(
        () => {
          this.#writeback = undefined;
        },
        (err: unknown) => {
          this.#writebackError ??= err;
          this.#writeback = undefined;
        },
      );
    }
  }

  digest(): string {
    return this.#hash.copy().digest('hex');
  }

  seal(meta: CommitMeta): Promise<void> {
    return this.#sealed(meta).then(() => undefined);
  }

  /** The stats of the sealed file, sealing it with `meta` first if nobody did. */
  #sealed(meta: CommitMeta): Promise<Stats> {
    if (this.#sealing) {
      const m = this.#sealing.meta;
      if (m.executable !== meta.executable || m.mtimeMs !== meta.mtimeMs) throw new Error('staged file was sealed with other metadata');
      return this.#sealing.stats;
    }
    const fh = this.#fh;
    if (!fh) throw new Error('staged file already committed or discarded');
    this.#sealing = { meta, stats: this.#seal(fh, meta) };
    return this.#sealing.stats;
  }

  async place(path: string, meta: CommitMeta, folders?: FolderMemo): Promise<Placement> {
    if (this.#done) throw new Error('staged file already committed or discarded');
    try {
      const sealed = entryOf(path, await this.#sealed(meta));
      // The index keeps the mtime the client asked for, even where the filesystem could not hold it (ext4
      // with small inodes stops at 1901-12-13): otherwise the client would see a difference and upload again.
      const entry = meta.mtimeMs === undefined ? sealed : { ...sealed, mtimeMs: wholeMs(meta.mtimeMs) };
      const created = await checkParents(this.#root, path, true, folders);
      const createdDirs: StorageEntry[] = [];
      for (const p of created) createdDirs.push(entryOf(p, await lstat(absolutePath(this.#root, p))));
      const existing = (await kindAt(this.#root, path)).kind;
      if (existing === 'dir') throw new StorageError('TYPE_CONFLICT', `'${path}' is a folder`);
      const abs = absolutePath(this.#root, path);
      // A hard link to the version being replaced: undo() puts it back, settle() drops it.
      const backup = existing === 'file' ? `${this.#tmpPath}.previous` : undefined;
      if (backup) await link(abs, backup);
      try {
        renameSync(this.#tmpPath, abs); // on this thread: see #seal's futimes
      } catch (err) {
        if (backup) await unlinkIfPresent(backup);
        throw err;
      }
      this.#done = true;
      return {
        entry,
        createdDirs,
        undo: async () => {
          if (backup) await rename(backup, abs);
          else await unlinkIfPresent(abs);
        },
        settle: async () => {
          if (backup) await unlinkIfPresent(backup);
          await syncParents(this.#dirSync, this.#root, created);
          await this.#dirSync.sync(dirname(abs));
        },
      };
    } catch (err) {
      await this.discard();
      throw fromFsError(err, path);
    }
  }

  async commit(
    path: string,
    meta: CommitMeta,
    publish?: (entry: StorageEntry, createdDirs: StorageEntry[]) => void,
  ): Promise<{ entry: StorageEntry; createdDirs: StorageEntry[] }> {
    const placed = await this.place(path, meta);
    try {
      publish?.(placed.entry, placed.createdDirs);
    } catch (err) {
      await placed.undo();
      await placed.settle();
      throw err;
    }
    await placed.settle();
    return { entry: placed.entry, createdDirs: placed.createdDirs };
  }

  /**
   * Mtime, mode, fsync, close; returns the final stats (neither the fsync nor a rename changes them). The file
   * was created with FILE_MODE (storage.stage), so under the usual umask only executables need a chmod.
   */
  async #seal(fh: FileHandle, meta: CommitMeta): Promise<Stats> {
    try {
      await this.#writeback;
      if (this.#writebackError !== undefined) throw fromFsError(this.#writebackError, '');
      // On this thread, as the fstat below: setting two times costs the kernel microseconds, less than a pool
      // round trip costs this thread when the pool is busy with fsyncs (it wakes a thread on a 2-core machine).
      if (meta.mtimeMs !== undefined) futimesSync(fh.fd, new Date(), utimesArg(meta.mtimeMs));
      // fstat on this thread: the inode is in memory, a pool round trip costs more than the call.
      let stats = fstatSync(fh.fd);
      const mode = meta.executable ? EXEC_MODE : FILE_MODE;
      if ((stats.mode & 0o7777) !== mode) {
        await fh.chmod(mode);
        stats = fstatSync(fh.fd);
      }
      await fh.sync();
      return stats;
    } finally {
      if (this.#fh === fh) this.#fh = undefined;
      await fh.close().catch(() => undefined);
    }
  }

  async discard(): Promise<void> {
    await this.#sealing?.stats.catch(() => undefined); // a seal in flight closes the file itself
    await this.#writeback;
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => undefined);
    if (this.#done) return;
    this.#done = true;
    await unlink(this.#tmpPath).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
  }
}

/**
 * Chunks up to this size are written on this thread: a small file's write costs the kernel a few microseconds
 * (a page-cache copy), less than a pool round trip. Larger ones go to the pool, hashed meanwhile.
 */
const SYNC_WRITE_MAX = 64 * 1024;

/** writeAll on this thread, as a settled promise (write() awaits either kind alike). */
function writeAllSync(fd: number, chunk: Uint8Array): Promise<void> {
  try {
    let offset = 0;
    while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Writes all of `chunk` at the file's position. */
async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
