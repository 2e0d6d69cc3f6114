/**
 * A recording layer around node:fs/promises and node:fs for the crash-state test: every call still reaches the real
 * file system, and each one that changes something under the recorded root is logged in program order, with
 * files named by inode (the recorder's own numbers) so data and names can persist apart. A call that changes
 * the tree but is not modelled here throws, so the log can never silently miss an operation.
 * It does not generate crash states: crash-states.ts does.
 */
import * as realFs from 'node:fs/promises';
import * as realFsSync from 'node:fs';
import { constants } from 'node:fs';
import { relative, sep } from 'node:path';

/** One logged operation. Paths are relative to the root, POSIX separators; `inode` numbers a file's content. */
export type FsOp =
  | { op: 'create'; path: string; inode: number }
  | { op: 'write'; inode: number; data: Buffer; position: number }
  | { op: 'chmod'; inode: number; mode: number }
  | { op: 'utimes'; inode: number; atime: unknown; mtime: unknown }
  | { op: 'fsync-file'; inode: number }
  /**
   * An early fdatasync of a staged file (local-staged-file.ts WRITEBACK_EVERY). Logged, and modelled as
   * promising nothing (crash-states.ts): a sync point only removes crash states, so ignoring it keeps every
   * state a real power cut could leave and some it could not: the proof stays sound.
   */
  | { op: 'datasync-file'; inode: number }
  | { op: 'fsync-dir'; path: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  /** A point the test marks: a database commit (its snapshot number) or an acknowledged request. */
  | { op: 'mark'; db?: number; ack?: string };

type FileHandle = realFs.FileHandle;

export class FsRecorder {
  readonly ops: FsOp[] = [];
  #root: string | undefined;
  #nextInode = 1;
  /** Relative path -> inode, for files the log has seen (files of the snapshot get an inode on first use). */
  readonly #inodes = new Map<string, number>();
  /** Inodes that existed before recording began, with their path then (their bytes come from the snapshot). */
  readonly preexisting = new Map<number, string>();
  /** Open descriptors of wrapped handles under the root, for the synchronous calls that take an fd. */
  readonly #fdTargets = new Map<number, { dir: string } | { inode: number; append: number }>();

  /** Starts logging operations under `root` (an absolute, real path). */
  start(root: string): void {
    this.#root = root;
  }

  stop(): void {
    this.#root = undefined;
  }

  mark(m: { db?: number; ack?: string }): void {
    if (this.#root !== undefined) this.ops.push({ op: 'mark', ...m });
  }

  /** The path relative to the root, or undefined when not recording or outside it. */
  #rel(path: unknown): string | undefined {
    if (this.#root === undefined || typeof path !== 'string') return undefined;
    const rel = relative(this.#root, path);
    if (rel === '' || rel.startsWith('..')) return rel === '' ? '' : undefined;
    return rel.split(sep).join('/');
  }

  #inodeOf(rel: string): number {
    let inode = this.#inodes.get(rel);
    if (inode === undefined) {
      inode = this.#nextInode++;
      this.#inodes.set(rel, inode);
      this.preexisting.set(inode, rel);
    }
    return inode;
  }

  /** The node:fs/promises replacement to hand to t.mockImport. */
  fs(): typeof realFs {
    const unmodelled = (name: string) => async (...args: unknown[]): Promise<never> => {
      throw new Error(`fs-recorder: ${name}(${String(args[0])}) is not modelled by the crash-state test`);
    };
    const guard = <A extends unknown[], R>(name: string, real: (...a: A) => Promise<R>) => (...args: A): Promise<R> =>
      this.#rel(args[0]) === undefined ? real(...args) : (unmodelled(name)(...args) as Promise<R>);
    return {
      ...realFs,
      open: (path: Parameters<typeof realFs.open>[0], flags?: string | number, mode?: number) => this.#open(path, flags, mode),
      rename: async (from: string, to: string) => {
        await realFs.rename(from, to);
        this.#renamed(from, to);
      },
      link: async (from: string, to: string) => {
        await realFs.link(from, to);
        const [f, t] = [this.#rel(from), this.#rel(to)];
        if (f === undefined || t === undefined) return;
        this.#inodes.set(t, this.#inodeOf(f));
        this.ops.push({ op: 'link', from: f, to: t });
      },
      unlink: async (path: string) => {
        await realFs.unlink(path);
        const rel = this.#rel(path);
        if (rel === undefined) return;
        this.#inodes.delete(rel);
        this.ops.push({ op: 'unlink', path: rel });
      },
      mkdir: async (path: string, opts?: unknown) => {
        const rel = this.#rel(path);
        // A recursive mkdir is logged as one mkdir per folder it creates, outermost first.
        const missing: string[] = [];
        if (rel !== undefined) {
          const parts = rel.split('/');
          for (let i = 1; i <= parts.length; i++) {
            const sub = parts.slice(0, i).join('/');
            if (!(await realFs.lstat(`${this.#root!}/${sub}`).then(() => true, () => false))) missing.push(sub);
          }
        }
        const made = await realFs.mkdir(path, opts as Parameters<typeof realFs.mkdir>[1]);
        for (const dir of missing) this.ops.push({ op: 'mkdir', path: dir });
        return made;
      },
      rmdir: async (path: string) => {
        await realFs.rmdir(path);
        const rel = this.#rel(path);
        if (rel !== undefined) this.ops.push({ op: 'rmdir', path: rel });
      },
      rm: guard('rm', realFs.rm),
      copyFile: guard('copyFile', realFs.copyFile),
      writeFile: guard('writeFile', realFs.writeFile),
      appendFile: guard('appendFile', realFs.appendFile),
      truncate: guard('truncate', realFs.truncate),
      chmod: guard('chmod', realFs.chmod),
      utimes: guard('utimes', realFs.utimes),
      symlink: guard('symlink', realFs.symlink),
    } as typeof realFs;
  }

  /**
   * The node:fs replacement to hand to t.mockImport: the synchronous calls the server makes on files under the
   * root are logged like their promise forms (writeSync and futimesSync on a wrapped handle's fd, renameSync);
   * any other synchronous call that would change the tree there throws, as in fs().
   */
  syncFs(): typeof realFsSync {
    const refuse = <A extends unknown[], R>(name: string, real: (...a: A) => R) => (...args: A): R => {
      if (this.#rel(args[0]) !== undefined) throw new Error(`fs-recorder: ${name}(${String(args[0])}) is not modelled by the crash-state test`);
      return real(...args);
    };
    const fileTarget = (fd: number, name: string): { inode: number; append: number } | undefined => {
      if (this.#root === undefined) return undefined;
      const target = this.#fdTargets.get(fd);
      if (target !== undefined && 'dir' in target) throw new Error(`fs-recorder: ${name} on a folder`);
      return target;
    };
    return {
      ...realFsSync,
      writeSync: ((fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null) => {
        const target = fileTarget(fd, 'writeSync');
        if (typeof buffer === 'string') {
          if (target !== undefined) throw new Error('fs-recorder: writeSync of a string is not modelled');
          return (realFsSync.writeSync as (...a: unknown[]) => number)(fd, buffer, offset, length, position);
        }
        const from = offset ?? 0;
        const written = realFsSync.writeSync(fd, buffer, from, length ?? buffer.length - from, position);
        if (target !== undefined) {
          const at = typeof position === 'number' ? position : target.append;
          this.ops.push({ op: 'write', inode: target.inode, data: Buffer.from(buffer.subarray(from, from + written)), position: at });
          if (typeof position !== 'number') target.append += written;
        }
        return written;
      }) as typeof realFsSync.writeSync,
      futimesSync: (fd: number, atime: realFsSync.TimeLike, mtime: realFsSync.TimeLike) => {
        const target = fileTarget(fd, 'futimesSync');
        realFsSync.futimesSync(fd, atime, mtime);
        if (target !== undefined) this.ops.push({ op: 'utimes', inode: target.inode, atime, mtime });
      },
      renameSync: (from: realFsSync.PathLike, to: realFsSync.PathLike) => {
        realFsSync.renameSync(from, to);
        this.#renamed(from, to);
      },
      openSync: refuse('openSync', realFsSync.openSync),
      mkdirSync: refuse('mkdirSync', realFsSync.mkdirSync),
      rmdirSync: refuse('rmdirSync', realFsSync.rmdirSync),
      rmSync: refuse('rmSync', realFsSync.rmSync),
      unlinkSync: refuse('unlinkSync', realFsSync.unlinkSync),
      linkSync: refuse('linkSync', realFsSync.linkSync),
      symlinkSync: refuse('symlinkSync', realFsSync.symlinkSync),
      copyFileSync: refuse('copyFileSync', realFsSync.copyFileSync),
      writeFileSync: refuse('writeFileSync', realFsSync.writeFileSync),
      appendFileSync: refuse('appendFileSync', realFsSync.appendFileSync),
      truncateSync: refuse('truncateSync', realFsSync.truncateSync),
      chmodSync: refuse('chmodSync', realFsSync.chmodSync),
      utimesSync: refuse('utimesSync', realFsSync.utimesSync),
    } as typeof realFsSync;
  }

  #renamed(from: unknown, to: unknown): void {
    const [f, t] = [this.#rel(from), this.#rel(to)];
    if (f === undefined || t === undefined) return;
    const inode = this.#inodes.get(f);
    this.#inodes.delete(f);
    if (inode !== undefined) this.#inodes.set(t, inode);
    else this.#inodes.delete(t);
    this.ops.push({ op: 'rename', from: f, to: t });
  }

  async #open(path: Parameters<typeof realFs.open>[0], flags?: string | number, mode?: number): Promise<FileHandle> {
    const fh = await realFs.open(path, flags, mode);
    const rel = this.#rel(path);
    if (rel === undefined) return fh;
    const f = typeof flags === 'number' ? flags : constants.O_RDONLY;
    if (typeof flags === 'string' && flags !== 'r') throw new Error(`fs-recorder: open(${rel}, '${flags}') is not modelled`);
    if (f & constants.O_DIRECTORY) return this.#wrap(fh, { dir: rel });
    if (f & constants.O_CREAT) {
      if (!(f & constants.O_EXCL)) throw new Error(`fs-recorder: open(${rel}) with O_CREAT but not O_EXCL is not modelled`);
      const inode = this.#nextInode++;
      this.#inodes.set(rel, inode);
      this.ops.push({ op: 'create', path: rel, inode });
      return this.#wrap(fh, { inode, append: 0 });
    }
    return this.#wrap(fh, { inode: this.#inodeOf(rel), append: 0 });
  }

  /** A FileHandle whose changing methods are logged; everything else goes to the real handle. */
  #wrap(fh: FileHandle, target: { dir: string } | { inode: number; append: number }): FileHandle {
    const ops = this.ops;
    const fd = fh.fd;
    this.#fdTargets.set(fd, target);
    const logged: Record<string, (...args: never[]) => Promise<unknown>> = {
      close: async () => {
        if (this.#fdTargets.get(fd) === target) this.#fdTargets.delete(fd);
        await fh.close();
      },
      sync: async () => {
        await fh.sync();
        ops.push('dir' in target ? { op: 'fsync-dir', path: target.dir } : { op: 'fsync-file', inode: target.inode });
      },
      datasync: async () => {
        if ('dir' in target) throw new Error('fs-recorder: datasync of a folder');
        await fh.datasync();
        ops.push({ op: 'datasync-file', inode: target.inode });
      },
      write: async (buffer: Uint8Array, offset = 0, length?: number, position?: number | null) => {
        if ('dir' in target) throw new Error('fs-recorder: write to a folder');
        const len = length ?? buffer.length - offset;
        const result = await fh.write(buffer, offset, len, position);
        const at = typeof position === 'number' ? position : target.append;
        ops.push({ op: 'write', inode: target.inode, data: Buffer.from(buffer.subarray(offset, offset + result.bytesWritten)), position: at });
        if (typeof position !== 'number') target.append += result.bytesWritten;
        return result;
      },
      chmod: async (mode: number) => {
        await fh.chmod(mode);
        if ('inode' in target) ops.push({ op: 'chmod', inode: target.inode, mode });
      },
      utimes: async (atime: unknown, mtime: unknown) => {
        await fh.utimes(atime as string, mtime as string);
        if ('inode' in target) ops.push({ op: 'utimes', inode: target.inode, atime, mtime });
      },
      writev: async () => {
        throw new Error('fs-recorder: writev is not modelled');
      },
      truncate: async () => {
        throw new Error('fs-recorder: truncate is not modelled');
      },
      writeFile: async () => {
        throw new Error('fs-recorder: FileHandle.writeFile is not modelled');
      },
    };
    return new Proxy(fh, {
      get(real, prop) {
        if (typeof prop === 'string' && prop in logged) return logged[prop];
        const value = Reflect.get(real, prop, real) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
      },
    });
  }
}
