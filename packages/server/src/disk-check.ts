/**
 * Keeps the index true to the folder when someone edits, deletes or adds files behind the server's back:
 * a stat comparison of one path with its index row and, when they differ, a re-index of that path (hash
 * the file, journal the change so clients hear of it). Callers hold the path lock; this module takes none.
 * The folder-wide pass that uses it is reconcile.ts. When the content the index held (of a file, or of the
 * files under a folder that is gone) is in the version store (a crash between keeping it and recording the
 * change it was kept for, DESIGN.md §Version history), the change records it as a past version instead of
 * leaving the object to the orphan sweep.
 */
import { createHash } from 'node:crypto';
import type { ManifestEntry } from '@deltabox/protocol';
import type { IndexedEntry } from './state/file-index.js';
import type { FolderMemo, Storage, StorageEntry } from './storage/storage.js';
import type { Mirror, Step } from './mirror.js';
import { ancestorsOf } from './path-lock.js';

/** How a path on disk compares with its index row. */
export type DiskComparison = 'same' | 'changed' | 'maybe-same' | 'adopt';

/**
 * `same`: nothing to do. `adopt`: a row written before stat identities were kept, whose size, mtime and
 * mode agree (what older servers trusted): record the identity, no hash. `maybe-same`: size, mtime and
 * mode agree but the identity moved: hash to be sure. `changed`: re-index.
 */
export function compareWithDisk(indexed: IndexedEntry | undefined, disk: StorageEntry | undefined): DiskComparison {
  if (!indexed || !disk) return indexed === disk ? 'same' : 'changed';
  const e = indexed.entry;
  if (e.type !== disk.type) return 'changed';
  if (disk.type === 'dir') return 'same';
  if (e.size !== disk.size || e.executable !== disk.executable) return 'changed';
  if (indexed.statToken !== undefined && indexed.statToken === disk.statToken) return 'same';
  if (e.mtimeMs !== disk.mtimeMs) return 'changed';
  if (indexed.statToken === undefined) return disk.statToken === undefined ? 'same' : 'adopt';
  return 'maybe-same';
}

/** SHA-256 of the file at `path`, streamed. @throws StorageError NOT_FOUND when it vanished meanwhile */
export async function hashStoredFile(storage: Storage, path: string): Promise<string> {
  const handle = await storage.open(path);
  const hash = createHash('sha256');
  for await (const chunk of handle.stream()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function dirRow(e: StorageEntry): Omit<ManifestEntry, 'revision'> {
  return { path: e.path, type: 'dir', size: 0, mtimeMs: e.mtimeMs };
}

/**
 * The past versions a re-index can record for `olds` (the files the index held: one replaced or deleted file,
 * or every file under a folder that is gone): those whose objects the store holds, pinned until `release`.
 * Without it, a write or removal killed after its rename or unlink and before its SQLite commit would lose
 * the versions it had kept (the startup sweep removes objects without rows).
 */
async function keptAlready(mirror: Mirror, olds: ManifestEntry[], deleted: boolean): Promise<{ past?: Step['past']; release: () => void }> {
  const objects = new Map<string, { hash: string; size: number; created: boolean }>();
  const unpins: Array<() => void> = [];
  const release = (): void => unpins.forEach((u) => u());
  try {
    for (const old of olds) {
      if (old.type !== 'file' || old.hash === undefined) continue;
      const unpin = await mirror.keeper.pinIfStored(old.hash);
      if (!unpin) continue;
      unpins.push(unpin);
      objects.set(old.path, { hash: old.hash, size: old.size, created: false });
    }
  } catch (err) {
    release();
    throw err;
  }
  if (objects.size === 0) return { release };
  const kept = { objects, release, rollback: async () => release() };
  return { past: { kept, old: olds.filter((o) => objects.has(o.path)), deleted }, release };
}

/** mkdir steps for ancestors of `path` that exist on disk but not in the index (a folder added by hand). */
async function missingAncestorSteps(mirror: Mirror, path: string): Promise<Step[]> {
  const steps: Step[] = [];
  for (const dir of ancestorsOf(path)) {
    if (mirror.index.get(dir)) continue;
    const onDisk = await mirror.storage.stat(dir);
    if (onDisk?.type === 'dir') steps.push({ change: { op: 'mkdir', path: dir }, upsert: dirRow(onDisk) });
  }
  return steps;
}

/**
 * Makes the index row of `path` match the disk and returns it (undefined: nothing there). Unchanged paths
 * cost one stat walk; a changed file is hashed and journaled (`put`, `delete`, `mkdir`, `rmdir`), so clients
 * following the journal hear of it. Call with the path locked (`folders`: storage.ts FolderMemo, when the
 * caller also holds its folders for a group of paths).
 * @throws StorageError SYMLINK when a symlink or special file is on the way (unless `symlinkAsGone`)
 */
export async function refreshPath(mirror: Mirror, path: string, opts: { symlinkAsGone?: boolean; folders?: FolderMemo } = {}): Promise<IndexedEntry | undefined> {
  const indexed = mirror.index.getIndexed(path);
  const disk = await mirror.storage.stat(path, opts.folders).catch((err: { code?: string }) => {
    // A symlink or special file where the entry was: a request is refused (BAD_PATH, nothing followed);
    // the verification pass drops it from the index, as the walk never lists such things.
    if (err.code === 'SYMLINK' && opts.symlinkAsGone === true) return undefined;
    if (err.code === 'TYPE_CONFLICT') return undefined; // a file where a parent folder was: the path is gone
    throw err;
  });
  const comparison = compareWithDisk(indexed, disk);
  if (comparison === 'same') return indexed;
  if (comparison === 'adopt') {
    mirror.index.setStatToken(path, disk!.statToken); // upgrading from a server that kept none: no re-hash of everything
    return { entry: indexed!.entry, statToken: disk!.statToken! };
  }
  const gone: Step[] = indexed ? [{ change: { op: indexed.entry.type === 'dir' ? 'rmdir' : 'delete', path }, removeTree: path }] : [];
  if (!disk) {
    const old = indexed?.entry;
    const olds = old === undefined ? [] : old.type === 'dir' ? mirror.versions.filesUnder(path) : [old];
    const { past, release } = await keptAlready(mirror, olds, true);
    try {
      mirror.record(gone.map((step) => ({ ...step, past })));
    } finally {
      release();
    }
    mirror.index.pruneSignatures();
    return undefined;
  }
  if (disk.type === 'dir') {
    mirror.record([...(indexed ? gone : await missingAncestorSteps(mirror, path)), { change: { op: 'mkdir', path }, upsert: dirRow(disk) }]);
    return mirror.index.getIndexed(path);
  }
  const hash = await hashStoredFile(mirror.storage, path).catch((err: { code?: string }) => {
    if (err.code === 'NOT_FOUND') return undefined; // deleted while we looked: the next check records it
    throw err;
  });
  if (hash === undefined) return refreshPath(mirror, path, opts);
  const old = indexed?.entry;
  if (comparison === 'maybe-same' && old?.hash === hash) {
    mirror.index.setStatToken(path, disk.statToken); // touched, not changed: nothing for clients to hear
    return { entry: old, ...(disk.statToken === undefined ? {} : { statToken: disk.statToken }) };
  }
  const before = old?.type === 'dir' ? gone : indexed ? [] : await missingAncestorSteps(mirror, path);
  const row = { path, type: 'file' as const, size: disk.size, mtimeMs: disk.mtimeMs, hash, executable: disk.executable };
  const { past, release } = await keptAlready(mirror, old === undefined || old.hash === hash ? [] : [old], false);
  try {
    mirror.record([...before, { change: { op: 'put', path, hash, size: disk.size }, upsert: { ...row, statToken: disk.statToken }, past }]);
  } finally {
    release();
  }
  if (old?.hash !== undefined) mirror.index.pruneSignatures();
  return mirror.index.getIndexed(path);
}
