/**
 * The local-folder Storage backend: the mirror is a plain folder; staged files live in
 * `<root>/.deltabox/tmp` (same filesystem, so commit is a rename) and are fsynced before they appear.
 * Never follows a symlink (safe-path.ts, O_NOFOLLOW). No locking: the caller serializes per path.
 */
import { randomBytes } from 'node:crypto';
import { constants, lstatSync } from 'node:fs';
import { open, readdir, rename, rm, rmdir, unlink, lstat, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { STATE_DIR, isValidRelativePath } from '@deltabox/protocol';
import type { FolderMemo, KeepExpectation, KeptObject, ReadHandle, StagedFile, Storage, StorageEntry } from './storage.js';
import { LocalReadHandle } from './local-read-handle.js';
import { LocalVersionObjects } from './local-version-objects.js';
import { StorageError, fromFsError } from './storage-error.js';
import { absolutePath, checkParents, ensureDir, kindAt } from './safe-path.js';
import { DirSyncer } from './dir-sync.js';
import { FILE_MODE, LocalStagedFile, entryOf, syncParents } from './local-staged-file.js';

const STAGED_SUFFIX = '.staged';

export class LocalStorage implements Storage {
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #dirSync = new DirSyncer();
  readonly #versions: LocalVersionObjects;
  readonly #stagePrefix = randomBytes(12).toString('hex');
  #staged = 0;

  /** `root` must be an absolute, symlink-free path (the server passes realpath(sdir)). */
  constructor(root: string) {
    this.#root = root;
    this.#tmpDir = join(root, STATE_DIR, 'tmp');
    this.#versions = new LocalVersionObjects(root, join(root, STATE_DIR, 'versions'), this.#dirSync);
  }

  async stat(path: string, folders?: FolderMemo): Promise<StorageEntry | undefined> {
    if (!(await checkParents(this.#root, path, false, folders))) return undefined;
    const { kind, stats } = await kindAt(this.#root, path);
    return kind === 'missing' ? undefined : entryOf(path, stats!);
  }

  async *walk(): AsyncIterable<StorageEntry> {
    yield* this.#walkDir('');
  }

  async *#walkDir(rel: string): AsyncGenerator<StorageEntry> {
    const abs = rel ? join(this.#root, ...rel.split('/')) : this.#root;
    const names = (await readdir(abs)).sort().filter((name) => {
      if (!rel && name === STATE_DIR) return false;
      return name === name.normalize('NFC') && isValidRelativePath(rel ? `${rel}/${name}` : name);
    });
    // One folder's lstats at once: the verification pass over a big tree is bound by their round trips.
    const stats = await Promise.all(names.map((name) => lstat(join(abs, name)).catch(() => undefined)));
    for (const [i, name] of names.entries()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = stats[i];
      if (!st || !(st.isFile() || st.isDirectory())) continue;
      yield entryOf(childRel, st);
      if (st.isDirectory()) yield* this.#walkDir(childRel);
    }
  }

  async open(path: string): Promise<ReadHandle> {
    if (!(await checkParents(this.#root, path, false))) throw new StorageError('NOT_FOUND', `'${path}' does not exist`);
    let fh: FileHandle;
    try {
      fh = await open(absolutePath(this.#root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw fromFsError(err, path);
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      if (st.isDirectory()) throw new StorageError('TYPE_CONFLICT', `'${path}' is a folder`);
      throw new StorageError('SYMLINK', `'${path}' is a special file`);
    }
    return new LocalReadHandle(fh, entryOf(path, st));
  }

  /**
   * Makes sure the staging folder is a real folder inside the state folder. A symlink planted there would
   * send staged bytes (and the startup sweep's deletions) outside the root: it is removed, not followed.
   */
  async #ensureTmpDir(): Promise<void> {
    const st = lstatSync(this.#tmpDir, { throwIfNoEntry: false }); // on this thread, as safe-path.ts lstats
    if (st?.isDirectory()) return;
    if (st) await unlink(this.#tmpDir);
    const stateDir = dirname(this.#tmpDir);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    if (!(await lstat(stateDir)).isDirectory()) throw new StorageError('SYMLINK', 'the state folder is not a real folder');
    await mkdir(this.#tmpDir, { mode: 0o700 });
  }

  async stage(): Promise<StagedFile> {
    await this.#ensureTmpDir();
    // Unique per process by the counter, across processes by the random prefix; O_EXCL refuses any clash.
    const tmpPath = join(this.#tmpDir, `${this.#stagePrefix}-${++this.#staged}${STAGED_SUFFIX}`);
    // Created with the mode it is committed with (the staging folder is owner-only), so seal needs no chmod.
    const fh = await open(tmpPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
    return new LocalStagedFile(this.#root, tmpPath, fh, this.#dirSync);
  }

  async removeFile(path: string): Promise<void> {
    const { kind } = await this.#existing(path);
    if (kind === 'dir') throw new StorageError('TYPE_CONFLICT', `'${path}' is a folder`);
    const abs = absolutePath(this.#root, path);
    await unlink(abs).catch((err) => Promise.reject(fromFsError(err, path)));
    await this.#dirSync.sync(dirname(abs));
  }

  async move(from: string, to: string, opts: { overwrite: boolean }): Promise<{ createdDirs: StorageEntry[] }> {
    const { kind } = await this.#existing(from);
    if (to === from || to.startsWith(`${from}/`)) throw new StorageError('TYPE_CONFLICT', `cannot move '${from}' into itself`);
    const target = (await checkParents(this.#root, to, false)) ? (await kindAt(this.#root, to)).kind : 'missing';
    if (target === 'dir') throw new StorageError('ALREADY_EXISTS', `a folder is at '${to}'`);
    if (target === 'file' && (!opts.overwrite || kind === 'dir')) throw new StorageError('ALREADY_EXISTS', `'${to}' exists`);
    const created = await checkParents(this.#root, to, true);
    const absFrom = absolutePath(this.#root, from);
    const absTo = absolutePath(this.#root, to);
    await rename(absFrom, absTo).catch((err) => Promise.reject(fromFsError(err, to)));
    await syncParents(this.#dirSync, this.#root, created);
    await this.#dirSync.sync(dirname(absTo));
    if (dirname(absFrom) !== dirname(absTo)) await this.#dirSync.sync(dirname(absFrom));
    return { createdDirs: await this.#entries(created) };
  }

  async makeDir(path: string): Promise<StorageEntry[]> {
    const created = await checkParents(this.#root, path, true);
    if ((await ensureDir(this.#root, path, true)) === 'created') created.push(path);
    await syncParents(this.#dirSync, this.#root, created);
    return this.#entries(created);
  }

  async removeDir(path: string, opts: { recursive: boolean }): Promise<void> {
    const { kind } = await this.#existing(path);
    if (kind === 'file') throw new StorageError('TYPE_CONFLICT', `'${path}' is a file`);
    const abs = absolutePath(this.#root, path);
    if (!opts.recursive) {
      await rmdir(abs).catch((err) => Promise.reject(fromFsError(err, path)));
    } else {
      // Rename first: readers see the whole subtree vanish at once; the slow delete happens out of sight.
      await this.#ensureTmpDir();
      const trash = join(this.#tmpDir, randomBytes(12).toString('hex') + '.trash');
      await rename(abs, trash).catch((err) => Promise.reject(fromFsError(err, path)));
      await rm(trash, { recursive: true, force: true });
    }
    await this.#dirSync.sync(dirname(abs));
  }

  async sweepStaged(): Promise<number> {
    await this.#ensureTmpDir();
    const names = await readdir(this.#tmpDir);
    await Promise.all(names.map((n) => rm(join(this.#tmpDir, n), { recursive: true, force: true })));
    return names.length;
  }

  /** Kind of an existing entry. @throws NOT_FOUND, SYMLINK, TYPE_CONFLICT */
  async #existing(path: string): Promise<{ kind: 'file' | 'dir' }> {
    const parentsOk = await checkParents(this.#root, path, false);
    const kind = parentsOk ? (await kindAt(this.#root, path)).kind : 'missing';
    if (kind === 'missing') throw new StorageError('NOT_FOUND', `'${path}' does not exist`);
    return { kind };
  }

  async #entries(paths: string[]): Promise<StorageEntry[]> {
    const out: StorageEntry[] = [];
    for (const p of paths) out.push(entryOf(p, await lstat(absolutePath(this.#root, p))));
    return out;
  }

  async keepVersion(path: string, expected: KeepExpectation): Promise<KeptObject> {
    const { kind } = await this.#existing(path);
    if (kind === 'dir') throw new StorageError('TYPE_CONFLICT', `'${path}' is a folder`);
    return this.#versions.keep(path, expected);
  }

  openVersion(hash: string): Promise<ReadHandle> {
    return this.#versions.open(hash);
  }

  removeVersion(hash: string): Promise<void> {
    return this.#versions.remove(hash);
  }

  listVersions(): AsyncIterable<string> {
    return this.#versions.list();
  }
}
