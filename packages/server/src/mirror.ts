/**
 * The mirror: every operation of the API as one method that checks preconditions against the index,
 * does the I/O through Storage and records index + journal in one SQLite transaction, holding the
 * per-path lock only for the check-and-commit step (uploads stream into a staged file outside it). Each
 * step also holds its ancestor folders shared, so a recursive folder removal (exclusive on the folder) never
 * interleaves with a commit below it.
 * Every replace or delete keeps the previous version first (history/version-keeper.ts): the object is
 * stored before the file changes, and its versions row is written in the same transaction as the change.
 * HTTP-free: routes translate requests into these calls.
 */
import type { ManifestEntry, MoveRequest } from '@deltabox/protocol';
import type { Db } from './state/database.js';
import type { FileIndex, IndexRow } from './state/file-index.js';
import type { Journal, NewChange } from './state/journal.js';
import type { ReadHandle, StagedFile, Storage, StorageEntry } from './storage/storage.js';
import type { ServerLimits } from './limits.js';
import { ancestorsOf, PathLock } from './path-lock.js';
import { ApiError } from './api-error.js';
import { VersionTable } from './state/version-table.js';
import { noteRecorded } from './recorded.js';
import { VersionKeeper, type KeptSet } from './history/version-keeper.js';
import { refreshPath } from './disk-check.js';
import { baseMismatch, checkBase, checkParents, checkPlace, sameMetadata, type Preconditions } from './preconditions.js';

/** A write's metadata and preconditions (If-Match, If-None-Match, x-deltabox-since: preconditions.ts). */
export interface WriteOptions extends Preconditions {
  mtimeMs?: number;
  /** Absent: keep the current file's bit (false for a new file). */
  executable?: boolean;
  /** Declared content hash of the result (x-deltabox-content-hash); verified before commit. */
  expectedHash?: string;
  /** Name of the token that writes (recorded as the version's device). */
  device?: string;
  /** A new file only: the id it takes (a revive brings a deleted file back under its own id). */
  fileId?: number;
}

/** One index change and its journal record, applied in one transaction. */
export type Step = {
  change: NewChange;
  upsert?: Omit<IndexRow, 'revision'>;
  removeTree?: string;
  moveTree?: { from: string; to: string };
  /** Versions this step ends: recorded as past (their objects are already kept). */
  past?: { kept: KeptSet; old: ManifestEntry[]; deleted: boolean };
  /** Writer of the upserted file. */
  device?: string;
};

/** Nothing kept (no previous version). */
export const NOTHING_KEPT: KeptSet = { objects: new Map(), release: () => {}, rollback: async () => {} };

export function toIndexEntry(e: StorageEntry, hash?: string): Omit<IndexRow, 'revision'> {
  const entry: Omit<IndexRow, 'revision'> = { path: e.path, type: e.type, size: e.size, mtimeMs: e.mtimeMs };
  if (e.type === 'file') {
    entry.hash = hash;
    entry.executable = e.executable;
    if (e.statToken !== undefined) entry.statToken = e.statToken;
  }
  return entry;
}

export const mkdirSteps = (dirs: StorageEntry[]): Step[] => dirs.map((d) => ({ change: { op: 'mkdir', path: d.path }, upsert: toIndexEntry(d) }));

/** The steps that record a committed file (and the folders its commit created); `replaced` is the version it ends. */
export function putSteps(
  hash: string, entry: StorageEntry, createdDirs: StorageEntry[], replaced: ManifestEntry | undefined, kept: KeptSet, device: string | undefined, fileId?: number,
): Step[] {
  const past = replaced ? { kept, old: [replaced], deleted: false } : undefined;
  const upsert = fileId === undefined ? toIndexEntry(entry, hash) : { ...toIndexEntry(entry, hash), fileId };
  const put: Step = { change: { op: 'put', path: entry.path, hash, size: entry.size }, upsert, past, device };
  return [...mkdirSteps(createdDirs), put];
}

export class Mirror {
  readonly lock = new PathLock();
  readonly versions: VersionTable;
  readonly keeper: VersionKeeper;
  /** The clock of journal and history times (tests set a fake one). */
  now: () => number = Date.now;
  /** Called after a change recorded past versions (the pruner listens). */
  onVersioned: () => void = () => {};

  constructor(
    readonly storage: Storage,
    readonly db: Db,
    readonly index: FileIndex,
    readonly journal: Journal,
    readonly limits: ServerLimits,
  ) {
    this.versions = new VersionTable(db);
    this.keeper = new VersionKeeper(storage, this.versions);
  }

  /** Keeps the previous versions of `old` files; the caller releases or rolls back the result. */
  async #keep(old: Array<ManifestEntry | undefined>): Promise<KeptSet> {
    const files = old.filter((e): e is ManifestEntry => e?.type === 'file');
    return files.length ? this.keeper.keep(files) : NOTHING_KEPT;
  }

  /** Runs `fn` with the kept versions, releasing them after, removing new unreferenced objects on failure. */
  async #withKept<T>(old: Array<ManifestEntry | undefined>, fn: (kept: KeptSet) => Promise<T>): Promise<T> {
    const kept = await this.#keep(old);
    try {
      const result = await fn(kept);
      kept.release();
      return result;
    } catch (err) {
      await kept.rollback();
      throw err;
    }
  }

  /**
   * Streams `body` into a staged file, then commits it at `path` if the preconditions still hold. When
   * `opts.expectedHash` says the body is the content already there (a retry after a lost answer), the body
   * is not read: the current entry is the answer. Callers drain what is left of the body.
   * @throws ApiError PAYLOAD_TOO_LARGE, HASH_MISMATCH, BASE_MISMATCH, PARENT_CHANGED, TYPE_CONFLICT; StorageError
   */
  async putFile(path: string, body: AsyncIterable<Uint8Array>, opts: WriteOptions, maxBytes = this.limits.maxFileBytes): Promise<ManifestEntry> {
    // Fail fast, before reading the body; the base only when the content is known to differ.
    const indexed = this.index.get(path);
    checkPlace(this.journal, path, indexed, opts);
    if (opts.expectedHash !== undefined) {
      if (indexed?.hash === opts.expectedHash) {
        const same = await this.unchangedEntry(path, opts.expectedHash, opts);
        if (same) return same;
      } else {
        checkBase(path, indexed, opts);
      }
    }
    const staged = await this.storage.stage();
    try {
      for await (const chunk of body) {
        if (staged.size + chunk.length > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `file is larger than ${maxBytes} bytes`);
        await staged.write(chunk);
      }
      return await this.commit(path, staged, opts);
    } finally {
      await staged.discard();
    }
  }

  /**
   * The current entry of `path` (checked against the disk under the lock) when a write of content `hash`
   * with `opts` would change nothing there: same content and same metadata. Undefined otherwise.
   * @throws ApiError TYPE_CONFLICT, PARENT_CHANGED
   */
  async unchangedEntry(path: string, hash: string, opts: WriteOptions): Promise<ManifestEntry | undefined> {
    return this.lock.with([path], async () => {
      const current = (await refreshPath(this, path))?.entry;
      checkPlace(this.journal, path, current, opts);
      return current?.hash === hash && sameMetadata(current, opts) ? current : undefined;
    }, { shared: ancestorsOf(path) });
  }

  /**
   * Verifies the staged bytes against `opts.expectedHash`, then, under the path lock, re-checks the
   * preconditions and makes them the current version. Bytes equal to the current content pass whatever the
   * base says (a retry after a lost answer): with the same metadata nothing is written or journaled; with
   * other metadata it is applied (a `put` of the same hash, no version kept). Always consumes `staged`.
   */
  async commit(path: string, staged: StagedFile, opts: WriteOptions): Promise<ManifestEntry> {
    const hash = staged.digest();
    try {
      if (opts.expectedHash !== undefined && opts.expectedHash !== hash) {
        throw new ApiError('HASH_MISMATCH', `content hash is ${hash}, expected ${opts.expectedHash}`);
      }
      return await this.lock.with([path], async () => {
        const current = (await refreshPath(this, path))?.entry;
        checkPlace(this.journal, path, current, opts);
        if (current?.hash === hash) {
          if (sameMetadata(current, opts)) return current;
        } else {
          checkBase(path, current, opts);
        }
        const executable = opts.executable ?? current?.executable ?? false;
        const meta = opts.mtimeMs === undefined ? { executable } : { executable, mtimeMs: opts.mtimeMs };
        // Same content again (an mtime or mode change): the bytes are not a past version.
        const replaced = current?.hash !== hash ? current : undefined;
        await this.#withKept([replaced], (kept) =>
          staged.commit(path, meta, (entry, createdDirs) => this.record(putSteps(hash, entry, createdDirs, replaced, kept, opts.device, current ? undefined : opts.fileId))),
        );
        if (current?.hash && current.hash !== hash) this.index.pruneSignatures();
        return this.index.get(path)!;
      }, { shared: ancestorsOf(path) });
    } finally {
      await staged.discard();
    }
  }

  /**
   * Checks `opts`' preconditions against the path's current entry without writing (a resumable upload
   * fails fast at creation; the commit checks again). Content equal to `opts.expectedHash` passes the base.
   * `current`: the path's entry when the caller has just read it (a group commit's refresh).
   * @throws TYPE_CONFLICT, PARENT_CHANGED, BASE_MISMATCH
   */
  checkWritable(path: string, opts: WriteOptions, current: ManifestEntry | undefined = this.index.get(path)): void {
    checkPlace(this.journal, path, current, opts);
    if (opts.expectedHash === undefined || current?.hash !== opts.expectedHash) checkBase(path, current, opts);
  }

  /**
   * Opens the current version with its index entry, consistent with each other and with the disk (a file
   * changed behind the server's back is re-indexed first). @throws NOT_FOUND, TYPE_CONFLICT
   */
  async openFile(path: string): Promise<{ handle: ReadHandle; entry: ManifestEntry }> {
    return this.lock.with([path], () => this.#openVerified(path), { shared: ancestorsOf(path) });
  }

  /**
   * Opens the basis of a PATCH after checking the place and If-Match against it (and it against the disk).
   * @throws BASE_MISMATCH (with the entry there now), PARENT_CHANGED, TYPE_CONFLICT
   */
  async openBasis(path: string, opts: WriteOptions & { ifMatch: string }): Promise<ReadHandle> {
    return this.lock.with([path], async () => {
      checkPlace(this.journal, path, this.index.get(path), opts);
      const opened = await this.#openVerified(path).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      });
      if (opened?.entry.hash === opts.ifMatch) return opened.handle;
      await opened?.handle.close();
      throw baseMismatch(path, opened?.entry, opts.ifMatch);
    }, { shared: ancestorsOf(path) });
  }

  /** Refreshes `path` from the disk under its lock (the verification pass); true when its index row changed. */
  async refresh(path: string): Promise<boolean> {
    return this.lock.with([path], async () => {
      const before = this.index.get(path)?.revision;
      await refreshPath(this, path, { symlinkAsGone: true });
      return this.index.get(path)?.revision !== before;
    }, { shared: ancestorsOf(path) });
  }

  /**
   * With the path locked: the verified entry and a handle on that very version. Should the file change
   * between the stat check and the open, the handle's own identity shows it and the check runs again.
   */
  async #openVerified(path: string): Promise<{ handle: ReadHandle; entry: ManifestEntry }> {
    for (let attempt = 1; ; attempt++) {
      const indexed = await refreshPath(this, path);
      if (!indexed) throw new ApiError('NOT_FOUND', `'${path}' does not exist`);
      if (indexed.entry.type !== 'file') throw new ApiError('TYPE_CONFLICT', `'${path}' is a folder`);
      const handle = await this.storage.open(path).catch((err: { code?: string }) => {
        if (err.code === 'NOT_FOUND') return undefined; // deleted just now: the next check records it
        throw err;
      });
      const same = handle && handle.size === indexed.entry.size && handle.statToken === indexed.statToken;
      if (handle && (same || attempt >= 3)) return { handle, entry: indexed.entry };
      await handle?.close();
    }
  }

  /** @throws NOT_FOUND, TYPE_CONFLICT, BASE_MISMATCH */
  async deleteFile(path: string, ifMatch?: string): Promise<number> {
    return this.lock.with([path], async () => {
      const current = (await refreshPath(this, path))?.entry;
      if (!current) throw new ApiError('NOT_FOUND', `'${path}' does not exist`);
      checkPlace(this.journal, path, current, {});
      checkBase(path, current, { ifMatch });
      const revision = await this.#withKept([current], async (kept) => {
        await this.storage.removeFile(path);
        return this.record([{ change: { op: 'delete', path, hash: current.hash }, removeTree: path, past: { kept, old: [current], deleted: true } }]);
      });
      this.index.pruneSignatures();
      return revision;
    }, { shared: ancestorsOf(path) });
  }

  /** `since`: x-deltabox-since (PARENT_CHANGED for folders on the way to `from` or `to`). @throws NOT_FOUND, BASE_MISMATCH, PARENT_CHANGED, ALREADY_EXISTS, TYPE_CONFLICT */
  async move(req: MoveRequest, since?: number): Promise<ManifestEntry> {
    const { from, to } = req;
    return this.lock.with([from, to], async () => {
      checkParents(this.journal, [from, to], since);
      const current = (await refreshPath(this, from))?.entry;
      await refreshPath(this, to);
      if (!current) throw new ApiError('NOT_FOUND', `'${from}' does not exist`);
      if (req.ifMatch !== undefined) {
        checkPlace(this.journal, from, current, {});
        checkBase(from, current, { ifMatch: req.ifMatch });
      }
      const target = req.overwrite === true && current.type === 'file' ? this.index.get(to) : undefined;
      await this.#withKept([target], async (kept) => {
        const { createdDirs } = await this.storage.move(from, to, { overwrite: req.overwrite === true });
        const past = target ? { kept, old: [target], deleted: false } : undefined;
        this.record([
          ...mkdirSteps(createdDirs),
          { change: { op: 'move', path: to, from, hash: current.hash, size: current.size }, removeTree: to, moveTree: { from, to }, past },
        ]);
      });
      return this.index.get(to)!;
    }, { shared: [...ancestorsOf(from), ...ancestorsOf(to)] });
  }

  /** mkdir -p; idempotent. `since`: x-deltabox-since. @throws TYPE_CONFLICT, PARENT_CHANGED */
  async makeDir(path: string, since?: number): Promise<ManifestEntry> {
    return this.lock.with([path], async () => {
      checkParents(this.journal, [path], since);
      const created = await this.storage.makeDir(path);
      if (created.length) this.record(mkdirSteps(created));
      const entry = this.index.get(path);
      if (entry) return entry;
      // On disk but not indexed (created out of band): index it now.
      const onDisk = (await this.storage.stat(path))!;
      this.record(mkdirSteps([onDisk]));
      return this.index.get(path)!;
    }, { shared: ancestorsOf(path) });
  }

  /** @throws NOT_FOUND, TYPE_CONFLICT, BAD_REQUEST (not empty and not recursive) */
  async removeDir(path: string, recursive: boolean): Promise<number> {
    return this.lock.with([path], async () => {
      const files = recursive ? this.versions.filesUnder(path) : [];
      const revision = await this.#withKept(files, async (kept) => {
        await this.storage.removeDir(path, { recursive });
        return this.record([{ change: { op: 'rmdir', path }, removeTree: path, past: { kept, old: files, deleted: true } }]);
      });
      this.index.pruneSignatures();
      return revision;
    }, { shared: ancestorsOf(path) });
  }

  /** Applies steps to index + journal in one transaction, wakes long-polls; returns the last revision. */
  record(steps: Step[]): number {
    let revision = 0;
    let versioned = false;
    const now = this.now();
    const appended: number[] = [];
    this.db.transaction(() => {
      appended.length = 0;
      for (const step of steps) {
        // A folder already recorded (made by a concurrent write, which recorded first) is not made twice.
        if (step.change.op === 'mkdir' && this.index.get(step.change.path)?.type === 'dir') continue;
        const target = step.moveTree?.to ?? (step.upsert ? step.upsert.path : undefined);
        if (target !== undefined) this.#recordParents(target, now, appended);
        if (step.past) versioned = this.#recordPast(step.past, now) || versioned;
        revision = this.journal.append(step.change, now);
        appended.push(revision);
        if (step.removeTree !== undefined) this.index.removeTree(step.removeTree);
        if (step.moveTree) this.index.moveTree(step.moveTree.from, step.moveTree.to, revision);
        if (step.upsert) {
          this.index.upsert({ ...step.upsert, revision });
          this.versions.setDevice(step.upsert.path, step.device);
        }
      }
    })();
    noteRecorded(appended);
    this.journal.notify();
    if (versioned) this.onVersioned();
    return revision;
  }

  /**
   * Records a `mkdir` for each folder above `path` that the index lacks, before the write into it. Writes under
   * one new folder run at once (their folders are only share-locked): the storage makes the folders for
   * whichever write gets there first, but another may record first, and its put then reached the journal
   * before the mkdir of its own folder. A device that applied that mkdir as "a folder replaces whatever was
   * at this path" dropped the file from its view for good (shared-load seed 1204: two devices lacked a file
   * the server held, both "up to date").
   */
  #recordParents(path: string, now: number, appended: number[]): void {
    for (const dir of ancestorsOf(path)) {
      if (this.index.get(dir)?.type === 'dir') continue;
      const revision = this.journal.append({ op: 'mkdir', path: dir }, now);
      appended.push(revision);
      this.index.upsert({ path: dir, type: 'dir', size: 0, mtimeMs: now, revision });
    }
  }

  /** Rows for the kept previous versions (a file without a kept object has no row: nothing to restore). */
  #recordPast(past: NonNullable<Step['past']>, now: number): boolean {
    let any = false;
    for (const old of past.old) {
      const kept = past.kept.objects.get(old.path);
      if (!kept) continue;
      this.versions.add(old, kept, now, past.deleted);
      any = true;
    }
    return any;
  }
}
