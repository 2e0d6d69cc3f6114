/**
 * The local backend's version store: one file per content, `<root>/.deltabox/versions/ab/cdef…` (the
 * SHA-256 hex split after two digits). A version is kept by hard-linking the live file there before the
 * mirror replaces or removes it, so no byte is copied; where the file system refuses hard links the bytes
 * are copied (streamed) instead. Objects are immutable: nothing writes into one after it is linked,
 * because the live name is replaced by a rename (a new inode) or unlinked right after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeepExpectation, KeptObject, ReadHandle } from './storage.js';
import { StorageError, fromFsError } from './storage-error.js';
import { absolutePath } from './safe-path.js';
import type { DirSyncer } from './dir-sync.js';
import { entryOf } from './local-staged-file.js';
import { LocalReadHandle } from './local-read-handle.js';

const HASH = /^[0-9a-f]{64}$/;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function sha256Of(abs: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class LocalVersionObjects {
  constructor(
    readonly root: string,
    /** `<root>/.deltabox/versions`: inside the root, so a link never crosses file systems. */
    readonly dir: string,
    readonly dirSync: DirSyncer,
  ) {}

  objectPath(hash: string): string {
    if (!HASH.test(hash)) throw new StorageError('NOT_FOUND', `'${hash}' is not a version hash`);
    return join(this.dir, hash.slice(0, 2), hash.slice(2));
  }

  /** See Storage.keepVersion; the caller checked that a file is at `path`. */
  async keep(path: string, expected: KeepExpectation): Promise<KeptObject> {
    const abs = absolutePath(this.root, path);
    const st = await lstat(abs).catch((err) => Promise.reject(fromFsError(err, path)));
    const e = entryOf(path, st);
    const unchanged = e.size === expected.size && e.mtimeMs === expected.mtimeMs;
    const hash = unchanged ? expected.hash : await sha256Of(abs);
    const target = this.objectPath(hash);
    if (await lstat(target).then(() => true, (err) => (isMissing(err) ? false : Promise.reject(err)))) return { hash, size: e.size, created: false };
    const shard = join(this.dir, hash.slice(0, 2));
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const madeShard = await mkdir(shard, { mode: 0o700 }).then(() => true, (err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? false : Promise.reject(err)));
    try {
      await link(abs, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return { hash, size: e.size, created: false };
      if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EMLINK') throw fromFsError(err, path);
      // No hard links here: copy into a temporary name, fsync, then rename into place.
      const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await copyFile(abs, tmp).catch((e2) => Promise.reject(fromFsError(e2, path)));
      const fh = await open(tmp, constants.O_RDONLY);
      await fh.sync().finally(() => fh.close());
      await rename(tmp, target);
    }
    await this.dirSync.sync(shard);
    if (madeShard) await this.dirSync.sync(this.dir);
    return { hash, size: e.size, created: true };
  }

  async open(hash: string): Promise<ReadHandle> {
    const abs = this.objectPath(hash);
    let fh;
    try {
      fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (isMissing(err)) throw new StorageError('NOT_FOUND', `version ${hash} is not stored`);
      throw err;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new StorageError('NOT_FOUND', `version ${hash} is not a file`);
    }
    return new LocalReadHandle(fh, entryOf(hash, st));
  }

  async remove(hash: string): Promise<void> {
    await unlink(this.objectPath(hash)).catch((err) => (isMissing(err) ? undefined : Promise.reject(err)));
  }

  async *list(): AsyncGenerator<string> {
    const shards = await readdir(this.dir).catch((err) => (isMissing(err) ? [] : Promise.reject(err)));
    for (const shard of shards.sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await readdir(join(this.dir, shard))) {
        const hash = shard + name;
        if (HASH.test(hash)) yield hash;
        else if (name.endsWith('.tmp')) await unlink(join(this.dir, shard, name)).catch(() => undefined); // a copy cut by a crash
      }
    }
  }
}
