/**
 * Keeps version objects safe between the moment they are stored and the moment a row references them, and
 * while anyone reads them. Pins (in memory, counted per hash) mark objects in use: a write that just kept
 * an object it has not recorded yet, a restore or a version download streaming one. Pruning removes an
 * object only under that hash's lock, when no row references it and nothing pins it; storing one takes the
 * same lock, so a prune never unlinks an object a write has just found present.
 */
import type { ManifestEntry } from '@deltabox/protocol';
import { PathLock } from '../path-lock.js';
import type { KeptObject, ReadHandle, Storage } from '../storage/storage.js';
import { StorageError } from '../storage/storage-error.js';
import type { VersionTable } from '../state/version-table.js';

/** Objects kept for one write: `release` after the row is recorded, `rollback` when the write failed. */
export interface KeptSet {
  /** Kept object per path. */
  readonly objects: Map<string, KeptObject>;
  release(): void;
  /** Removes objects this write created that no row references, then releases. */
  rollback(): Promise<void>;
}

export class VersionKeeper {
  readonly #pins = new Map<string, number>();
  readonly #objectLock = new PathLock();

  constructor(
    readonly storage: Storage,
    readonly table: VersionTable,
  ) {}

  /** Pins `hash` until the returned function is called (idempotent). */
  pin(hash: string): () => void {
    this.#pins.set(hash, (this.#pins.get(hash) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.#pins.get(hash) ?? 1) - 1;
      if (n > 0) this.#pins.set(hash, n);
      else this.#pins.delete(hash);
    };
  }

  isPinned(hash: string): boolean {
    return this.#pins.has(hash);
  }

  /**
   * Keeps each file of `entries` (current index entries) as a version object, pinned. All at once: a batch
   * that replaces 200 files then waits for their links and their folders' fsyncs together (DirSyncer shares a
   * folder's), not for 200 fsyncs one after another. If any fails, the objects this call created are removed
   * once every one has settled, and the first error is thrown.
   */
  async keep(entries: ManifestEntry[]): Promise<KeptSet> {
    const objects = new Map<string, KeptObject>();
    const unpins: Array<() => void> = [];
    const release = (): void => unpins.forEach((u) => u());
    const rollback = async (): Promise<void> => {
      for (const kept of objects.values()) {
        if (kept.created) await this.removeIfUnused(kept.hash, 1);
      }
      release();
    };
    const keepOne = async (e: ManifestEntry & { hash: string }): Promise<void> => {
      const expected = { hash: e.hash, size: e.size, mtimeMs: e.mtimeMs };
      unpins.push(this.pin(e.hash));
      const kept = await this.#objectLock.with([e.hash], () => this.storage.keepVersion(e.path, expected)).catch((err: unknown) => {
        // Gone from disk behind the server's back (reconcile will journal it): nothing left to keep.
        if (err instanceof StorageError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      });
      if (!kept) return;
      if (kept.hash !== e.hash) unpins.push(this.pin(kept.hash)); // edited out of band: stored by its real hash
      objects.set(e.path, kept);
    };
    const files = entries.filter((e): e is ManifestEntry & { hash: string } => e.type === 'file' && e.hash !== undefined);
    const settled = await Promise.allSettled(files.map(keepOne));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await rollback();
      throw failed.reason;
    }
    return { objects, release, rollback };
  }

  /**
   * Pins the object of `hash` if the store holds it (checked under the hash's lock, so a prune cannot remove
   * it in between): the caller may then record a row for it and unpin. Undefined when there is no object.
   */
  async pinIfStored(hash: string): Promise<(() => void) | undefined> {
    return this.#objectLock.with([hash], async () => {
      const unpin = this.pin(hash);
      try {
        await (await this.storage.openVersion(hash)).close();
        return unpin;
      } catch (err) {
        unpin();
        if (err instanceof StorageError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      }
    });
  }

  /**
   * Removes the object of `hash` when no row references it and at most `ownPins` pins (the caller's) hold it.
   * @returns whether it was removed
   */
  async removeIfUnused(hash: string, ownPins = 0): Promise<boolean> {
    return this.#objectLock.with([hash], async () => {
      if ((this.#pins.get(hash) ?? 0) > ownPins || this.table.isReferenced(hash)) return false;
      await this.storage.removeVersion(hash);
      return true;
    });
  }

  /** Opens a version object, pinned until the handle is closed or its stream ends. */
  async open(hash: string): Promise<ReadHandle> {
    const unpin = this.pin(hash);
    try {
      const handle = await this.storage.openVersion(hash);
      return pinnedHandle(handle, unpin);
    } catch (err) {
      unpin();
      throw err;
    }
  }
}

/** Wraps a handle so that closing it, or the end of its stream, releases the pin. */
function pinnedHandle(handle: ReadHandle, unpin: () => void): ReadHandle {
  return {
    size: handle.size,
    mtimeMs: handle.mtimeMs,
    executable: handle.executable,
    read: (offset, length) => handle.read(offset, length),
    ...(handle.readSync ? { readSync: (offset: number, length: number) => handle.readSync!(offset, length) } : {}),
    stream(start, end) {
      const s = handle.stream(start, end);
      s.once('close', unpin);
      return s;
    },
    async close() {
      unpin();
      await handle.close();
    },
  };
}
