/**
 * Restores: a file to a past version (by id or as of a time), optionally to a new path, and a folder as of
 * a time. A restore is a new write through Mirror.commit: a new revision in the journal that every device
 * hears of, and the content it replaces is versioned in turn. The version object is pinned while it is
 * read, so pruning cannot remove it mid-restore.
 */
import type { ManifestEntry, MoveRequest, RestoreResponse } from '@deltabox/protocol';
import { ApiError, toApiError } from '../api-error.js';
import type { Mirror, WriteOptions } from '../mirror.js';
import type { ReadHandle } from '../storage/storage.js';
import type { StoredVersion } from '../state/version-table.js';

/** Which version: exactly one of the two. */
export type VersionSelector = { versionId: number } | { at: number };

/** What a restore writes: a version's bytes and metadata. */
interface Source {
  hash: string;
  mtimeMs: number;
  executable: boolean;
  open: () => Promise<ReadHandle>;
}

function fromVersion(mirror: Mirror, v: StoredVersion): Source {
  return { hash: v.hash, mtimeMs: v.mtimeMs, executable: v.executable, open: () => mirror.keeper.open(v.hash) };
}

/** @throws ApiError VERSION_NOT_FOUND */
function sourceOf(mirror: Mirror, path: string, sel: VersionSelector): Source {
  if ('versionId' in sel) {
    const v = mirror.versions.get(sel.versionId);
    // A version of this path, or of the file now here before it was moved here (its history follows it).
    if (!v || !mirror.versions.inHistoryOf(path, v.id)) throw new ApiError('VERSION_NOT_FOUND', `'${path}' has no version ${sel.versionId}`);
    return fromVersion(mirror, v);
  }
  const past = mirror.versions.asOf(path, sel.at);
  if (past) return fromVersion(mirror, past);
  const current = mirror.index.get(path);
  if (current?.type === 'file' && current.hash && mirror.versions.sinceOf(current.revision) <= sel.at) {
    const hash = current.hash;
    const open = async (): Promise<ReadHandle> => {
      const { handle, entry } = await mirror.openFile(path);
      if (entry.hash === hash) return handle;
      await handle.close();
      throw new ApiError('BASE_MISMATCH', `'${path}' changed while the restore started; try again`, entry.hash ? { currentHash: entry.hash } : {});
    };
    return { hash, mtimeMs: current.mtimeMs, executable: current.executable ?? false, open };
  }
  throw new ApiError('VERSION_NOT_FOUND', `'${path}' has no version as of ${new Date(sel.at).toISOString()}`);
}

async function write(mirror: Mirror, target: string, src: Source, device: string | undefined, extra: WriteOptions = {}): Promise<ManifestEntry> {
  const now = mirror.index.get(target);
  if (now?.type === 'file' && now.hash === src.hash) return now; // already that content: nothing to write
  const handle = await src.open();
  const staged = await mirror.storage.stage();
  try {
    for await (const chunk of handle.stream()) await staged.write(chunk as Uint8Array);
    const opts = { ...extra, mtimeMs: src.mtimeMs, executable: src.executable, expectedHash: src.hash, ...(device === undefined ? {} : { device }) };
    return await mirror.commit(target, staged, opts);
  } finally {
    await staged.discard();
  }
}

/**
 * Restores `path` to the selected version at `to` (default `path`).
 * @throws ApiError VERSION_NOT_FOUND, TYPE_CONFLICT (a folder at the target), HASH_MISMATCH (a damaged object)
 */
export async function restoreFile(mirror: Mirror, path: string, sel: VersionSelector, to: string | undefined, device?: string): Promise<ManifestEntry> {
  return write(mirror, to ?? path, sourceOf(mirror, path, sel), device);
}

/**
 * Restores every file under folder `dir` ('' for all) that existed at `at` and differs now. Files created
 * since are left alone (a restore never deletes). Each file succeeds or fails on its own.
 */
export async function restoreFolder(mirror: Mirror, dir: string, at: number, device?: string): Promise<RestoreResponse> {
  const restored: ManifestEntry[] = [];
  const failed: NonNullable<RestoreResponse['failed']> = [];
  for (const v of mirror.versions.asOfUnder(dir, at)) {
    try {
      const before = mirror.index.get(v.path);
      const entry = await write(mirror, v.path, fromVersion(mirror, v), device);
      if (before?.revision !== entry.revision) restored.push(entry);
    } catch (err) {
      failed.push({ path: v.path, error: toApiError(err).toBody() });
    }
  }
  return failed.length ? { restored, failed } : { restored };
}

/**
 * A move from a path deleted on the server (MoveRequest.revive): a device moved `from` to `to` (a folder move,
 * say) while `from` was deleted here. Move beats delete: the deleted file comes back at `to` from its last
 * version, under its own file id (its history follows it), journaled as a put. Only once: when several devices
 * moved the same file before hearing of each other, the first one's `to` wins and the others get
 * MOVED_ELSEWHERE with the file where it is now, so they rename their copies there instead of each sending its
 * own (docs/SYNC.md, `two-way-folder-moved-twice`). Revives of one path run one at a time. `since`:
 * x-deltabox-since, checked for `to` as for any write.
 * @throws ApiError BAD_REQUEST (no ifMatch), BASE_MISMATCH (`from` is on the server again, or `to` holds other
 * content), NOT_FOUND (the path's last version is not a delete of that content: never there, pruned, edited
 * first), MOVED_ELSEWHERE, PARENT_CHANGED
 */
export async function reviveFile(mirror: Mirror, req: MoveRequest, since: number | undefined, device?: string): Promise<ManifestEntry> {
  const { from, ifMatch } = req;
  if (ifMatch === undefined) throw new ApiError('BAD_REQUEST', 'a revive needs ifMatch: the content the device moved');
  const folder = folderMove(from, req.to);
  // A key no path can have (paths never hold NUL): taken before the target's own lock, and never the other way.
  // A file of a moved folder takes the folder's key, so the revives of one folder's files run one at a time and
  // the second mover sees where the first one's files went.
  return mirror.lock.with([`\0revive\0${folder?.from ?? from}`], async () => {
    const current = mirror.index.get(from);
    if (current !== undefined) {
      throw new ApiError('BASE_MISMATCH', `'${from}' is on the server again: nothing to bring back`, current.hash === undefined ? { current } : { current, currentHash: current.hash });
    }
    const gone = mirror.versions.deletedAt(from);
    if (gone === undefined || gone.version.hash !== ifMatch) {
      throw new ApiError('NOT_FOUND', `'${from}' was not deleted with that content here (never there, edited before its delete, or its version was pruned)`);
    }
    // Another device brought this folder's files back elsewhere first (files deleted with this one, by the same
    // folder delete): this file follows them there (the folder comes back once, whole), and the device hears
    // MOVED_ELSEWHERE as for a file revived elsewhere.
    const elsewhere = folder === undefined ? undefined : revivedFolderAt(mirror, folder.from, gone.version.timeMs);
    const to = elsewhere !== undefined && elsewhere !== folder!.to ? `${elsewhere}/${from.slice(folder!.from.length + 1)}` : req.to;
    const extra: WriteOptions = { ifNoneMatch: true, ...(since === undefined ? {} : { since }) };
    if (gone.fileId !== null) {
      const alive = mirror.index.fileWithId(gone.fileId);
      if (alive?.path === req.to) return alive; // the retry of a revive whose answer was lost
      if (alive !== undefined) throw new ApiError('MOVED_ELSEWHERE', `'${from}' was brought back at '${alive.path}' by another device`, { current: alive });
      extra.fileId = gone.fileId;
    }
    const entry = await write(mirror, to, fromVersion(mirror, gone.version), device, extra);
    if (to !== req.to) throw new ApiError('MOVED_ELSEWHERE', `'${from}' was brought back at '${to}', where another device brought its folder back`, { current: entry });
    return entry;
  });
}

/**
 * The folder move a revive of `from` to `to` is part of: the longest common tail of path segments removed
 * from both ('d3/sub/c.txt' -> 'y/sub/c.txt' is 'd3' -> 'y'); undefined for a plain file move or rename.
 */
function folderMove(from: string, to: string): { from: string; to: string } | undefined {
  const a = from.split('/');
  const b = to.split('/');
  let tail = 0;
  while (tail < a.length - 1 && tail < b.length - 1 && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  if (tail === 0) return undefined;
  return { from: a.slice(0, a.length - tail).join('/'), to: b.slice(0, b.length - tail).join('/') };
}

/**
 * Where another revive brought deleted folder `dir`'s files back: the folder of the first of the files deleted
 * under it at `deletedAtMs` (one folder delete records all its files at one time) found alive at
 * `<folder>/<its path below dir>`; undefined when none is.
 */
function revivedFolderAt(mirror: Mirror, dir: string, deletedAtMs: number): string | undefined {
  for (const gone of mirror.versions.deletedFilesUnder(dir, deletedAtMs)) {
    const alive = mirror.index.fileWithId(gone.fileId);
    const below = gone.path.slice(dir.length + 1);
    if (alive !== undefined && alive.path.endsWith(`/${below}`) && alive.path.length > below.length + 1) {
      return alive.path.slice(0, alive.path.length - below.length - 1);
    }
  }
  return undefined;
}
